"""Every TAXII request leaves one audit record, refused ones included."""

import json

from taxii_world import HOUR, TAXII, World, indicator, store

from steppe.stix.timestamps import now_micros
from steppe.store.port import AuditRecord


def _record(world: World, reply) -> AuditRecord:
    request_id = reply.header("x-amzn-RequestId")
    found = [
        record
        for record in world.app.services.store.list_audit(since=now_micros() - HOUR, limit=100)
        if record.request_id == request_id
    ]
    assert len(found) == 1, request_id
    return found[0]


def test_each_request_is_recorded_with_who_what_and_how_many(world: World):
    store(world.app, world.shared, [indicator("198.51.100.90"), indicator("198.51.100.91")])
    objects_path = world.collection_path(rest="objects/")
    envelope = json.dumps({"objects": [indicator("198.51.100.92"), indicator("198.51.100.93")]})

    read = world.get(objects_path, query={"match[type]": "indicator", "limit": "5"})
    posted = world.request(
        "POST", objects_path, "kg-amber", body=envelope, headers={"Content-Type": TAXII}
    )
    refused = world.request(
        "POST", objects_path, "kg-green", body=envelope, headers={"Content-Type": TAXII}
    )
    anonymous = world.app.request("GET", "/taxii2/", headers={"Accept": TAXII}, key=False)
    discovery = world.get("/taxii2/", "kg-green")

    record = _record(world, read)
    assert (record.partner, record.method, record.path, record.status) == (
        "admin",
        "GET",
        objects_path,
        200,
    )
    assert (record.collection_id, record.objects) == (world.shared, 2)
    assert record.detail == "match[type]=indicator&limit=5"

    record = _record(world, posted)
    assert (record.partner, record.method, record.status, record.objects) == (
        "kg-amber",
        "POST",
        202,
        2,
    )

    record = _record(world, refused)
    assert (record.partner, record.status, record.objects) == ("kg-green", 403, 0)
    assert "can_write is false" in record.detail

    record = _record(world, anonymous)
    assert (record.partner, record.status, record.collection_id) == (None, 401, None)
    assert "no credentials" in record.detail

    record = _record(world, discovery)
    assert (record.partner, record.path, record.status) == ("kg-green", "/taxii2/", 200)
