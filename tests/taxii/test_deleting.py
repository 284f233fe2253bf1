"""Deleting an object (section 5.7), on both shapes."""

import json

import pytest
from taxii_world import CAMPAIGN, DAY, HOUR, TAXII, World, campaign, identity, indicator, store

from steppe.stix import tlp
from steppe.stix.timestamps import format_stix


@pytest.fixture
def filled(world: World) -> World:
    store(
        world.app,
        world.shared,
        [campaign(DAY + h * HOUR) for h in (1, 2, 3)] + [indicator("198.51.100.70")],
    )
    return world


def delete(world: World, object_id: str, who: str = "admin", **query: str):
    path = world.collection_path(rest=f"objects/{object_id}/")
    return world.request("DELETE", path, who, query=query or None)


def versions(world: World, object_id: str = CAMPAIGN) -> list[str]:
    reply = world.get(world.collection_path(rest=f"objects/{object_id}/versions/"))
    return reply.json().get("versions", []) if reply.status == 200 else []


def test_deleting_one_version_keeps_the_others(filled: World):
    reply = delete(filled, CAMPAIGN, **{"match[version]": "first"})
    assert (reply.status, reply.body) == (200, b"")
    assert reply.header("Content-Type") == TAXII
    assert versions(filled) == [format_stix(DAY + 2 * HOUR), format_stix(DAY + 3 * HOUR)]
    exact = delete(filled, CAMPAIGN, **{"match[version]": format_stix(DAY + 3 * HOUR)})
    assert exact.status == 200
    assert versions(filled) == [format_stix(DAY + 2 * HOUR)]


def test_deleting_an_object_removes_every_version_from_every_endpoint(filled: World):
    assert delete(filled, CAMPAIGN).status == 200
    assert filled.get(filled.collection_path(rest=f"objects/{CAMPAIGN}/")).status == 404
    assert filled.get(filled.collection_path(rest=f"objects/{CAMPAIGN}/versions/")).status == 404
    manifest = filled.get(filled.collection_path(rest="manifest/"), query={"match[version]": "all"})
    assert CAMPAIGN not in {record["id"] for record in manifest.json()["objects"]}
    assert filled.app.services.store.count_objects(filled.shared) == 1
    assert delete(filled, CAMPAIGN).status == 404  # nothing left to delete


def test_deleting_what_is_not_there_is_404(filled: World):
    missing = delete(filled, "indicator--00000000-0000-4000-8000-000000000000")
    assert missing.status == 404
    no_such_version = delete(filled, CAMPAIGN, **{"match[version]": "2010-01-01T00:00:00.000Z"})
    assert no_such_version.status == 404
    other_spec = delete(filled, CAMPAIGN, **{"match[spec_version]": "2.0"})
    assert other_spec.status == 404
    assert len(versions(filled)) == 3


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"match[version]": "all,first"}, "match[version]"),
        ({"added_after": "2009-01-18T00:00:00Z"}, "added_after"),
        ({"match[type]": "campaign"}, "match[type]"),
    ],
)
def test_malformed_delete_filters_are_400(filled: World, query, named):
    reply = delete(filled, CAMPAIGN, **query)
    assert reply.status == 400
    assert reply.json()["details"]["where"] == named
    assert len(versions(filled)) == 3


def _owned_by(world: World, partner: str) -> None:
    """The partner presents itself as CERT-KG over TAXII: it owns that identity from then on."""
    posted = world.request(
        "POST",
        world.collection_path(rest="objects/"),
        partner,
        body=json.dumps({"objects": [identity()]}),
        headers={"Content-Type": TAXII},
    ).json()
    assert posted["success_count"] == 1, posted


def test_a_partner_deletes_only_the_versions_it_may_read(world: World):
    """Versions above its clearance do not exist for it: they are neither deleted nor
    mentioned, and the answer is the one it gets for an object that has none."""
    world.partner("green-rw", "green", read=[world.shared], write=[world.shared])
    _owned_by(world, "green-rw")
    mixed = indicator("203.0.113.80", tlp.GREEN, modified=DAY)
    newer = indicator("203.0.113.80", tlp.AMBER, oid=mixed["id"], modified=DAY + HOUR)
    plain = indicator("203.0.113.82", tlp.GREEN, modified=DAY)
    amber_only = indicator("203.0.113.81", tlp.AMBER)
    store(world.app, world.shared, [mixed, newer, plain, amber_only])

    hidden = delete(world, amber_only["id"], "green-rw")
    assert hidden.status == 404  # it does not exist for this partner
    partly = delete(world, mixed["id"], "green-rw")
    without_hidden = delete(world, plain["id"], "green-rw")
    assert (partly.status, partly.body) == (without_hidden.status, without_hidden.body)
    assert partly.status == 200
    assert versions(world, mixed["id"]) == [format_stix(DAY + HOUR)]  # the AMBER one stays
    assert versions(world, plain["id"]) == []
    assert delete(world, amber_only["id"]).status == 200  # the admin sees it


def test_last_and_first_are_judged_among_the_versions_the_caller_may_read(world: World):
    world.partner("green-rw", "green", read=[world.shared], write=[world.shared])
    _owned_by(world, "green-rw")
    first = indicator("203.0.113.83", tlp.GREEN, modified=DAY)
    second = indicator("203.0.113.83", tlp.GREEN, oid=first["id"], modified=DAY + HOUR)
    hidden = indicator("203.0.113.83", tlp.AMBER, oid=first["id"], modified=DAY + 2 * HOUR)
    store(world.app, world.shared, [first, second, hidden])
    assert delete(world, first["id"], "green-rw", **{"match[version]": "last"}).status == 200
    assert versions(world, first["id"]) == [format_stix(DAY), format_stix(DAY + 2 * HOUR)]


def test_a_partner_cannot_delete_another_producers_object(world: World):
    """kg-amber may read and write the collection, but CERT-KG's objects are not its own."""
    world.partner("green-rw", "green", read=[world.shared], write=[world.shared])
    _owned_by(world, "green-rw")
    theirs = indicator("203.0.113.84", tlp.GREEN)
    store(world.app, world.shared, [theirs])
    refused = delete(world, theirs["id"], "kg-amber")
    assert refused.status == 403
    assert "another producer's object" in refused.json()["description"]
    assert versions(world, theirs["id"]) == [theirs["modified"]]
    assert delete(world, theirs["id"], "green-rw").status == 200
