"""The one write path, through HTTP on both shapes (issue 8, findings 4 and 11).

Nobody rewrites what is not theirs: a partner cannot un-revoke or rename
steppe's objects, nor version another partner's; revocation is final for
steppe's own producers too; TLP marking definitions are readable at CLEAR;
and what POST and DELETE answer never tells a partner that versions above
its clearance exist.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from steppe.access.partners import add_partner
from steppe.stix import tlp
from steppe.stix.identities import org_identity_id, partner_identity_id
from steppe.stix.timestamps import format_stix, parse_micros
from steppe.store.port import ALL_VERSIONS, EvidenceScope, ObjectQuery
from support.app import App, open_app

TAXII = "application/taxii+json;version=2.1"
HOUR = 3_600_000_000
DAY = parse_micros("2009-01-18T00:00:00Z")


@pytest.fixture(params=["sqlite", "aws"])
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[App]:
    opened = open_app(tmp_path / "data", request.param, STEPPE_CORRELATE="0")
    yield opened
    opened.close()


@pytest.fixture(params=["sqlite", "aws"])
def correlating(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[App]:
    opened = open_app(tmp_path / "data", request.param)
    yield opened
    opened.close()


# -- helpers ----------------------------------------------------------------------------


def partner(app: App, name: str, clearance: str = "amber") -> str:
    """A partner that may read and write the default collection; returns its key."""
    collection = app.default_collection
    return add_partner(
        app.services.store,
        name,
        "partner",
        org_name=app.settings.org_name,
        clearance=clearance,
        can_read=[collection],
        can_write=[collection],
    ).key


def objects_path(app: App, rest: str = "") -> str:
    return f"/taxii2/{app.settings.api_root}/collections/{app.default_collection}/objects/{rest}"


def post(app: App, key: str | bool, *objects: dict[str, Any]) -> dict[str, Any]:
    reply = app.request(
        "POST",
        objects_path(app),
        body=json.dumps({"objects": list(objects)}),
        headers={"Accept": TAXII, "Content-Type": TAXII},
        key=key,
    )
    assert reply.status == 202, reply.body
    return reply.json()


def latest(app: App, object_id: str, key: str | bool = True) -> dict[str, Any] | None:
    reply = app.request(
        "GET", objects_path(app, f"{object_id}/"), headers={"Accept": TAXII}, key=key
    )
    if reply.status == 404:
        return None
    assert reply.status == 200, reply.body
    objects = reply.json().get("objects", [])
    return objects[-1] if objects else None


def all_versions(app: App, object_id: str) -> list[Any]:
    page = app.services.store.list_objects(
        app.default_collection,
        ObjectQuery(ids=frozenset({object_id}), versions=ALL_VERSIONS, limit=100),
    )
    return sorted(page.records, key=lambda record: record.version)


def submit(app: App, name: str, *addresses: str, level: str = "amber") -> list[dict[str, Any]]:
    """An analyst's report; the objects it produced."""
    reply = app.submit(
        {
            "tlp": level,
            "attack": {"kind": "ddos", "first_seen": "2009-01-18T00:00:00Z"},
            "campaign": {"name": name},
            "observables": [
                {"type": "ipv4-addr", "value": address, "role": "source"} for address in addresses
            ],
        }
    )
    assert reply.status == 201, reply.body
    bundle = app.request("GET", reply.json()["links"]["bundle"])
    return bundle.json()["objects"]


def of_type(objects: list[dict[str, Any]], stix_type: str) -> dict[str, Any]:
    [found] = [obj for obj in objects if obj["type"] == stix_type]
    return found


def later(obj: dict[str, Any], hours: int = 1, **changes: Any) -> dict[str, Any]:
    """A new version of obj, `hours` after its current one."""
    newer = {**obj, **changes}
    newer["modified"] = format_stix(parse_micros(obj["modified"]) + hours * HOUR)
    return newer


def indicator(address: str, creator: str | None, level: tlp.TlpLevel = tlp.GREEN) -> dict:
    obj = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": format_stix(DAY),
        "modified": format_stix(DAY),
        "name": f"DDoS source {address}",
        "pattern": f"[ipv4-addr:value = '{address}']",
        "pattern_type": "stix",
        "valid_from": format_stix(DAY),
        "object_marking_refs": [level.marking_id],
    }
    if creator is not None:
        obj["created_by_ref"] = creator
    return obj


def failure_message(status: dict[str, Any]) -> str:
    assert status["success_count"] == 0 and status["failure_count"] == 1, status
    return status["failures"][0]["message"]


# -- finding 4: nobody rewrites what is not theirs --------------------------------------


def test_a_partner_cannot_unrevoke_steppes_indicator(app: App):
    made = submit(app, "January 2009 DDoS", "198.51.100.7")
    indicator_id = of_type(made, "indicator")["id"]
    revoked = app.request(
        "POST", f"/api/v1/indicators/{indicator_id}/revoke", json_body={"reason": "sinkholed"}
    )
    assert revoked.status == 200, revoked.body
    stored = latest(app, indicator_id)
    assert stored is not None and stored["revoked"] is True
    key = partner(app, "isp-noc")
    unrevoked = later(stored)
    del unrevoked["revoked"]

    as_steppe = post(app, key, unrevoked)
    assert "this server's own" in failure_message(as_steppe)
    as_itself = post(app, key, {**unrevoked, "created_by_ref": partner_identity_id("isp-noc")})
    assert "another producer's object" in failure_message(as_itself)

    assert latest(app, indicator_id) == stored  # readers still get the revoked version
    assert latest(app, indicator_id, key) == stored
    assert all_versions(app, indicator_id)[-1].version == parse_micros(stored["modified"])


def test_revocation_is_final_for_the_object_owner_too(app: App):
    key = partner(app, "isp-noc")
    mine = partner_identity_id("isp-noc")
    obj = indicator("198.51.100.20", mine)
    assert post(app, key, obj)["success_count"] == 1
    withdrawn = later(obj, revoked=True)
    assert post(app, key, withdrawn)["successes"][0]["message"] == "added"
    assert post(app, key, withdrawn)["success_count"] == 1  # the revoked version again: a no-op
    again = post(app, key, later(obj, hours=2))
    assert "revocation final" in failure_message(again)
    assert latest(app, obj["id"], key) == withdrawn


def test_a_partner_cannot_rename_steppes_campaign(app: App):
    made = submit(app, "January 2009 DDoS", "198.51.100.7")
    campaign = of_type(made, "campaign")
    key = partner(app, "isp-noc")
    renamed = later(campaign, name="Nothing happened")
    assert "this server's own" in failure_message(post(app, key, renamed))
    disowned = {**renamed, "created_by_ref": partner_identity_id("isp-noc")}
    assert "another producer's object" in failure_message(post(app, key, disowned))
    assert latest(app, campaign["id"])["name"] == "January 2009 DDoS"  # type: ignore[index]


def test_nobody_posts_in_steppes_name(app: App):
    key = partner(app, "isp-noc")
    org = org_identity_id(app.settings.org_name)
    fresh = indicator("198.51.100.21", org)
    assert "this server's own" in failure_message(post(app, key, fresh))
    impostor = {
        "type": "identity",
        "spec_version": "2.1",
        "id": org,
        "created": format_stix(DAY),
        "modified": format_stix(DAY),
        "name": "steppe (really)",
        "identity_class": "organization",
    }
    assert "this server's own" in failure_message(post(app, key, impostor))
    assert latest(app, fresh["id"]) is None


def test_a_partner_versions_its_own_objects_and_nobody_elses(app: App):
    kg, kz = partner(app, "cert-kg"), partner(app, "cert-kz")
    kg_identity = partner_identity_id("cert-kg")
    obj = indicator("198.51.100.30", kg_identity)
    assert post(app, kg, obj)["successes"][0]["message"] == "added"  # cert-kg claims its identity

    in_its_name = post(app, kz, later(obj, description="not a source after all"))
    assert "belongs to another producer" in failure_message(in_its_name)
    own_name = post(
        app, kz, later(obj, created_by_ref=partner_identity_id("cert-kz"), name="renamed")
    )
    assert "another producer's object" in failure_message(own_name)
    new_in_its_name = post(app, kz, indicator("198.51.100.31", kg_identity))
    assert "belongs to another producer" in failure_message(new_in_its_name)
    assert latest(app, obj["id"]) == obj
    duplicate = post(app, kz, obj)  # an identical duplicate changes nothing: a success
    assert duplicate["success_count"] == 1

    newer = later(obj, description="seen again on 2009-01-19")
    assert post(app, kg, newer)["successes"] == [
        {"id": obj["id"], "version": newer["modified"], "message": "added"}
    ]
    assert latest(app, obj["id"]) == newer
    assert (
        post(app, kz, indicator("198.51.100.32", partner_identity_id("cert-kz")))["success_count"]
        == 1
    )


# -- finding 11: TLP marking definitions, and what messages tell ------------------------


def test_an_amber_submissions_clear_marking_definition_reaches_green_partners(app: App):
    made = submit(app, "January 2009 DDoS", "198.51.100.7", level="amber")
    clear_id = tlp.CLEAR.marking_id
    assert clear_id in {obj["id"] for obj in made}
    key = add_partner(
        app.services.store,
        "isp-noc",
        "partner",
        org_name=app.settings.org_name,
        clearance="green",
        can_read=[app.default_collection],
    ).key
    assert latest(app, clear_id, key) == tlp.CLEAR.marking_definition()
    for definition in (clear_id, tlp.AMBER.marking_id):
        [record] = all_versions(app, definition)
        assert record.tlp == tlp.CLEAR.rank
    # The objects it may read carry markings it can resolve.
    listed = app.request(
        "GET", objects_path(app), headers={"Accept": TAXII}, key=key, query={"limit": "1000"}
    ).json()
    received = {obj["id"] for obj in listed.get("objects", [])}
    for obj in listed.get("objects", []):
        assert set(obj.get("object_marking_refs", [])) <= received


def test_post_and_delete_answer_the_same_whether_or_not_hidden_versions_exist(app: App):
    key = partner(app, "isp-noc", clearance="green")
    mine = partner_identity_id("isp-noc")
    plain = indicator("198.51.100.40", mine)
    shadowed = indicator("198.51.100.41", mine)
    assert post(app, key, plain, shadowed)["success_count"] == 2
    # Staff add an AMBER version of one of them, which the partner may not read.
    amber = later(shadowed, object_marking_refs=[tlp.AMBER.marking_id], confidence=90)
    assert post(app, True, amber)["success_count"] == 1

    answers = [post(app, key, later(obj, hours=2, confidence=50)) for obj in (plain, shadowed)]
    messages = [[(s["message"], s["version"][:10]) for s in a["successes"]] for a in answers]
    assert messages[0] == messages[1] == [("added", "2009-01-18")]

    deleted = [
        app.request(
            "DELETE", objects_path(app, f"{obj['id']}/"), headers={"Accept": TAXII}, key=key
        )
        for obj in (plain, shadowed)
    ]
    assert [(r.status, r.body) for r in deleted] == [(200, b""), (200, b"")]
    assert all_versions(app, plain["id"]) == []
    assert [r.tlp for r in all_versions(app, shadowed["id"])] == [tlp.AMBER.rank]


# -- steppe's own producers never write after a revocation ------------------------------


def test_revoking_twice_writes_nothing_the_second_time(app: App):
    made = submit(app, "January 2009 DDoS", "198.51.100.7")
    indicator_id = of_type(made, "indicator")["id"]
    path = f"/api/v1/indicators/{indicator_id}/revoke"
    assert app.request("POST", path, json_body={"reason": "sinkholed"}).status == 200
    before = all_versions(app, indicator_id)
    again = app.request("POST", path, json_body={"reason": "sinkholed, really"})
    assert again.status == 200 and again.json()["revoked"] is False
    assert all_versions(app, indicator_id) == before


def test_correlation_never_writes_after_a_revocation(correlating: App):
    app = correlating
    submit(app, "Flood A", "198.51.100.50")
    submit(app, "Flood B", "198.51.100.50")
    app.drain()
    listed = app.request(
        "GET", objects_path(app), headers={"Accept": TAXII}, query={"match[type]": "relationship"}
    ).json()["objects"]
    [link] = [  # the exact match (their /24 is weak evidence, a relationship of its own)
        obj
        for obj in listed
        if obj["relationship_type"] == "related-to"
        and obj["description"].startswith("Correlated by steppe")
    ]
    withdrawn = later(link, revoked=True)
    assert post(app, True, withdrawn)["success_count"] == 1  # staff revoke the link

    submit(app, "Flood A", "198.51.100.60")  # the campaigns come to share a second value
    submit(app, "Flood B", "198.51.100.60")
    app.drain()
    assert app.dead_letters() == []
    pair = (link["source_ref"], link["target_ref"])
    scopes = [EvidenceScope((app.default_collection,), rank) for rank in range(tlp.RED.rank + 1)]
    evidence = app.services.store.link_evidence(pair, "exact", scopes)
    assert max(count for count, _ in evidence.values()) == 2  # it had news to write
    versions = all_versions(app, link["id"])
    assert versions[-1].version == parse_micros(withdrawn["modified"])
    assert latest(app, link["id"]) == withdrawn
