"""Feed definitions."""

from __future__ import annotations

import threading
import uuid
from dataclasses import replace

import pytest

from steppe.errors import Conflict
from steppe.store.port import Feed

FEED_COLLECTION = "7d1b3c0e-5c8a-4b7e-9a51-0f2e4d6c8b10"
OTHER_COLLECTION = "2a9c4e61-3b7d-4f0a-8c25-9e1d7b3f5a42"


def _feed(name: str, **changes: object) -> Feed:
    feed = Feed(
        id=str(uuid.uuid4()),
        name=name,
        format="text",
        collections=frozenset({FEED_COLLECTION, OTHER_COLLECTION}),
        tlp_clearance=2,
        types=frozenset({"ipv4-addr", "domain-name"}),
        min_score=40,
        max_entries=50_000,
        token_hash="a" * 64,
        created=1_231_977_600_000_000,
    )
    return replace(feed, **changes)


def test_a_feed_round_trips_by_id_and_by_name(store):
    feed = _feed("palo-alto-edl")
    store.create_feed(feed)
    assert store.get_feed(feed.id) == feed
    assert store.get_feed_by_name("palo-alto-edl") == feed
    assert store.get_feed(str(uuid.uuid4())) is None
    assert store.get_feed_by_name("nobody") is None


def test_feeds_list_in_name_order(store):
    names = ["zeek-sensors", "fortigate", "misp.cert-kg", "Check-Point"]
    for name in names:
        store.create_feed(_feed(name))
    assert [f.name for f in store.list_feeds()] == sorted(names)


def test_a_name_is_taken_once(store):
    first = _feed("fortigate")
    store.create_feed(first)
    with pytest.raises(Conflict) as refused:
        store.create_feed(_feed("fortigate", format="csv"))
    assert refused.value.where == "name"
    assert store.list_feeds() == [first]


def test_concurrent_creations_of_one_name_leave_one_feed(store):
    results: list[str] = []
    start = threading.Barrier(4)

    def create(index: int) -> None:
        start.wait()
        try:
            store.create_feed(_feed("suricata", token_hash=str(index) * 64))
            results.append("created")
        except Conflict:
            results.append("refused")

    threads = [threading.Thread(target=create, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count("created") == 1
    assert len(store.list_feeds()) == 1


def test_the_token_hash_is_replaced(store):
    feed = _feed("fortigate")
    store.create_feed(feed)
    rotated = store.set_feed_token(feed.id, "b" * 64)
    assert rotated == replace(feed, token_hash="b" * 64)
    assert store.get_feed(feed.id) == rotated
    assert store.get_feed_by_name("fortigate") == rotated
    assert store.set_feed_token(str(uuid.uuid4()), "c" * 64) is None


def test_a_deleted_feed_frees_its_name_and_its_successor_has_a_new_id(store):
    first = _feed("fortigate")
    store.create_feed(first)
    assert store.delete_feed(first.id) == first
    assert store.get_feed(first.id) is None
    assert store.get_feed_by_name("fortigate") is None
    assert store.list_feeds() == []
    assert store.delete_feed(first.id) is None
    second = _feed("fortigate", format="zeek")
    store.create_feed(second)
    assert store.get_feed_by_name("fortigate") == second
    assert store.get_feed(first.id) is None


def test_an_empty_type_or_collection_set_round_trips(store):
    feed = _feed("nothing-yet", collections=frozenset(), types=frozenset())
    store.create_feed(feed)
    assert store.get_feed(feed.id) == feed
