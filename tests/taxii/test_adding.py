"""Adding objects (section 5.5) and their status (section 4.3), on both shapes."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from taxii_world import (
    CAMPAIGN,
    DAY,
    HOUR,
    TAXII,
    World,
    campaign,
    identity,
    ids_of,
    indicator,
    make_world,
    new_collection,
    objects_of,
    relationship,
)

from steppe.stix import tlp
from steppe.stix.timestamps import format_stix
from support.app import open_app

TLP1_GREEN = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"


def post(world: World, objects: list[Any], who: str = "admin", collection: str | None = None, **kw):
    return world.request(
        "POST",
        world.collection_path(collection, "objects/"),
        who,
        body=json.dumps({"objects": objects}),
        headers={"Content-Type": kw.pop("content_type", TAXII)},
        **kw,
    )


def status_of(world: World, status_id: str, who: str = "admin"):
    return world.get(f"/taxii2/steppe/status/{status_id}/", who)


def test_valid_objects_are_stored_as_sent_and_invalid_ones_reported(world: World):
    sent = {
        "id": "indicator--1d7c2f8a-5b3e-4c9d-8a6f-0e1b2c3d4e5f",  # id before type: kept
        "type": "indicator",
        "spec_version": "2.1",
        "created": "2009-01-18T10:15:00.123456Z",
        "modified": "2009-01-18T10:15:00.123456Z",
        "name": "Источник DDoS 198.51.100.17",
        "pattern": "[ipv4-addr:value = '198.51.100.17']",
        "pattern_type": "stix",
        "valid_from": "2009-01-18T10:15:00Z",
        "x_cert_kg_confidence_note": "seen by all four ISPs",
        "object_marking_refs": [tlp.GREEN.marking_id],
    }
    no_pattern = indicator("198.51.100.18")
    del no_pattern["pattern"]
    wrong_id = {**campaign(DAY), "id": "indicator--5b6c7d8e-9f0a-4b1c-8d2e-3f4a5b6c7d8e"}
    link = relationship(sent["id"], CAMPAIGN)
    reply = post(world, [sent, no_pattern, wrong_id, "not an object", link])

    assert reply.status == 202
    assert reply.header("Content-Type") == TAXII
    status = reply.json()
    assert status["status"] == "complete"
    assert (status["total_count"], status["success_count"], status["failure_count"]) == (5, 2, 3)
    assert status["pending_count"] == 0
    assert [s["id"] for s in status["successes"]] == [sent["id"], link["id"]]
    assert status["successes"][0]["version"] == "2009-01-18T10:15:00.123456Z"
    failures = {f["id"]: f for f in status["failures"]}
    assert "pattern" in failures[no_pattern["id"]]["message"]
    assert failures[no_pattern["id"]]["version"] == no_pattern["modified"]
    assert "campaign--<UUID>" in failures[wrong_id["id"]]["message"]
    assert failures["objects[3]"]["message"] == "not a JSON object"

    stored = world.get(world.collection_path(rest=f"objects/{sent['id']}/"))
    assert stored.body == b'{"more":false,"objects":[' + orjson.dumps(sent) + b"]}"
    assert objects_of(stored) == [sent]
    assert list(objects_of(stored)[0]) == list(sent)  # property order as sent
    assert world.get(world.collection_path(rest=f"objects/{no_pattern['id']}/")).status == 404
    assert status_of(world, status["id"]).json() == status


def test_duplicates_are_successes_and_new_versions_are_added(world: World):
    objects = [identity(), campaign(DAY + HOUR), indicator("198.51.100.31")]
    first = post(world, objects).json()
    assert [s["message"] for s in first["successes"]] == ["added"] * 3
    again = post(world, objects).json()
    assert again["success_count"] == 3 and again["failure_count"] == 0
    assert {s["message"] for s in again["successes"]} == {
        "already in the collection (an identical version)"
    }
    assert world.app.services.store.count_objects(world.shared) == 3
    newer = post(world, [campaign(DAY + 2 * HOUR)]).json()
    # "added", like a new object: the message never tells whether earlier versions exist
    # (a poster may not be cleared to read them).
    assert newer["successes"] == [
        {"id": CAMPAIGN, "version": format_stix(DAY + 2 * HOUR), "message": "added"}
    ]
    versions = world.get(world.collection_path(rest=f"objects/{CAMPAIGN}/versions/")).json()
    assert versions["versions"] == [format_stix(DAY + HOUR), format_stix(DAY + 2 * HOUR)]


def test_a_content_type_without_version_is_accepted(world: World):
    reply = post(world, [indicator("198.51.100.32")], content_type="application/taxii+json")
    assert reply.status == 202
    assert reply.json()["success_count"] == 1


def test_an_empty_envelope_completes_at_once(world: World):
    status = post(world, []).json()
    assert (status["status"], status["total_count"], status["pending_count"]) == ("complete", 0, 0)
    assert "successes" not in status and "failures" not in status


@pytest.mark.parametrize(
    ("body", "status", "said"),
    [
        (b"{not json", 400, "not JSON"),
        (b"[]", 422, "TAXII envelope"),
        (b'{"objects": {"type": "indicator"}}', 422, "must be a list"),
    ],
)
def test_a_body_that_is_not_an_envelope_is_refused(world: World, body, status, said):
    reply = world.request(
        "POST", world.collection_path(rest="objects/"), body=body, headers={"Content-Type": TAXII}
    )
    assert reply.status == status
    assert reply.header("Content-Type") == TAXII
    assert said in reply.json()["description"]
    assert world.app.services.store.count_objects(world.shared) == 0


def test_posted_objects_get_their_tlp_from_markings_or_the_collection(world: World):
    store = world.app.services.store
    amber_default = new_collection(store, world.root, "Ministry feeds", tlp.AMBER.rank)
    world.partner("ministry", "amber", write=[amber_default, world.shared])
    world.partner("isp-noc", "green", read=[amber_default, world.shared])
    unmarked = indicator("198.51.100.41", level=None)
    green = indicator("198.51.100.42", tlp.GREEN)
    amber = indicator("203.0.113.43", tlp.AMBER)
    old_green = indicator("198.51.100.44", level=None, object_marking_refs=[TLP1_GREEN])
    red_definition = tlp.RED.marking_definition()
    sent = [unmarked, green, amber, old_green, red_definition]
    for collection in (amber_default, world.shared):
        assert post(world, sent, "ministry", collection).json()["success_count"] == 5

    in_amber = ids_of(world.get(world.collection_path(amber_default, "objects/"), "isp-noc"))
    assert in_amber == [green["id"], old_green["id"], red_definition["id"]]
    in_green = ids_of(world.get(world.collection_path(rest="objects/"), "isp-noc"))
    assert in_green == [unmarked["id"], green["id"], old_green["id"], red_definition["id"]]


@pytest.fixture(params=["sqlite", "aws"])
def small_parts(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    """Envelopes above 4 objects are queued, in parts of 3."""
    app = open_app(
        tmp_path / "data",
        request.param,
        STEPPE_TAXII_SYNC_OBJECTS="4",
        STEPPE_TAXII_PART_OBJECTS="3",
    )
    yield make_world(app)
    app.close()


def test_a_large_envelope_is_queued_and_completed_by_the_worker(small_parts: World):
    world = small_parts
    objects: list[Any] = [indicator(f"198.51.100.{n}") for n in range(50, 56)]
    broken = indicator("198.51.100.56")
    broken["pattern"] = "[ipv4-addr:value = ]"
    objects.insert(4, broken)

    reply = post(world, objects, "kg-amber")
    assert reply.status == 202
    pending = reply.json()
    assert pending["status"] == "pending"
    assert (pending["total_count"], pending["success_count"], pending["pending_count"]) == (7, 0, 7)
    assert world.app.pending_jobs() == 3
    assert status_of(world, pending["id"], "kg-amber").json() == pending
    assert world.get(world.collection_path(rest="objects/")).body == b"{}"

    assert world.app.drain() == 3 + 1  # the parts, then one correlation of the whole envelope
    done = status_of(world, pending["id"], "kg-amber").json()
    assert done["status"] == "complete"
    assert (done["success_count"], done["failure_count"], done["pending_count"]) == (6, 1, 0)
    assert done["failures"][0]["id"] == broken["id"]
    assert "pattern" in done["failures"][0]["message"]
    stored = objects_of(world.get(world.collection_path(rest="objects/")))
    assert stored == [obj for obj in objects if obj is not broken]
    assert not [key for key in world.app.blob_keys() if key.startswith("taxii/")]
    assert world.app.dead_letters() == []


def test_a_status_is_only_visible_to_the_partner_that_posted(world: World):
    status = post(world, [indicator("198.51.100.61")], "kg-amber").json()
    path = f"/taxii2/steppe/status/{status['id']}/"
    assert world.get(path, "kg-amber").status == 200
    for other in ("kg-green", "drop-box", "admin"):
        reply = world.get(path, other)
        assert reply.status == 404, other
        assert reply.header("Content-Type") == TAXII
    assert world.get(path.replace("/steppe/", "/elsewhere/"), "kg-amber").status == 404
