"""Submitting observations through the analyst API, on the embedded store."""

import copy
import json

import stix2
from stix2validator import ValidationOptions, validate_instance

from steppe.access.partners import add_partner
from steppe.stix.score_extension import EXTENSION_ID, PROJECT_IDENTITY_ID
from steppe.store.port import ALL_VERSIONS, ObjectQuery
from support.app import App, example, stored_count

VALIDATOR = ValidationOptions(version="2.1")


def assert_valid_bundle(bundle: dict) -> None:
    result = validate_instance(bundle, VALIDATOR)
    assert result.errors == [], [str(e) for e in result.errors]
    stix2.parse(bundle, allow_custom=False)


def test_kyrgyzstan_report_becomes_a_complete_valid_stix_bundle(app: App):
    report = example()
    reply = app.submit(report)
    assert reply.status == 201, reply.body
    resource = reply.json()
    assert resource["status"] == "complete"
    assert reply.header("Location") == resource["links"]["self"]
    assert resource["observables"] == len(report["observables"])
    by_type = resource["counts"]["by_type"]
    # 6 attacker observables (sources, the C2 domain, the bot's sample) become indicators, and
    # so do the bot's SHA-256 sample and its C2 address given under `malware`; the victim does not
    assert by_type["indicator"] == 8
    assert by_type["malware"] == 1 and by_type["infrastructure"] == 1
    assert by_type["campaign"] == 1 and by_type["intrusion-set"] == 1
    # the producer, the four ISPs and steppe (the author of the score extension)
    assert by_type["identity"] == 1 + 4 + 1
    assert resource["counts"]["created"] == resource["counts"]["objects"]

    bundle_reply = app.request("GET", resource["links"]["bundle"])
    assert bundle_reply.status == 200
    assert bundle_reply.header("Content-Type").startswith("application/stix+json")
    bundle = bundle_reply.json()
    assert_valid_bundle(bundle)
    objects = {o["id"]: o for o in bundle["objects"]}
    assert set(resource["objects"]["created"]) == set(objects)
    indicators = [o for o in objects.values() if o["type"] == "indicator"]
    patterns = {o["pattern"] for o in indicators}
    assert "[ipv4-addr:value = '198.51.100.7']" in patterns
    assert "[ipv4-addr:value = '192.0.2.10']" not in patterns  # the victim
    [campaign] = [o for o in objects.values() if o["type"] == "campaign"]
    assert campaign["name"] == report["campaign"]["name"]
    assert all(
        o["created_by_ref"] == campaign["created_by_ref"]
        for o in objects.values()
        if "created" in o
        and o["type"] != "marking-definition"
        and o["id"] not in (PROJECT_IDENTITY_ID, EXTENSION_ID)  # steppe's, the same everywhere
    )
    # what the bundle says is what the collection holds
    assert app.services.store.count_objects(app.default_collection) == len(objects)


def test_the_raw_body_is_archived_verbatim(app: App):
    raw = json.dumps(example(), indent=3).encode()
    reply = app.request("POST", "/api/v1/observations", body=raw, content_type="application/json")
    assert reply.status == 201
    submission = app.services.store.get_submission(reply.json()["id"])
    assert app.services.blobs.get(submission.meta["raw_key"]) == raw


def test_a_retry_returns_the_first_result_and_creates_nothing(app: App):
    first = app.submit(example()).json()
    count = stored_count(app)
    again = app.submit(example())
    assert again.status == 201
    assert again.json()["id"] == first["id"]
    assert stored_count(app) == count
    assert len(app.services.store.list_submissions()) == 1


def test_the_same_idempotency_key_returns_the_first_result(app: App):
    headers = {"Idempotency-Key": "kg-2009-upload-1"}
    first = app.submit(example(), headers=headers).json()
    changed = example()
    changed["confidence"] = 20
    reused = app.submit(changed, headers=headers)
    assert reused.status == 400
    assert reused.json()["where"] == "header Idempotency-Key"
    again = app.submit(example(), headers=headers)
    assert again.json()["id"] == first["id"]
    assert len(app.services.store.list_submissions()) == 1


def test_the_same_campaign_again_gets_the_same_id_and_a_new_version(app: App):
    first = app.submit(example()).json()
    later = example()
    later["attack"]["last_seen"] = "2009-02-05T00:00:00Z"
    later["observables"] = [
        {"type": "ipv4-addr", "value": "198.51.100.99", "role": "source", "country": "RU"}
    ]
    second = app.submit(later).json()
    assert second["id"] != first["id"]
    campaign_id = next(i for i in first["objects"]["created"] if i.startswith("campaign--"))
    assert campaign_id in second["objects"]["updated"]
    page = app.services.store.list_objects(
        app.default_collection, ObjectQuery(ids=frozenset({campaign_id}), versions=ALL_VERSIONS)
    )
    versions = [json.loads(r.body) for r in page.records]
    assert len(versions) == 2
    assert versions[0]["created"] == versions[1]["created"]
    assert versions[1]["modified"] > versions[0]["modified"]
    assert versions[1]["last_seen"].startswith("2009-02-05")
    assert versions[1]["first_seen"].startswith("2009-01-18")


def test_a_csv_of_observables_with_report_fields_as_parameters(app: App):
    csv = (
        "type,value,role,asn,country\n"
        "ipv4-addr,198.51.100.7,source,64500,RU\n"
        "ipv4-addr,203.0.113.9,source,,RU\n"
        "domain-name,isp-a.example.com,target,,\n"
    )
    reply = app.request(
        "POST",
        "/api/v1/observations",
        body=csv,
        content_type="text/csv",
        query={"kind": "ddos", "tlp": "green", "campaign": "Kyrgyzstan ISP DDoS, January 2009"},
    )
    assert reply.status == 201, reply.body
    resource = reply.json()
    assert resource["tlp"] == "green" and resource["counts"]["by_type"]["indicator"] == 2
    bundle = app.request("GET", resource["links"]["bundle"]).json()
    assert_valid_bundle(bundle)


def test_a_large_submission_is_queued_in_bounded_chunks(small_chunks: App):
    app = small_chunks
    report = example()
    report["observables"] = [
        {"type": "ipv4-addr", "value": f"198.51.100.{n}", "role": "source"} for n in range(100)
    ]
    reply = app.submit(report)
    assert reply.status == 202, reply.body
    pending = reply.json()
    assert pending["status"] == "pending"
    assert pending["chunks"] == {"total": 3, "done": 0, "failed": 0}
    assert app.pending_jobs() == 3

    assert app.drain() == 3
    done = app.request("GET", pending["links"]["self"]).json()
    assert done["status"] == "complete"
    assert done["chunks"] == {"total": 3, "done": 3, "failed": 0}
    # counts are per part: each of the 3 parts carries the report's header, the campaign and the
    # bot with the indicators of its sample and C2 values (3), besides its own sources
    by_type = done["counts"]["by_type"]
    assert by_type["campaign"] == 3 and by_type["malware"] == 3
    assert by_type["indicator"] == 100 + 3 * 3

    seen_indicators = set()
    for part in range(1, 4):
        reply = app.request("GET", pending["links"]["bundle"], query={"part": str(part)})
        assert reply.status == 200
        assert reply.header("X-Steppe-Parts") == "3"
        assert (reply.header("Link") is not None) == (part < 3)
        bundle = reply.json()
        assert_valid_bundle(bundle)
        chunk_indicators = {o["id"] for o in bundle["objects"] if o["type"] == "indicator"}
        # its sources and, in every part, the bot's sample and C2 indicators (3)
        assert len(chunk_indicators) == (40 if part < 3 else 20) + 3
        seen_indicators |= chunk_indicators
    assert len(seen_indicators) == 100 + 3
    out_of_range = app.request("GET", pending["links"]["bundle"], query={"part": "4"})
    assert out_of_range.status == 400 and out_of_range.json()["where"] == "query parameter part"


def test_a_chunk_that_keeps_failing_marks_the_submission_failed(small_chunks: App):
    app = small_chunks
    report = example()
    report["observables"] = [
        {"type": "ipv4-addr", "value": f"198.51.100.{n}", "role": "source"} for n in range(60)
    ]
    pending = app.submit(report).json()
    submission = app.services.store.get_submission(pending["id"])
    app.services.blobs.delete(submission.meta["chunk_keys"][1])  # chunk 2 is lost
    app.drain()
    failed = app.request("GET", pending["links"]["self"]).json()
    assert failed["status"] == "failed"
    assert failed["chunks"] == {"total": 2, "done": 2, "failed": 1}
    assert "chunk 2" in failed["errors"][0]["message"]
    assert app.dead_letters() == [
        {"task": "process_chunk", "submission_id": pending["id"], "chunk": 2}
    ]


def test_reprocessing_an_archived_submission_changes_nothing_when_nothing_changed(app: App):
    resource = app.submit(example()).json()
    count = stored_count(app)
    reply = app.request("POST", f"{resource['links']['self']}/reprocess")
    assert reply.status == 201
    again = reply.json()
    assert again["id"] == resource["id"] and again["status"] == "complete"
    assert again["counts"]["created"] == 0 and again["counts"]["updated"] == 0
    assert stored_count(app) == count


def test_analysts_see_their_own_submissions_only(app: App):
    store = app.services.store
    rights = {"can_read": [app.default_collection], "can_write": [app.default_collection]}
    alice = add_partner(store, "alice", "analyst", org_name="steppe", **rights).key
    bob = add_partner(store, "bob", "analyst", org_name="steppe", **rights).key
    mine = app.submit(example(), key=alice).json()
    assert app.request("GET", mine["links"]["self"], key=alice).status == 200
    assert app.request("GET", mine["links"]["self"], key=bob).status == 404
    assert app.request("GET", "/api/v1/submissions", key=bob).json() == {"submissions": []}
    listed = app.request("GET", "/api/v1/submissions").json()["submissions"]
    assert [s["id"] for s in listed] == [mine["id"]]  # the admin sees everyone's
    # its submitter may reprocess it (issue 8); another analyst does not learn it exists
    assert app.request("POST", f"{mine['links']['self']}/reprocess", key=alice).status == 201
    assert app.request("POST", f"{mine['links']['self']}/reprocess", key=bob).status == 404


def test_openapi_document_describes_the_api(app: App):
    reply = app.request("GET", "/api/v1/openapi.json", key=False)
    assert reply.status == 200
    document = reply.json()
    assert document["openapi"].startswith("3.")
    post = document["paths"]["/api/v1/observations"]["post"]
    schema = post["requestBody"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/Observations"}
    observations = document["components"]["schemas"]["Observations"]
    assert observations["required"] == ["attack", "observables"]
    assert "ddos" in observations["properties"]["attack"]["properties"]["kind"]["enum"]
    assert {
        "/api/v1/submissions/{submission_id}",
        "/api/v1/submissions/{submission_id}/bundle",
    } <= set(document["paths"])


def test_nothing_is_written_before_a_submission_is_valid(app: App):
    files_before = app.blob_keys()
    bad = copy.deepcopy(example())
    bad["observables"][1]["value"] = "198.51.100.300"
    reply = app.submit(bad)
    assert reply.status == 400
    assert app.blob_keys() == files_before
    assert stored_count(app) == 0


def test_a_long_running_server_keeps_accepting_submissions(tmp_path):
    """Metrics are off in the embedded shape; Powertools then never clears them, and the
    100th value of one metric used to fail the request that added it."""
    from support.app import open_app

    app = open_app(tmp_path / "data", "sqlite", STEPPE_CORRELATE="0")
    try:
        for n in range(120):
            report = example()
            report["campaign"]["name"] = f"Kyrgyzstan ISP DDoS, wave {n}"
            report["observables"] = report["observables"][:1]
            reply = app.submit(report)
            assert reply.status == 201, (n, reply.body)
    finally:
        app.close()
