"""Revoking indicators and submissions, and false-positive values, on both shapes.

What a SIEM pulling over TAXII sees afterwards is read over TAXII, through the
real gateway, authorizer and TAXII function.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import stix2
from stix2validator import ValidationOptions, validate_instance

from steppe.access.partners import add_partner
from steppe.lifecycle.revocation import note_id, successor_id
from steppe.runtime import lifecycle_service
from steppe.stix import tlp
from steppe.stix.identities import org_identity_id
from steppe.stix.timestamps import parse_micros
from steppe.store.port import ALL_VERSIONS, ObjectQuery
from support.app import App, example, open_app, stored_count

TAXII = {"Accept": "application/taxii+json;version=2.1"}
VALIDATOR = ValidationOptions(version="2.1")
REASON = "Sinkholed by the ISP on 2009-02-01; the address now belongs to a university"
FALSE_POSITIVE = "198.51.100.7"


def assert_valid(*objects: dict[str, Any]) -> None:
    bundle = {"type": "bundle", "id": "bundle--0f6b7e8a-3a4e-4a5e-8c6e-2b1b1f0a9d11"}
    bundle["objects"] = list(objects)
    result = validate_instance(bundle, VALIDATOR)
    assert result.errors == [], [str(e) for e in result.errors]
    stix2.parse(bundle, allow_custom=False)


def taxii_objects(app: App, collection_id: str, **match: str) -> list[dict[str, Any]]:
    """What a TAXII client pulling the collection gets (every page)."""
    path = f"/taxii2/{app.settings.api_root}/collections/{collection_id}/objects/"
    query = {f"match[{name}]": value for name, value in match.items()}
    reply = app.request("GET", path, headers=TAXII, query=query)
    assert reply.status == 200, reply.body
    page = reply.json()
    assert not page.get("more")
    return page.get("objects", [])


def submit(app: App, report: dict[str, Any]) -> dict[str, Any]:
    reply = app.submit(report)
    assert reply.status == 201, reply.body
    return reply.json()


def bundle_of(app: App, resource: dict[str, Any]) -> list[dict[str, Any]]:
    return app.request("GET", resource["links"]["bundle"]).json()["objects"]


def indicator_for(objects: list[dict[str, Any]], address: str) -> dict[str, Any]:
    [found] = [
        o
        for o in objects
        if o["type"] == "indicator" and o["pattern"] == f"[ipv4-addr:value = '{address}']"
    ]
    return found


def january() -> dict[str, Any]:
    """Two of the January 2009 sources, without the rest of the report (moto is slow)."""
    return {
        "tlp": "amber",
        "attack": {"kind": "ddos", "first_seen": "2009-01-18T00:00:00Z"},
        "campaign": {"name": "Kyrgyzstan ISP DDoS, January 2009"},
        "observables": [
            {"type": "ipv4-addr", "value": "198.51.100.7", "role": "source", "asn": 64500},
            {"type": "ipv4-addr", "value": "203.0.113.66", "role": "source", "asn": 64502},
        ],
    }


def single_source(address: str, campaign: str = "Follow-up flood, February 2009") -> dict:
    """A later report naming one of the January sources again (and one new address)."""
    return {
        "tlp": "amber",
        "attack": {"kind": "ddos", "first_seen": "2009-02-03T00:00:00Z"},
        "campaign": {"name": campaign},
        "observables": [
            {"type": "ipv4-addr", "value": address, "role": "source", "asn": 64500},
            {"type": "ipv4-addr", "value": "198.51.100.99", "role": "source", "asn": 64500},
        ],
    }


def indexed_indicator(app: App, resource: dict[str, Any], address: str) -> str:
    """The id of the address's indicator, once correlation has indexed the submission."""
    app.drain()  # the worker's correlation job
    indicator_id = indicator_for(bundle_of(app, resource), address)["id"]
    occurrences = app.services.store.find_values([f"ipv4-addr:{address}"])
    assert indicator_id in {o.object_id for o in occurrences[f"ipv4-addr:{address}"]}
    return indicator_id


def revoke(app: App, indicator_id: str, reason: str = REASON, **kwargs: Any):
    return app.request(
        "POST", f"/api/v1/indicators/{indicator_id}/revoke", json_body={"reason": reason}, **kwargs
    )


# -- revoking an indicator -----------------------------------------------------------------


def test_a_revoked_indicator_reaches_taxii_as_a_revoked_version_with_a_note(app: App):
    resource = submit(app, example())
    original = indicator_for(bundle_of(app, resource), "198.51.100.7")
    collection = app.default_collection

    reply = revoke(app, original["id"])
    assert reply.status == 200, reply.body
    outcome = reply.json()
    assert outcome["revoked"] is True and outcome["reason"] == REASON
    assert [c["outcome"] for c in outcome["collections"]] == ["revoked"]
    assert outcome["collections"][0]["id"] == collection

    [latest] = taxii_objects(app, collection, id=original["id"])
    assert latest["revoked"] is True
    assert parse_micros(latest["modified"]) > parse_micros(original["modified"])
    assert {k: v for k, v in latest.items() if k not in ("revoked", "modified")} == {
        k: v for k, v in original.items() if k != "modified"
    }
    versions = taxii_objects(app, collection, id=original["id"], version="all")
    assert len(versions) == 2
    [note] = taxii_objects(app, collection, type="note")
    assert note["id"] == outcome["note"] == note_id(original["id"])
    assert note["object_refs"] == [original["id"]]
    assert note["content"] == REASON and note["authors"] == ["admin"]
    assert note["created_by_ref"] == org_identity_id(app.settings.org_name)
    assert note["object_marking_refs"] == original["object_marking_refs"] == [tlp.AMBER.marking_id]
    assert_valid(latest, note)
    # the other indicators of the submission are untouched
    others = [
        o for o in taxii_objects(app, collection, type="indicator") if o["id"] != original["id"]
    ]
    assert len(others) == 7 and not any(o.get("revoked") for o in others)


def test_revoking_again_writes_nothing_and_says_so(app: App):
    original = indicator_for(bundle_of(app, submit(app, example())), "198.51.100.23")
    assert revoke(app, original["id"]).status == 200
    count = stored_count(app)
    again = revoke(app, original["id"], reason="a retry with other words")
    assert again.status == 200
    assert again.json()["revoked"] is False
    assert "already revoked" in again.json()["message"]
    assert stored_count(app) == count
    [note] = taxii_objects(app, app.default_collection, type="note")
    assert note["content"] == REASON


def test_a_revoked_value_submitted_again_is_published_under_a_successor(app: App):
    first = indicator_for(bundle_of(app, submit(app, january())), "203.0.113.66")
    assert revoke(app, first["id"]).status == 200
    later = submit(app, single_source("203.0.113.66"))
    successor = indicator_for(bundle_of(app, later), "203.0.113.66")
    assert successor["id"] == successor_id(first["id"])
    assert later["counts"]["false_positive_skipped"] == 0
    [stored] = taxii_objects(app, app.default_collection, id=successor["id"])
    assert "revoked" not in stored
    links = [
        o
        for o in taxii_objects(app, app.default_collection, type="relationship")
        if successor["id"] in (o["source_ref"], o["target_ref"])
    ]
    assert sorted(o["relationship_type"] for o in links) == ["based-on", "indicates"]
    [report] = [o for o in bundle_of(app, later) if o["type"] == "report"]
    assert successor["id"] in report["object_refs"] and first["id"] not in report["object_refs"]
    assert_valid(stored, *links, report)
    # the revoked one stays revoked; revoking the successor leads to the next one
    [old] = taxii_objects(app, app.default_collection, id=first["id"])
    assert old["revoked"] is True
    assert revoke(app, successor["id"]).status == 200
    third = submit(app, single_source("203.0.113.66", campaign="March 2009"))
    assert indicator_for(bundle_of(app, third), "203.0.113.66")["id"] == successor_id(
        successor["id"]
    )


# -- revoking a submission -------------------------------------------------------------------


def test_revoking_a_submission_revokes_every_indicator_it_produced(app: App):
    resource = submit(app, example())
    produced = {o["id"] for o in bundle_of(app, resource) if o["type"] == "indicator"}
    assert len(produced) == 8  # 6 observables, the bot's SHA-256 sample and its C2 address
    reply = app.request(
        "POST",
        f"/api/v1/submissions/{resource['id']}/revoke",
        json_body={"reason": "The whole report was a test upload"},
    )
    assert reply.status == 200, reply.body
    assert reply.json()["counts"] == {"revoked": 8, "already_revoked": 0, "not_found": 0}
    indicators = taxii_objects(app, app.default_collection, type="indicator")
    assert {o["id"] for o in indicators} == produced
    assert all(o["revoked"] is True for o in indicators)
    notes = taxii_objects(app, app.default_collection, type="note")
    assert {n["object_refs"][0] for n in notes} == produced
    assert all(n["content"] == "The whole report was a test upload" for n in notes)
    assert_valid(*indicators, *notes)
    # the campaign, the SCOs and the rest stay as they were
    assert not any(
        o.get("revoked")
        for o in taxii_objects(app, app.default_collection)
        if o["type"] != "indicator"
    )
    again = app.request(
        "POST", f"/api/v1/submissions/{resource['id']}/revoke", json_body={"reason": "again"}
    )
    assert again.json()["counts"] == {"revoked": 0, "already_revoked": 8, "not_found": 0}
    described = app.request("GET", f"/api/v1/submissions/{resource['id']}").json()
    assert described["revoked"]["reason"] == "The whole report was a test upload"
    before = stored_count(app)
    reprocessed = app.request("POST", f"/api/v1/submissions/{resource['id']}/reprocess")
    assert reprocessed.status == 409, reprocessed.body
    assert reprocessed.json()["where"] == "submission_id"
    assert "revoked" in reprocessed.json()["description"]
    assert stored_count(app) == before  # nothing published again


@pytest.fixture(params=["sqlite", "aws"])
def chunked(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[App]:
    """Submissions above 4 observables are processed in chunks of 4, by the worker."""
    opened = open_app(
        tmp_path / "data",
        request.param,
        STEPPE_SYNC_OBSERVABLES="4",
        STEPPE_CHUNK_OBSERVABLES="4",
        STEPPE_CORRELATE="0",
    )
    yield opened
    opened.close()


def test_a_large_submission_is_revoked_by_the_worker_chunk_by_chunk(chunked: App):
    app = chunked
    report = example()
    report["observables"] = [
        {"type": "ipv4-addr", "value": f"198.51.100.{n}", "role": "source"} for n in range(1, 11)
    ]
    accepted = app.submit(report)
    assert accepted.status == 202
    submission_id = accepted.json()["id"]
    path = f"/api/v1/submissions/{submission_id}/revoke"
    pending = app.request("POST", path, json_body={"reason": "bulk test upload"})
    assert pending.status == 409 and pending.json()["where"] == "submission_id"
    app.drain()

    reply = app.request("POST", path, json_body={"reason": "bulk test upload"})
    assert reply.status == 202, reply.body
    assert reply.json()["status"] == "queued" and reply.json()["chunks"] == 3
    assert app.pending_jobs() == 3
    assert app.drain() == 3  # the worker revokes chunk by chunk
    assert app.dead_letters() == []
    page = app.services.store.list_objects(
        app.default_collection, ObjectQuery(types=frozenset({"indicator"}), limit=1000)
    )
    assert len(page.records) == 10 + 3  # and the bot's sample and C2 indicators
    assert all(json.loads(r.body)["revoked"] is True for r in page.records)
    # a retried job changes nothing
    count = stored_count(app)
    app.services.queue.send(
        [
            {
                "task": "revoke_chunk",
                "submission_id": submission_id,
                "chunk": 2,
                "reason": "bulk test upload",
                "analyst": "admin",
            }
        ]
    )
    assert app.drain() == 1
    assert stored_count(app) == count
    again = lifecycle_service(app.services).revoke_chunk(
        submission_id, 2, "bulk test upload", "admin"
    )
    # its 4 sources and the bot's 3 indicators
    assert len(again.revoked) == 0 and len(again.already_revoked) == 4 + 3


# -- false positives -----------------------------------------------------------------------


def mark(app: App, value: str = FALSE_POSITIVE, reason: str = "Our own scanner", **kwargs: Any):
    return app.request(
        "POST", "/api/v1/false-positives", json_body={"value": value, "reason": reason}, **kwargs
    )


def test_a_false_positive_is_revoked_and_not_published_again(app: App):
    first = submit(app, january())
    indicator_id = indexed_indicator(app, first, FALSE_POSITIVE)

    reply = mark(app)
    assert reply.status == 201, reply.body
    outcome = reply.json()
    assert outcome["indicators"] == {"revoked": 1, "already_revoked": 0, "not_found": 0}
    [entry] = outcome["false_positives"]
    assert entry["value"] == FALSE_POSITIVE and entry["key"] == f"ipv4-addr:{FALSE_POSITIVE}"
    assert entry["analyst"] == "admin" and entry["reason"] == "Our own scanner"
    listed = app.request("GET", "/api/v1/false-positives").json()["false_positives"]
    assert listed == [entry]

    [revoked] = taxii_objects(app, app.default_collection, id=indicator_id)
    assert revoked["revoked"] is True
    [note] = taxii_objects(app, app.default_collection, type="note")
    assert note["abstract"] == f"False positive: {FALSE_POSITIVE}"
    assert note["content"] == "Our own scanner"
    assert_valid(revoked, note)

    count = stored_count(app)
    later = submit(app, single_source(FALSE_POSITIVE))
    assert later["counts"]["false_positive_skipped"] == 1
    objects = bundle_of(app, later)
    patterns = {o["pattern"] for o in objects if o["type"] == "indicator"}
    assert patterns == {"[ipv4-addr:value = '198.51.100.99']"}
    skipped = {indicator_id, successor_id(indicator_id)}
    assert not any(
        o.get("source_ref") in skipped or set(o.get("object_refs", ())) & skipped for o in objects
    )
    assert stored_count(app) > count  # the rest of the report is published
    stored = app.services.store.list_objects(
        app.default_collection,
        ObjectQuery(ids=frozenset(skipped), versions=ALL_VERSIONS, with_body=False),
    )
    assert [r.id for r in stored.records] == [indicator_id, indicator_id]  # nothing new
    assert_valid(*objects)


def test_the_analyst_may_publish_a_false_positive_after_all(app: App):
    indicator_id = indexed_indicator(app, submit(app, january()), FALSE_POSITIVE)
    assert mark(app).status == 201
    report = single_source(FALSE_POSITIVE)
    report["override_false_positives"] = True
    later = submit(app, report)
    assert later["counts"]["false_positive_skipped"] == 0
    published = indicator_for(bundle_of(app, later), FALSE_POSITIVE)
    assert published["id"] == successor_id(indicator_id)
    [stored] = taxii_objects(app, app.default_collection, id=published["id"])
    assert "revoked" not in stored
    assert_valid(stored)
    # the entry stays: the override was for that submission only
    assert len(app.request("GET", "/api/v1/false-positives").json()["false_positives"]) == 1


def test_removing_a_false_positive_lets_the_value_be_published_again(app: App):
    indicator_id = indexed_indicator(app, submit(app, january()), FALSE_POSITIVE)
    assert mark(app).status == 201
    removed = app.request("DELETE", "/api/v1/false-positives", query={"value": FALSE_POSITIVE})
    assert removed.status == 200, removed.body
    assert removed.json()["removed"] == [FALSE_POSITIVE]
    assert app.request("GET", "/api/v1/false-positives").json()["false_positives"] == []
    later = submit(app, single_source(FALSE_POSITIVE))
    assert later["counts"]["false_positive_skipped"] == 0
    published = indicator_for(bundle_of(app, later), FALSE_POSITIVE)
    assert published["id"] == successor_id(indicator_id)
    again = app.request("DELETE", "/api/v1/false-positives", query={"value": FALSE_POSITIVE})
    assert again.status == 404 and again.json()["where"] == "value"


def test_a_csv_submission_can_override_false_positives(app: App):
    indexed_indicator(app, submit(app, january()), FALSE_POSITIVE)
    assert mark(app).status == 201
    csv = f"type,value,role\nipv4-addr,{FALSE_POSITIVE},source\n"
    params = {"kind": "ddos", "campaign": "CSV follow-up"}
    skipped = app.request(
        "POST", "/api/v1/observations", body=csv, content_type="text/csv", query=params
    )
    assert skipped.status == 201, skipped.body
    assert skipped.json()["counts"]["false_positive_skipped"] == 1
    overridden = app.request(
        "POST",
        "/api/v1/observations",
        body=csv,
        content_type="text/csv",
        query={**params, "override_false_positives": "true"},
    )
    assert overridden.status == 201, overridden.body
    assert overridden.json()["counts"]["by_type"]["indicator"] == 1
    bad = app.request(
        "POST",
        "/api/v1/observations",
        body=csv,
        content_type="text/csv",
        query={**params, "override_false_positives": "perhaps"},
    )
    assert bad.status == 400
    assert bad.json()["where"] == "query parameter override_false_positives"


# -- refusals --------------------------------------------------------------------------------


def test_bad_requests_are_refused_and_write_nothing(app: App):
    resource = submit(app, example())
    indicator_id = indicator_for(bundle_of(app, resource), "198.51.100.7")["id"]
    count = stored_count(app)
    revoke_path = f"/api/v1/indicators/{indicator_id}/revoke"
    missing = "indicator--00000000-0000-4000-8000-000000000000"
    cases = [
        ("POST", revoke_path, {}, 400, "reason"),
        ("POST", revoke_path, {"reason": "   "}, 400, "reason"),
        ("POST", revoke_path, {"reason": 7}, 400, "reason"),
        ("POST", revoke_path, {"reason": "x", "why": "y"}, 400, "why"),
        ("POST", "/api/v1/indicators/campaign--1/revoke", {"reason": "x"}, 400, "indicator_id"),
        ("POST", f"/api/v1/indicators/{missing}/revoke", {"reason": "x"}, 404, "indicator_id"),
        ("POST", "/api/v1/submissions/nope/revoke", {"reason": "x"}, 404, "submission_id"),
        ("POST", f"/api/v1/submissions/{resource['id']}/revoke", {}, 400, "reason"),
        ("POST", "/api/v1/false-positives", {"value": "not a value!"}, 400, "value"),
        ("POST", "/api/v1/false-positives", {"reason": "x"}, 400, "value"),
        ("POST", "/api/v1/false-positives", {"value": FALSE_POSITIVE}, 400, "reason"),
    ]
    for method, path, body, status, where in cases:
        reply = app.request(method, path, json_body=body)
        assert reply.status == status, (path, body, reply.body)
        assert reply.json()["where"] == where, (path, body, reply.json())
    unrecognised = app.request(
        "POST", "/api/v1/false-positives", json_body={"value": "not a value!", "reason": "x"}
    )
    assert "'not a value!'" in unrecognised.json()["description"]
    malformed = app.request("POST", revoke_path, body=b"{nope", content_type="application/json")
    assert malformed.status == 400 and malformed.json()["where"] == "body"
    no_value = app.request("DELETE", "/api/v1/false-positives")
    assert no_value.status == 400 and no_value.json()["where"] == "value"
    assert stored_count(app) == count
    assert app.services.store.list_false_positives() == []
    [indicator] = taxii_objects(app, app.default_collection, id=indicator_id)
    assert "revoked" not in indicator


def test_partners_may_not_revoke_or_declare_false_positives(app: App):
    resource = submit(app, example())
    indicator_id = indicator_for(bundle_of(app, resource), "198.51.100.7")["id"]
    issued = add_partner(
        app.services.store,
        "cert-ee",
        "partner",
        org_name=app.settings.org_name,
        clearance="amber",
        can_read=[app.default_collection],
        can_write=[app.default_collection],
    )
    count = stored_count(app)
    requests = [
        ("POST", f"/api/v1/indicators/{indicator_id}/revoke", {"reason": "x"}),
        ("POST", f"/api/v1/submissions/{resource['id']}/revoke", {"reason": "x"}),
        ("POST", "/api/v1/false-positives", {"value": FALSE_POSITIVE, "reason": "x"}),
        ("GET", "/api/v1/false-positives", None),
    ]
    for method, path, body in requests:
        reply = app.request(method, path, json_body=body, key=issued.key)
        assert reply.status == 403, (path, reply.body)
        assert "analyst" in reply.json()["description"]
    delete = app.request(
        "DELETE", "/api/v1/false-positives", query={"value": FALSE_POSITIVE}, key=issued.key
    )
    assert delete.status == 403
    assert app.request("GET", "/api/v1/false-positives", key=False).status == 401
    assert stored_count(app) == count
    assert app.services.store.list_false_positives() == []


def test_an_analyst_revokes_only_where_it_may_write(app: App):
    resource = submit(app, example())
    indicator_id = indicator_for(bundle_of(app, resource), "198.51.100.7")["id"]
    reader = add_partner(
        app.services.store,
        "analyst-ro",
        "analyst",
        org_name=app.settings.org_name,
        can_read=[app.default_collection],
    )
    stranger = add_partner(
        app.services.store, "analyst-elsewhere", "analyst", org_name=app.settings.org_name
    )
    count = stored_count(app)
    refused = revoke(app, indicator_id, key=reader.key)
    assert refused.status == 403 and refused.json()["where"] == "indicator_id"
    unseen = revoke(app, indicator_id, key=stranger.key)
    assert unseen.status == 404
    submission = app.request(
        "POST",
        f"/api/v1/submissions/{resource['id']}/revoke",
        json_body={"reason": "x"},
        key=stranger.key,
    )
    assert submission.status == 404
    assert stored_count(app) == count
    writer = add_partner(
        app.services.store,
        "analyst-rw",
        "analyst",
        org_name=app.settings.org_name,
        can_read=[app.default_collection],
        can_write=[app.default_collection],
    )
    done = revoke(app, indicator_id, key=writer.key)
    assert done.status == 200
    [note] = taxii_objects(app, app.default_collection, type="note")
    assert note["authors"] == ["analyst-rw"]


def test_json_override_must_be_a_boolean(app: App):
    report = copy.deepcopy(example())
    report["override_false_positives"] = "yes"
    reply = app.submit(report)
    assert reply.status == 400
    assert reply.json()["where"] == "override_false_positives"
    assert stored_count(app) == 0


def test_a_partner_indicator_is_revoked_with_the_identity_the_note_names(app: App):
    """A collection filled over TAXII may not hold steppe's own identity yet."""
    created = app.request("POST", "/api/v1/admin/collections", json_body={"title": "From CERT-KG"})
    collection_id = created.json()["id"]
    partner_indicator = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--3f0c9b4e-2d1a-4c8e-9a7b-5e6f7a8b9c0d",
        "created": "2009-01-19T08:00:00.000Z",
        "modified": "2009-01-19T08:00:00.000Z",
        "name": "DDoS source 203.0.113.5",
        "indicator_types": ["malicious-activity"],
        "pattern": "[ipv4-addr:value = '203.0.113.5']",
        "pattern_type": "stix",
        "valid_from": "2009-01-19T08:00:00Z",
        "object_marking_refs": [tlp.GREEN.marking_id],
    }
    envelope = {"objects": [tlp.GREEN.marking_definition(), partner_indicator]}
    posted = app.request(
        "POST",
        f"/taxii2/{app.settings.api_root}/collections/{collection_id}/objects/",
        body=json.dumps(envelope),
        headers={**TAXII},
        content_type="application/taxii+json;version=2.1",
    )
    assert posted.status == 202, posted.body
    app.drain()
    reply = revoke(app, partner_indicator["id"])
    assert reply.status == 200, reply.body
    assert [c["id"] for c in reply.json()["collections"]] == [collection_id]
    pulled = taxii_objects(app, collection_id)
    by_type = {o["type"]: o for o in pulled if o["type"] != "marking-definition"}
    assert set(by_type) == {"indicator", "note", "identity"}
    assert by_type["indicator"]["revoked"] is True
    assert by_type["note"]["created_by_ref"] == by_type["identity"]["id"]
    assert by_type["identity"]["id"] == org_identity_id(app.settings.org_name)
    assert by_type["note"]["object_marking_refs"] == [tlp.GREEN.marking_id]
    assert_valid(*pulled)
