"""The AWS shape end to end: HTTP to the API, the handlers on DynamoDB, S3 and SQS (moto server).

Submissions inline and in chunks through the queue, correlation jobs linking
two reports, a partner pulling over TAXII page by page and posting envelopes
(inline and in queued parts), a revocation reaching TAXII as a new version,
and a dead-lettered job redriven. Thresholds are lowered by the `stack`
fixture (20 observables a chunk, 20 objects an inline envelope) so that the
queued paths run on a few dozen objects.
"""

from __future__ import annotations

import uuid
from typing import Any

import boto3
from aws_stack import TAXII, Stack

from steppe.stix import tlp

ROOT = "steppe"  # the API root (STEPPE_API_ROOT's default)
KYRGYZSTAN = "Kyrgyzstan ISP DDoS, January 2009"
FOLLOW_UP = "Follow-up flood, February 2009"
SHARED = ["198.51.100.7", "198.51.100.23", "203.0.113.66"]


def report(campaign: str, addresses: list[str], first_seen: str) -> dict[str, Any]:
    return {
        "tlp": "green",
        "attack": {"kind": "ddos", "first_seen": first_seen},
        "campaign": {"name": campaign},
        "observables": [
            {"type": "ipv4-addr", "value": address, "role": "source", "asn": 64500}
            for address in addresses
        ],
    }


def pull(stack: Stack, collection: str, key: str = "admin", **match: str) -> list[dict]:
    """Every object of the collection over TAXII, following `next` page by page."""
    objects: list[dict] = []
    query = {f"match[{name}]": value for name, value in match.items()} | {"limit": "25"}
    while True:
        reply = stack.taxii(f"{ROOT}/collections/{collection}/objects/", key=key, **query)
        assert reply.status == 200, reply.body
        page = reply.json()
        objects += page.get("objects", [])
        if not page.get("more"):
            assert "next" not in page
            return objects
        query["next"] = page["next"]


def default_collection(stack: Stack) -> str:
    listed = stack.taxii(f"{ROOT}/collections/").json()["collections"]
    [collection] = [c["id"] for c in listed if c["title"] == "steppe indicators"]
    return collection


def indicator_values(objects: list[dict]) -> set[str]:
    return {
        o["pattern"].split("'")[1]
        for o in objects
        if o["type"] == "indicator" and o["pattern"].startswith("[ipv4-addr:value")
    }


def test_a_small_submission_completes_inline_and_a_partner_pulls_it(stack: Stack):
    accepted = stack.request(
        "POST", "/api/v1/observations", json_body=report(KYRGYZSTAN, SHARED, "2009-01-18T00:00:00Z")
    )
    assert accepted.status == 201, accepted.body
    assert accepted.json()["status"] == "complete"
    assert stack.drain() >= 1  # its correlation job, through the queue
    assert stack.dead_letters() == 0

    collection = default_collection(stack)
    partner = stack.request(
        "POST",
        "/api/v1/admin/partners",
        json_body={"name": "cert-kg", "tlp": "green", "read": [collection]},
    )
    assert partner.status == 201, partner.body
    key = partner.json()["key"]

    discovery = stack.request("GET", "/taxii2/", headers=TAXII, key=key)
    assert discovery.status == 200 and discovery.json()["api_roots"], discovery.body
    assert stack.taxii(f"{ROOT}/", key=key).status == 200
    listed = stack.taxii(f"{ROOT}/collections/", key=key).json()["collections"]
    assert [c["id"] for c in listed] == [collection]
    assert listed[0]["can_read"] is True and listed[0]["can_write"] is False
    assert indicator_values(pull(stack, collection, key=key)) == set(SHARED)
    assert stack.taxii(f"{ROOT}/collections/", key=None).status == 401
    assert stack.taxii(f"{ROOT}/collections/", key="not-a-key").status == 401


def test_a_chunked_submission_goes_through_the_queue_and_pages_over_taxii(stack: Stack):
    addresses = [f"198.51.100.{n}" for n in range(1, 51)]  # 50 observables: chunks of 20, 20, 10
    accepted = stack.request(
        "POST",
        "/api/v1/observations",
        json_body=report(KYRGYZSTAN, addresses, "2009-01-18T00:00:00Z"),
    )
    assert accepted.status == 202, accepted.body
    submission = accepted.json()["id"]
    assert stack.pending_jobs() == 3
    pending = stack.request("GET", f"/api/v1/submissions/{submission}").json()
    assert pending["status"] != "complete"

    ran = stack.drain()
    assert ran >= 3  # three chunks, then the correlation jobs they queued
    done = stack.request("GET", f"/api/v1/submissions/{submission}")
    assert done.status == 200 and done.json()["status"] == "complete", done.body
    objects = pull(stack, default_collection(stack), type="indicator")
    assert len(objects) == 50 and indicator_values(objects) == set(addresses)
    assert stack.dead_letters() == 0


def campaign_id(stack: Stack, name: str) -> str:
    campaigns = pull(stack, default_collection(stack), type="campaign")
    [found] = [c["id"] for c in campaigns if c["name"] == name]
    return found


def test_two_submissions_sharing_addresses_are_correlated_by_the_worker(stack: Stack):
    first = report(KYRGYZSTAN, [*SHARED, "198.51.100.41"], "2009-01-18T00:00:00Z")
    second = report(FOLLOW_UP, [*SHARED, "192.0.2.99"], "2009-02-03T00:00:00Z")
    for body in (first, second):
        assert stack.request("POST", "/api/v1/observations", json_body=body).status == 201
    assert stack.drain() >= 2  # a correlation job for each
    kyrgyzstan, follow_up = campaign_id(stack, KYRGYZSTAN), campaign_id(stack, FOLLOW_UP)

    seen = stack.request("GET", "/api/v1/observables", query={"value": "198.51.100.7"}).json()
    assert seen["found"] and {c["id"] for c in seen["campaigns"]} == {kyrgyzstan, follow_up}
    unseen = stack.request("GET", "/api/v1/observables", query={"value": "192.0.2.99"}).json()
    assert {c["id"] for c in unseen["campaigns"]} == {follow_up}

    view = stack.request("GET", f"/api/v1/campaigns/{follow_up}").json()
    exact = [r for r in view["related"] if r["strength"] == "exact"]
    assert [r["campaign"]["id"] for r in exact] == [kyrgyzstan]
    assert sorted(exact[0]["shared"]) == sorted(SHARED)


def indicator(address: str, marking: str) -> dict[str, Any]:
    stamp = "2008-08-20T12:00:00.000Z"
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": stamp,
        "modified": stamp,
        "name": f"DDoS source {address}",
        "indicator_types": ["malicious-activity"],
        "pattern": f"[ipv4-addr:value = '{address}']",
        "pattern_type": "stix",
        "valid_from": "2008-08-08T00:00:00Z",
        "object_marking_refs": [marking],
    }


def post_envelope(stack: Stack, collection: str, key: str, objects: list[dict]) -> dict:
    reply = stack.request(
        "POST",
        f"/taxii2/{ROOT}/collections/{collection}/objects/",
        json_body={"objects": objects},
        headers={"Content-Type": TAXII["Accept"], **TAXII},
        key=key,
    )
    assert reply.status == 202, reply.body
    return reply.json()


def status_of(stack: Stack, status_id: str, key: str) -> dict:
    reply = stack.taxii(f"{ROOT}/status/{status_id}/", key=key)
    assert reply.status == 200, reply.body
    return reply.json()


def test_a_partner_posts_envelopes_inline_and_in_queued_parts(stack: Stack):
    created = stack.request(
        "POST", "/api/v1/admin/collections", json_body={"title": "CERT-GE shared"}
    )
    assert created.status == 201, created.body
    collection = created.json()["id"]
    writer = stack.request(
        "POST",
        "/api/v1/admin/partners",
        json_body={"name": "cert-ge", "tlp": "amber", "read": [collection], "write": [collection]},
    ).json()["key"]
    amber = tlp.AMBER.marking_id

    small = [indicator(f"203.0.113.{n}", amber) for n in range(1, 6)]
    status = post_envelope(stack, collection, writer, small)
    assert status["status"] == "complete" and status["success_count"] == 5, status

    large = [indicator(f"198.51.100.{n}", amber) for n in range(1, 51)]  # 50: parts of 20
    status = post_envelope(stack, collection, writer, large)
    assert status["status"] == "pending" and status["pending_count"] > 0, status
    stack.drain()
    final = status_of(stack, status["id"], writer)
    assert final["status"] == "complete", final
    assert (final["success_count"], final["failure_count"], final["pending_count"]) == (50, 0, 0)

    pulled = pull(stack, collection, key=writer, type="indicator")
    assert {o["id"] for o in pulled} == {o["id"] for o in small + large}
    assert stack.dead_letters() == 0


def test_a_revoked_indicator_reaches_taxii_as_a_new_revoked_version(stack: Stack):
    accepted = stack.request(
        "POST", "/api/v1/observations", json_body=report(KYRGYZSTAN, SHARED, "2009-01-18T00:00:00Z")
    )
    assert accepted.status == 201, accepted.body
    stack.drain()
    collection = default_collection(stack)
    [original] = [
        o for o in pull(stack, collection, type="indicator") if "198.51.100.7'" in o["pattern"]
    ]

    reason = "Sinkholed by the ISP; the address now belongs to a university"
    revoked = stack.request(
        "POST", f"/api/v1/indicators/{original['id']}/revoke", json_body={"reason": reason}
    )
    assert revoked.status == 200, revoked.body
    assert revoked.json()["revoked"] is True
    stack.drain()

    [latest] = pull(stack, collection, id=original["id"])
    assert latest["revoked"] is True and latest["modified"] > original["modified"]
    versions = pull(stack, collection, id=original["id"], version="all")
    assert len(versions) == 2
    [note] = pull(stack, collection, type="note")
    assert note["object_refs"] == [original["id"]] and note["content"] == reason
    others = [o for o in pull(stack, collection, type="indicator") if o["id"] != original["id"]]
    assert len(others) == 2 and not any(o.get("revoked") for o in others)


def test_a_dead_lettered_chunk_is_stored_once_redriven_and_reprocess_completes_it(stack: Stack):
    addresses = [f"203.0.113.{n}" for n in range(1, 31)]  # 2 chunks: 20 and 10
    body = report(FOLLOW_UP, addresses, "2009-02-03T00:00:00Z")
    accepted = stack.request("POST", "/api/v1/observations", json_body=body)
    assert accepted.status == 202, accepted.body
    submission = accepted.json()["id"]
    s3, bucket = boto3.client("s3"), stack.settings.bucket_name
    chunk = f"submissions/{submission}/chunks/00002"
    kept = s3.get_object(Bucket=bucket, Key=chunk)["Body"].read()
    s3.delete_object(Bucket=bucket, Key=chunk)  # the job of chunk 2 cannot run

    stack.drain(failures_retry_at_once=True)
    assert stack.dead_letters() == 1
    failed = stack.request("GET", f"/api/v1/submissions/{submission}").json()
    assert failed["status"] == "failed", failed
    collection = default_collection(stack)
    pulled = indicator_values(pull(stack, collection, type="indicator"))
    assert len(pulled) == 20 and pulled < set(addresses)

    s3.put_object(Bucket=bucket, Key=chunk, Body=kept)  # the cause fixed
    assert stack.redrive() == 1
    stack.drain()
    assert stack.dead_letters() == 0
    objects = pull(stack, collection, type="indicator")
    assert len(objects) == 30 and indicator_values(objects) == set(addresses)
    redriven = stack.request("GET", f"/api/v1/submissions/{submission}").json()
    assert redriven["status"] == "failed", redriven  # as the README's redrive section says

    # The status keeps the failure its chunk recorded first; reprocessing settles it
    # and writes nothing twice.
    reprocessed = stack.request("POST", f"/api/v1/submissions/{submission}/reprocess")
    assert reprocessed.status in (200, 202), reprocessed.body
    stack.drain()
    done = stack.request("GET", f"/api/v1/submissions/{submission}").json()
    assert done["status"] == "complete", done
    again = pull(stack, collection, type="indicator")
    assert sorted(o["id"] for o in again) == sorted(o["id"] for o in objects)
    versions = pull(stack, collection, type="indicator", version="all")
    assert len(versions) == 30
