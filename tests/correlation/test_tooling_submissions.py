"""Issue 12's scenario: three DDoS campaigns linked by the tools they used, not their addresses.

Three analyst submissions, each with its own source addresses (no address, network
or AS in common):

* Bishkek 2009 names its bot "BlackEnergy" with one sample;
* Osh 2010 names "Black Energy" (another spelling of the family) with another sample;
* Talas 2011 names a different family, "DirtJumper", but carries Osh's sample.

Bishkek and Osh share only the family: a medium link naming it. Osh and Talas share
a sample hash: a strong link naming it. Bishkek and Talas share nothing and stay
apart. A GREEN reader never learns of the AMBER campaign through any of it.
"""

from __future__ import annotations

import json
from typing import Any

from test_scenario import campaign_id, pull

from steppe.access.partners import add_partner
from support.app import App

BISHKEK = "Bishkek ISP flood, January 2009"
OSH = "Osh ISP flood, March 2010"
TALAS = "Talas ISP flood, May 2011"
SAMPLE_BISHKEK = "a1" * 32
SAMPLE_SHARED = "b2" * 32
SAMPLE_TALAS = "c3" * 32


def report(
    name: str, tlp: str, first_seen: str, network: str, malware: dict[str, Any]
) -> dict[str, Any]:
    return {
        "tlp": tlp,
        "attack": {
            "kind": "ddos",
            "first_seen": first_seen,
        },
        "campaign": {"name": name},
        "malware": [malware],
        "observables": [
            {"type": "ipv4-addr", "value": f"{network}.{n}", "role": "source"} for n in (1, 2, 3)
        ],
    }


def submit_three(app: App, talas_tlp: str = "green") -> None:
    reports = [
        report(
            BISHKEK,
            "green",
            "2009-01-18T00:00:00Z",
            "192.0.2",
            {
                "name": "BlackEnergy",
                "is_family": True,
                "types": ["bot", "ddos"],
                "samples": [{"SHA-256": SAMPLE_BISHKEK}],
            },
        ),
        report(
            OSH,
            "green",
            "2010-03-02T00:00:00Z",
            "198.51.100",
            {
                "name": "Black Energy",
                "aliases": ["BE"],
                "is_family": True,
                "samples": [{"SHA-256": SAMPLE_SHARED}],
            },
        ),
        report(
            TALAS,
            talas_tlp,
            "2011-05-09T00:00:00Z",
            "203.0.113",
            {
                "name": "DirtJumper",
                "is_family": True,
                "samples": [{"SHA-256": SAMPLE_SHARED}, {"SHA-256": SAMPLE_TALAS}],
            },
        ),
    ]
    for body in reports:
        reply = app.submit(body)
        assert reply.status in (201, 202), reply.body
        app.drain()


def related(app: App, campaign: str, key: str | bool = True) -> dict[tuple[str, str], Any]:
    reply = app.request("GET", f"/api/v1/campaigns/{campaign}", key=key)
    assert reply.status == 200, reply.body
    return {(r["campaign"]["id"], r["strength"]): r for r in reply.json()["related"]}


def test_campaigns_are_linked_by_a_shared_family_and_by_a_shared_sample(app: App):
    submit_three(app)
    objects = pull(app, app.default_collection)
    bishkek, osh, talas = (campaign_id(objects, n) for n in (BISHKEK, OSH, TALAS))

    from_bishkek = related(app, bishkek)
    assert set(from_bishkek) == {(osh, "family")}, from_bishkek
    family = from_bishkek[(osh, "family")]
    assert "blackenergy" in json.dumps(family["shared"]).lower().replace(" ", "")

    from_osh = related(app, osh)
    assert set(from_osh) == {(bishkek, "family"), (talas, "sample")}, from_osh
    assert SAMPLE_SHARED in json.dumps(from_osh[(talas, "sample")]["shared"])
    assert from_osh[(talas, "sample")]["evidence"] == "strong"

    from_talas = related(app, talas)
    assert set(from_talas) == {(osh, "sample")}, from_talas

    # One malware id for the family however it was spelled; another family, another id.
    families = {o["id"]: o for o in objects if o["type"] == "malware" and o.get("is_family")}
    assert len(families) == 2, families


def test_a_green_reader_never_learns_of_an_amber_campaign_through_its_tools(app: App):
    submit_three(app, talas_tlp="amber")
    collection = app.default_collection
    siem = add_partner(
        app.services.store,
        "siem-green",
        "partner",
        org_name=app.settings.org_name,
        clearance="green",
        can_read=[collection],
    ).key
    objects = pull(app, collection)
    osh, bishkek = campaign_id(objects, OSH), campaign_id(objects, BISHKEK)
    seen = related(app, osh, key=siem)
    assert set(seen) == {(bishkek, "family")}, seen  # the GREEN link stays, the AMBER one is gone
    answered = app.request("GET", "/api/v1/observables", query={"value": SAMPLE_SHARED}, key=siem)
    assert answered.status == 200, answered.body
    text = answered.body.decode()
    assert OSH in text, text  # what it may read is answered
    assert TALAS not in text and "DirtJumper" not in text
    visible = pull(app, collection, key=siem)
    assert not any(o.get("name") in (TALAS, "DirtJumper") for o in visible)


def c2_report(name: str, tlp: str, network: str, family: str) -> dict[str, Any]:
    malware = {"name": family, "is_family": True, "c2": [{"type": "domain-name", "value": C2}]}
    return report(name, tlp, "2012-06-01T00:00:00Z", network, malware)


C2 = "c2.bot-herder.example.net"


def test_bots_that_share_only_a_c2_domain_link_their_campaigns_exactly(app: App):
    """The C2 given under a report's malware belongs to the campaign that used it: two
    floods whose different bots called the same C2 are linked, the domain named."""
    for body in (
        c2_report("Naryn flood", "green", "192.0.2", "FloodOne"),
        c2_report("Jalal-Abad flood", "amber", "198.51.100", "FloodTwo"),
    ):
        assert app.submit(body).status == 201
        app.drain()
    objects = pull(app, app.default_collection)
    naryn, jalal = campaign_id(objects, "Naryn flood"), campaign_id(objects, "Jalal-Abad flood")
    seen = related(app, naryn)
    assert set(seen) == {(jalal, "exact")}, seen
    assert seen[(jalal, "exact")]["shared"] == [C2]
    answered = app.request("GET", "/api/v1/observables", query={"value": C2}).json()
    assert {c["id"] for c in answered["campaigns"]} == {naryn, jalal}

    green = add_partner(
        app.services.store,
        "reader-green",
        "partner",
        org_name=app.settings.org_name,
        clearance="green",
        can_read=[app.default_collection],
    ).key
    assert related(app, naryn, key=green) == {}  # the AMBER campaign's C2 tie stays AMBER
    answered = app.request("GET", "/api/v1/observables", query={"value": C2}, key=green).json()
    assert [c["id"] for c in answered["campaigns"]] == [naryn]
