"""TLP: a partner only ever receives objects at or below its clearance, on every endpoint."""

import pytest
from taxii_world import CAMPAIGN, Loaded, ids_of, objects_of, pages, stored_version

from steppe.stix import tlp

AMBER_AND_ABOVE = {level.marking_id for level in tlp.LEVELS if level.rank >= tlp.AMBER.rank}


def _marked_above_green(obj: dict) -> bool:
    return obj["type"] != "marking-definition" and bool(
        AMBER_AND_ABOVE & set(obj.get("object_marking_refs", []))
    )


def _latest(objects: list[dict]) -> dict[str, dict]:
    latest: dict[str, dict] = {}
    for obj in objects:
        latest[obj["id"]] = obj  # objects are in date_added order; versions only grow here
    return latest


@pytest.mark.parametrize("limit", [1, 2, 1000])
def test_a_green_partner_pages_through_green_objects_only_and_misses_none(loaded: Loaded, limit):
    world = loaded.world
    replies = pages(world, world.collection_path(rest="objects/"), "kg-green", limit=limit)
    received = [obj for reply in replies for obj in objects_of(reply)]
    assert not any(_marked_above_green(obj) for obj in received)
    # Exactly the latest versions that are GREEN or below, in order: last is judged among all
    # versions, so the indicator whose latest version is AMBER is left out entirely.
    latest = _latest(loaded.objects)
    expected = [
        obj
        for obj in loaded.objects
        if latest[obj["id"]] is obj and stored_version(obj).tlp <= tlp.GREEN.rank
    ]
    assert received == expected
    assert loaded.mixed not in {obj["id"] for obj in received}
    for reply in replies:  # filtered objects in between never make a page empty or short
        body = reply.json()
        if body.get("more"):
            assert len(body["objects"]) == limit and body["next"]


def test_every_version_a_green_partner_receives_is_green(loaded: Loaded):
    world = loaded.world
    replies = pages(
        world,
        world.collection_path(rest="objects/"),
        "kg-green",
        limit=3,
        **{"match[version]": "all"},
    )
    received = [obj for reply in replies for obj in objects_of(reply)]
    assert received == loaded.visible_to(tlp.GREEN.rank)
    amber = world.get(
        world.collection_path(rest="objects/"), "kg-amber", query={"match[version]": "all"}
    )
    assert objects_of(amber) == loaded.visible_to(tlp.AMBER.rank)
    assert len(objects_of(amber)) > len(received)


def test_the_manifest_leaves_out_what_the_partner_may_not_receive(loaded: Loaded):
    world = loaded.world
    reply = world.get(
        world.collection_path(rest="manifest/"), "kg-green", query={"match[version]": "all"}
    )
    listed = [record["id"] for record in reply.json()["objects"]]
    assert not set(loaded.amber_indicators) & set(listed)
    assert listed.count(loaded.mixed) == 1  # its GREEN first version only
    assert listed == [obj["id"] for obj in loaded.visible_to(tlp.GREEN.rank)]


@pytest.mark.parametrize("rest", ["objects/{id}/", "objects/{id}/versions/"])
def test_an_amber_object_does_not_exist_for_a_green_partner(loaded: Loaded, rest):
    world = loaded.world
    amber = loaded.amber_indicators[0]
    path = world.collection_path(rest=rest.format(id=amber))
    assert world.get(path, "kg-green").status == 404
    assert world.get(path, "kg-amber").status == 200
    by_id = world.get(
        world.collection_path(rest="objects/"), "kg-green", query={"match[id]": amber}
    )
    assert by_id.body == b"{}"


def test_an_object_partly_above_clearance_shows_only_its_green_versions(loaded: Loaded):
    world = loaded.world
    versions = world.get(
        world.collection_path(rest=f"objects/{loaded.mixed}/versions/"), "kg-green"
    )
    (version,) = versions.json()["versions"]
    every = world.get(
        world.collection_path(rest=f"objects/{loaded.mixed}/"),
        "kg-green",
        query={"match[version]": "all"},
    )
    (only,) = objects_of(every)
    assert only["object_marking_refs"] == [tlp.GREEN.marking_id]
    assert only["modified"] == version
    # Its latest version is AMBER: "last" finds nothing the partner may receive.
    latest = world.get(world.collection_path(rest=f"objects/{loaded.mixed}/"), "kg-green")
    assert (latest.status, latest.body) == (200, b"{}")
    assert (
        len(
            world.get(world.collection_path(rest=f"objects/{loaded.mixed}/versions/")).json()[
                "versions"
            ]
        )
        == 2
    )


def test_a_clear_partner_receives_the_marking_definitions_only(loaded: Loaded):
    world = loaded.world
    reply = world.get(world.collection_path(rest="objects/"), "kg-clear")
    assert [obj["type"] for obj in objects_of(reply)] == ["marking-definition"] * 2
    assert world.get(world.collection_path(rest=f"objects/{CAMPAIGN}/"), "kg-clear").status == 404


def test_admins_receive_everything(loaded: Loaded):
    world = loaded.world
    reply = world.get(world.collection_path(rest="objects/"), query={"match[version]": "all"})
    assert ids_of(reply) == [obj["id"] for obj in loaded.objects]
