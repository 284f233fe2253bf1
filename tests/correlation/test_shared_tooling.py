"""Shared tooling as evidence: campaigns that used one malware family, or one sample.

Three partners post their campaigns over TAXII (the real path: gateway,
authorizer, TAXII handler, worker, correlator, store), on both shapes. A and B
share only the BlackEnergy family, spelled differently and once through an
alias; B and C share only a sample hash. A-B is linked by "family" evidence
naming the family, B-C by "sample" evidence naming the hash, A-C not at all.
"""

from __future__ import annotations

import json
from typing import Any

import stix2
from stix2validator import ValidationOptions, validate_instance
from test_scenario import pull as pull_collection
from tooling_world import SAMPLE_A, SAMPLE_BC, SAMPLE_C_ONLY, Bundle, Story, three_campaigns

from steppe.access.partners import add_partner
from steppe.correlate.evidence import confidence
from steppe.correlate.text import lookup_block
from steppe.stix import tlp
from support.app import App

TAXII = "application/taxii+json;version=2.1"
VALIDATOR = ValidationOptions(version="2.1")


def post(app: App, key: str, envelope: dict[str, Any]) -> None:
    reply = app.request(
        "POST",
        f"/taxii2/{app.settings.api_root}/collections/{app.default_collection}/objects/",
        body=json.dumps(envelope),
        headers={"Accept": TAXII},
        content_type=TAXII,
        key=key,
    )
    assert reply.status == 202, reply.body
    assert reply.json()["failure_count"] == 0, reply.body
    app.drain()


def load(app: App, story: Story) -> dict[str, str]:
    collection = app.default_collection
    keys = {}
    for name, clearance in (("cert-tooling", "red"), ("reader-green", "green")):
        keys[name] = add_partner(
            app.services.store,
            name,
            "partner",
            org_name=app.settings.org_name,
            clearance=clearance,
            can_read=[collection],
            can_write=[collection] if name == "cert-tooling" else [],
        ).key
    for part in ("a", "b", "c"):
        post(app, keys["cert-tooling"], story.bundles[part].envelope())
    assert app.dead_letters() == []
    return keys


def pull(app: App, key: str | bool = True) -> list[dict[str, Any]]:
    return pull_collection(app, app.default_collection, key)


def links(objects: list[dict[str, Any]], a: str, b: str) -> list[dict[str, Any]]:
    return [
        o
        for o in objects
        if o["type"] == "relationship"
        and o["relationship_type"] == "related-to"
        and {o["source_ref"], o["target_ref"]} == {a, b}
    ]


def lookup(app: App, value: str, key: str | bool = True) -> dict[str, Any]:
    reply = app.request("GET", "/api/v1/observables", query={"value": value}, key=key)
    assert reply.status == 200, reply.body
    return reply.json()


def test_a_shared_family_links_with_medium_evidence_and_a_shared_sample_with_strong(app: App):
    story = three_campaigns()
    load(app, story)
    a, b, c = (story.campaigns[x] for x in "abc")
    objects = pull(app)

    [family] = links(objects, a, b)
    assert family["description"].startswith("Medium evidence, not an exact match")
    assert "shared malware family Black Energy" in family["description"]  # as B spelled it
    assert SAMPLE_A not in family["description"] and SAMPLE_BC not in family["description"]
    assert family["confidence"] == confidence("family", 1)

    [sample] = links(objects, b, c)
    assert f"shared sample SHA-256 {SAMPLE_BC}" in sample["description"]
    assert "family" not in sample["description"]
    assert SAMPLE_C_ONLY not in sample["description"]
    assert sample["confidence"] == confidence("sample", 1)
    assert confidence("network", 1) < family["confidence"] < sample["confidence"]

    assert links(objects, a, c) == []
    for obj in (family, sample):
        assert obj["object_marking_refs"] == [tlp.GREEN.marking_id]
        result = validate_instance(obj, VALIDATOR)
        assert result.errors == [], [str(e) for e in result.errors]
        stix2.parse(obj, allow_custom=False)
    # Neither a family nor a sample is an indicator seen again: no sighting.
    assert [o for o in objects if o["type"] == "sighting"] == []

    view = app.request("GET", f"/api/v1/campaigns/{b}").json()
    related = [
        (r["campaign"]["id"], r["strength"], r["evidence"], r["shared"]) for r in view["related"]
    ]
    assert related == [
        (c, "sample", "strong", [f"SHA-256 {SAMPLE_BC}"]),
        (a, "family", "medium", ["malware blackenergy"]),
    ]
    tooling = {item["id"]: set(item["values"]) for item in view["tooling"]["items"]}
    assert tooling == {
        story.malware["b"]: {f"SHA-256 {SAMPLE_BC}", "malware floodbotofb"},
        story.malware["b_family"]: {"malware be", "malware blackenergy"},  # its variant-of
    }
    assert view["observables"]["total"] == 0
    a_view = app.request("GET", f"/api/v1/campaigns/{a}").json()
    assert [r["campaign"]["id"] for r in a_view["related"]] == [b]


def test_a_family_name_or_alias_is_looked_up_like_an_address(app: App):
    story = three_campaigns()
    load(app, story)
    a, b, c = (story.campaigns[x] for x in "abc")

    for spelling in ("malware:Black Energy", "BlackEnergy", "black-energy", "MALWARE:blackenergy"):
        result = lookup(app, spelling)
        assert result["recognised"] and result["found"], spelling
        assert {x["id"] for x in result["campaigns"]} == {a, b}, spelling
        assert result["first_seen"] == "2008-08-08T00:00:00.000Z"
        assert result["last_seen"] == "2009-01-28T00:00:00.000Z"
        assert {t["id"]: t["name"] for t in result["tools"]} == {
            story.malware["a"]: "BlackEnergy",
            story.malware["b_family"]: "BE",
        }
    text = lookup_block(lookup(app, "BlackEnergy"))  # what `steppe lookup` prints
    assert text.startswith("BlackEnergy  (malware)  SEEN: 2 occurrences")
    assert "family:" in text and "BE" in text and story.malware["a"] in text
    text = lookup_block(lookup(app, SAMPLE_BC))
    assert "sample of:" in text and "Dirt Jumper" in text and "flood bot of B" in text
    assert lookup(app, "malware:BlackEnergy")["keys"] == ["malware:blackenergy"]
    assert lookup(app, "BlackEnergy")["keys"] == ["malware:blackenergy", "tool:blackenergy"]
    assert lookup(app, "tool:BlackEnergy")["found"] is False  # a malware, not a tool
    dirt = lookup(app, "malware:DirtJumper")
    assert [x["id"] for x in dirt["campaigns"]] == [c]

    # A hash answers as before, plus what it is a sample of.
    shared = lookup(app, SAMPLE_BC)
    assert {x["id"] for x in shared["campaigns"]} == {b, c}
    assert {t["id"]: (t["name"], set(t["campaigns"])) for t in shared["sample_of"]} == {
        story.malware["b"]: ("flood bot of B", {b}),
        story.malware["c"]: ("Dirt Jumper", {c}),
    }
    assert len(shared["indicators"]) == 2  # each partner's sample indicator
    own = lookup(app, SAMPLE_A)
    assert [t["id"] for t in own["sample_of"]] == [story.malware["a"]]
    assert [x["id"] for x in own["campaigns"]] == [a]

    bulk = app.request(
        "POST",
        "/api/v1/observables/lookup",
        json_body={"values": ["Black-Energy", SAMPLE_BC, "no such thing!"], "detail": "full"},
    )
    assert bulk.status == 200, bulk.body
    family, digest, nothing = bulk.json()["results"]
    assert {x["id"] for x in family["campaigns"]} == {a, b}
    assert {x["id"] for x in digest["campaigns"]} == {b, c}
    assert nothing["recognised"] is False
    summary = app.request(
        "POST", "/api/v1/observables/lookup", json_body={"values": ["malware:BE"]}
    ).json()["results"][0]
    assert summary["found"] and [x["id"] for x in summary["campaigns"]] == [b]


def test_what_a_reader_may_not_see_neither_links_nor_answers(app: App):
    """C is AMBER: a GREEN reader learns nothing of C, its sample's use or its malware."""
    story = three_campaigns(c_level=tlp.AMBER)
    keys = load(app, story)
    green = keys["reader-green"]
    a, b, c = (story.campaigns[x] for x in "abc")

    seen = pull(app, green)
    text = json.dumps(seen)
    assert c not in text and story.malware["c"] not in text and "Dirt Jumper" not in text
    assert [link["target_ref"] for link in links(seen, a, b)] != []

    view = app.request("GET", f"/api/v1/campaigns/{b}", key=green).json()
    assert [(r["campaign"]["id"], r["strength"]) for r in view["related"]] == [(a, "family")]
    shared = lookup(app, SAMPLE_BC, green)
    assert [x["id"] for x in shared["campaigns"]] == [b]
    assert [t["id"] for t in shared["sample_of"]] == [story.malware["b"]]
    assert c not in json.dumps(shared) and "Dirt Jumper" not in json.dumps(shared)
    assert lookup(app, "malware:Dirt Jumper", green)["found"] is False
    assert lookup(app, SAMPLE_C_ONLY, green)["found"] is False
    # The AMBER-cleared reader (here: the admin) sees the sample link.
    full = app.request("GET", f"/api/v1/campaigns/{b}").json()
    assert (c, "sample") in [(r["campaign"]["id"], r["strength"]) for r in full["related"]]


def test_one_family_object_shared_by_two_reports_gives_the_family_but_not_the_samples(app: App):
    """As the converter shares one family id per collection and TLP: B `uses` A's family object
    (stored earlier, read back by id). The family links them; A's sample of it does not."""
    story = three_campaigns()
    family = story.malware["a"]
    # Not in B's bundle: the correlator reads it back from the store by id.
    story.bundles["b"].relate(story.campaigns["b"], "uses", family)
    load_parts(app, story, ("a", "b"))
    objects = pull(app)
    [link] = links(objects, story.campaigns["a"], story.campaigns["b"])
    assert "shared malware family" in link["description"]
    result = lookup(app, SAMPLE_A)
    assert [x["id"] for x in result["campaigns"]] == [story.campaigns["a"]]
    view = app.request("GET", f"/api/v1/campaigns/{story.campaigns['b']}").json()
    assert family in {item["id"] for item in view["tooling"]["items"]}
    assert [r["strength"] for r in view["related"]] == ["family"]


def load_parts(app: App, story: Story, parts: tuple[str, ...]) -> None:
    key = add_partner(
        app.services.store,
        "cert-parts",
        "partner",
        org_name=app.settings.org_name,
        clearance="red",
        can_read=[app.default_collection],
        can_write=[app.default_collection],
    ).key
    for part in parts:
        post(app, key, story.bundles[part].envelope())
    assert app.dead_letters() == []


def test_two_campaigns_of_one_envelope_using_one_family_are_both_indexed_and_linked(app: App):
    bundle = Bundle("CERT-D (test)", tlp.GREEN)
    first = bundle.campaign("Campaign D1", "2011-01-01T00:00:00Z", "2011-01-02T00:00:00Z")
    second = bundle.campaign("Campaign D2", "2011-02-01T00:00:00Z", "2011-02-02T00:00:00Z")
    family = bundle.tool("LOIC")
    bundle.relate(first, "uses", family)
    bundle.relate(second, "uses", family)
    load_parts(app, Story({"d": bundle}, {}, {}), ("d",))

    result = lookup(app, "tool:L.O.I.C.")
    assert [x["id"] for x in result["campaigns"]] == [first, second]
    assert [t["name"] for t in result["tools"]] == ["LOIC"]
    assert lookup(app, "LOIC")["keys"] == ["malware:loic", "tool:loic"]
    [link] = links(pull(app), first, second)
    assert "shared tool family LOIC" in link["description"]
