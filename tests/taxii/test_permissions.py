"""Collection access (sections 5.1-5.8): 404 for what a caller may not see, 403 for the rest."""

import json

import pytest
from taxii_world import CAMPAIGN, TAXII, Loaded, indicator

READS = ["objects/", "manifest/", f"objects/{CAMPAIGN}/", f"objects/{CAMPAIGN}/versions/"]


def _post(loaded: Loaded, who: str, collection_id: str | None = None):
    world = loaded.world
    body = json.dumps({"objects": [indicator("198.51.100.200")]})
    return world.request(
        "POST",
        world.collection_path(collection_id, "objects/"),
        who,
        body=body,
        headers={"Content-Type": TAXII},
    )


def _unchanged(loaded: Loaded) -> None:
    world = loaded.world
    assert world.app.services.store.count_objects(world.shared) == len(loaded.objects)


@pytest.mark.parametrize("rest", READS)
def test_a_write_only_partner_may_not_read(loaded: Loaded, rest):
    world = loaded.world
    reply = world.get(world.collection_path(rest=rest), "drop-box")
    assert reply.status == 403
    assert reply.header("Content-Type") == TAXII
    assert "can_read is false" in reply.json()["description"]
    assert world.get(world.collection_path(), "drop-box").status == 200  # but sees it


def test_a_read_only_partner_may_not_add(loaded: Loaded):
    reply = _post(loaded, "kg-green")
    assert reply.status == 403
    assert "can_write is false" in reply.json()["description"]
    _unchanged(loaded)


@pytest.mark.parametrize("who", ["kg-green", "drop-box"])
def test_delete_needs_read_and_write(loaded: Loaded, who):
    world = loaded.world
    reply = world.request("DELETE", world.collection_path(rest=f"objects/{CAMPAIGN}/"), who)
    assert reply.status == 403
    assert "both read and write" in reply.json()["description"]
    _unchanged(loaded)


@pytest.mark.parametrize("rest", ["", *READS])
def test_a_collection_without_any_access_is_404_to_read(loaded: Loaded, rest):
    world = loaded.world
    refused = world.get(world.collection_path(world.private, rest), "kg-amber")
    assert refused.status == 404
    assert f"no collection '{world.private}'" in refused.json()["description"]
    admin = world.get(world.collection_path(world.private, rest))
    if CAMPAIGN in rest:  # the collection is there for an admin; the object is not
        assert f"no object '{CAMPAIGN}'" in admin.json()["description"]
    else:
        assert admin.status == 200


def test_a_collection_without_any_access_is_404_to_write_and_delete(loaded: Loaded):
    world = loaded.world
    assert _post(loaded, "kg-amber", world.private).status == 404
    deleted = world.request(
        "DELETE", world.collection_path(world.private, f"objects/{CAMPAIGN}/"), "kg-amber"
    )
    assert deleted.status == 404
    assert world.app.services.store.count_objects(world.private) == 0


def test_collections_of_another_api_root_are_not_found_there(loaded: Loaded):
    world = loaded.world
    from steppe.store.port import ApiRoot

    world.app.services.store.put_api_root(ApiRoot("ngo", "NGO sharing group"))
    reply = world.get(f"/taxii2/ngo/collections/{world.shared}/objects/")
    assert reply.status == 404
    assert world.get("/taxii2/ngo/collections/").body == b"{}"
    assert world.get(f"/taxii2/steppe/collections/{world.shared}/objects/").status == 200
