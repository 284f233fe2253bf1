"""Paging (section 3.5): next tokens that carry everything, bounded pages, honest more."""

from itertools import pairwise

import pytest
from taxii_world import CAMPAIGN, TAXII, Loaded, ids_of, pages

from steppe.stix.timestamps import parse_micros


def _check_pages(replies, limit):
    sizes = []
    for reply in replies:
        assert reply.status == 200
        body = reply.json()
        sizes.append(len(body.get("objects", body.get("versions", []))))
        if body.get("more"):
            assert body["next"], "more: true without a next"
        else:
            assert "next" not in body
    assert replies[-1].json()["more"] is False
    # Full pages of `limit` (these objects are far from the byte bound), then the rest.
    full, rest = divmod(sum(sizes), limit)
    assert sizes == [limit] * full + ([rest] if rest else [])


@pytest.mark.parametrize("limit", [1, 4])
def test_next_with_limit_alone_walks_the_whole_listing(loaded: Loaded, limit):
    world = loaded.world
    path = world.collection_path(rest="objects/")
    everything = ids_of(world.get(path))
    replies = pages(world, path, limit=limit, **{"match[version]": "all"})
    _check_pages(replies, limit)
    all_versions = ids_of(world.get(path, query={"match[version]": "all"}))
    assert [i for r in replies for i in ids_of(r)] == all_versions
    assert set(all_versions) == set(everything)


def test_pages_follow_each_other_in_date_added_order(loaded: Loaded):
    world = loaded.world
    replies = pages(world, world.collection_path(rest="objects/"), limit=3)
    bounds = [
        (
            parse_micros(r.header("X-TAXII-Date-Added-First")),
            parse_micros(r.header("X-TAXII-Date-Added-Last")),
        )
        for r in replies
    ]
    for (first, last), (next_first, _) in pairwise(bounds):
        assert first <= last < next_first


def test_a_client_repeating_its_filters_with_next_gets_the_same_pages(loaded: Loaded):
    """What taxii2-client does: the original filters, next and limit on every request."""
    world = loaded.world
    path = world.collection_path(rest="manifest/")
    filters = {"match[type]": "indicator,campaign", "match[version]": "all"}
    reply = world.get(path, query={**filters, "limit": "2"})
    seen = [r["id"] for r in reply.json()["objects"]]
    while reply.json().get("more"):
        reply = world.get(path, query={**filters, "limit": "2", "next": reply.json()["next"]})
        assert reply.status == 200, reply.body
        seen += [r["id"] for r in reply.json().get("objects", [])]
    expected = [r["id"] for r in world.get(path, query=filters).json()["objects"]]
    assert seen == expected and len(seen) > 4


def test_next_with_other_filters_is_400(loaded: Loaded):
    world = loaded.world
    path = world.collection_path(rest="objects/")
    first = world.get(path, query={"match[type]": "indicator", "limit": "1"}).json()
    reply = world.get(path, query={"match[type]": "campaign", "next": first["next"]})
    assert reply.status == 400
    assert reply.header("Content-Type") == TAXII
    assert reply.json()["details"]["where"] == "next"
    # The same filters written in another order are the same filters.
    two = world.get(path, query={"match[type]": "indicator,campaign", "limit": "1"}).json()
    same = world.get(path, query={"match[type]": "campaign,indicator", "next": two["next"]})
    assert same.status == 200


def test_a_tampered_next_is_400(loaded: Loaded):
    world = loaded.world
    path = world.collection_path(rest="objects/")
    token = world.get(path, query={"limit": "1"}).json()["next"]
    payload, signature = token.split(".")
    swapped = payload[:5] + ("x" if payload[5] != "x" else "y") + payload[6:]
    for bad in (f"{swapped}.{signature}", token[:-3], "0", token + token):
        reply = world.get(path, query={"next": bad})
        assert reply.status == 400, bad
        assert reply.json()["details"]["where"] == "next"


def test_a_next_from_another_listing_is_400(loaded: Loaded):
    world = loaded.world
    from_manifest = world.get(world.collection_path(rest="manifest/"), query={"limit": "1"})
    token = from_manifest.json()["next"]
    for path in (
        world.collection_path(rest="objects/"),
        world.collection_path(world.private, "manifest/"),
        world.collection_path(rest=f"objects/{CAMPAIGN}/"),
    ):
        reply = world.get(path, query={"next": token})
        assert reply.status == 400, path
        assert "continues the manifest" in reply.json()["description"]


def test_paging_with_added_after_from_the_last_header_misses_nothing(loaded: Loaded):
    """The spec's other way to page: added_after = X-TAXII-Date-Added-Last."""
    world = loaded.world
    path = world.collection_path(rest="objects/")
    seen: list[str] = []
    query = {"limit": "4", "match[version]": "all"}
    while True:
        reply = world.get(path, query=query)
        seen += ids_of(reply)
        if not reply.json().get("more"):
            break
        query = {**query, "added_after": reply.header("X-TAXII-Date-Added-Last")}
    assert seen == ids_of(world.get(path, query={"match[version]": "all"}))


def test_versions_and_a_single_object_page_too(loaded: Loaded):
    world = loaded.world
    versions = pages(world, world.collection_path(rest=f"objects/{CAMPAIGN}/versions/"), limit=1)
    _check_pages(versions, 1)
    assert len(versions) == 3
    one = pages(
        world,
        world.collection_path(rest=f"objects/{CAMPAIGN}/"),
        limit=2,
        **{"match[version]": "all"},
    )
    assert [len(ids_of(r)) for r in one] == [2, 1]


def test_next_continues_with_what_remains_of_a_filtered_listing(loaded: Loaded):
    world = loaded.world
    path = world.collection_path(rest="objects/")
    everything = world.get(path, query={"match[type]": "campaign,identity"}).json()["objects"]
    assert len(everything) == 2
    first = world.get(path, query={"match[type]": "campaign,identity", "limit": "1"})
    assert first.json()["more"] is True
    second = world.get(path, query={"next": first.json()["next"], "limit": "1"})
    assert ids_of(second) == [everything[1]["id"]]
