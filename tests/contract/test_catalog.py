"""API roots and collections."""

from __future__ import annotations

import threading
import uuid
from dataclasses import replace

import pytest

from steppe.errors import Conflict, NotFound
from steppe.store.port import ApiRoot, Collection

from .conftest import new_collection


def test_api_roots_create_replace_and_list_by_id(store):
    assert store.get_api_root("steppe") is None
    assert store.list_api_roots() == []
    store.put_api_root(ApiRoot("steppe", "steppe", "Kyrgyz CERT feeds", created=1))
    store.put_api_root(ApiRoot("archive", "Archive"))
    store.put_api_root(ApiRoot("steppe", "steppe (renamed)", "replaced", created=2))
    assert store.get_api_root("steppe") == ApiRoot("steppe", "steppe (renamed)", "replaced", 2)
    assert [root.id for root in store.list_api_roots()] == ["archive", "steppe"]


def test_collection_round_trip(store):
    collection = Collection(
        id=str(uuid.uuid4()),
        api_root="steppe",
        title="DDoS sources",
        description="Addresses seen in the January 2009 attacks on Kyrgyz ISPs",
        alias="ddos",
        media_types=("application/stix+json;version=2.1", "application/stix+json;version=2.0"),
        created=1_231_977_600_000_000,
        default=True,
    )
    store.create_collection(collection)
    assert store.get_collection(collection.id) == collection
    assert store.get_collection(str(uuid.uuid4())) is None
    plain = Collection(id=str(uuid.uuid4()), api_root="steppe", title="Phishing")
    store.create_collection(plain)
    assert store.get_collection(plain.id) == plain


def test_unmarked_tlp_is_kept_through_every_read_and_update(store):
    """The TLP rank given to unmarked objects a partner posts: GREEN (1) unless set."""
    amber = Collection(
        id=str(uuid.uuid4()), api_root="steppe", title="Partner drops", created=1, unmarked_tlp=2
    )
    plain = Collection(id=str(uuid.uuid4()), api_root="steppe", title="Open feed", created=2)
    store.create_collection(amber)
    store.create_collection(plain)
    assert store.get_collection(amber.id).unmarked_tlp == 2
    assert store.get_collection(plain.id).unmarked_tlp == 1
    assert store.find_collection_by_title("steppe", "Partner drops") == amber
    assert [(c.id, c.unmarked_tlp) for c in store.list_collections("steppe")] == [
        (amber.id, 2),
        (plain.id, 1),
    ]
    for rank in (0, 4):  # CLEAR and RED, the two ends
        store.update_collection(replace(plain, unmarked_tlp=rank))
        assert store.get_collection(plain.id).unmarked_tlp == rank
        assert store.find_collection_by_title("steppe", "Open feed").unmarked_tlp == rank
        assert store.list_collections("steppe")[1].unmarked_tlp == rank
    assert store.get_collection(amber.id) == amber


def test_titles_are_unique_within_an_api_root(store):
    new_collection(store, "DDoS sources")
    with pytest.raises(Conflict):
        new_collection(store, "DDoS sources")
    # Another API root may reuse it; titles are case-sensitive.
    new_collection(store, "DDoS sources", api_root="archive")
    new_collection(store, "ddos sources")
    assert len(store.list_collections("steppe")) == 2


def test_ids_are_unique(store):
    collection_id = new_collection(store, "first")
    with pytest.raises(Conflict):
        store.create_collection(Collection(id=collection_id, api_root="steppe", title="second"))
    assert store.get_collection(collection_id).title == "first"


def test_find_by_title(store):
    ddos = new_collection(store, "DDoS sources")
    new_collection(store, "DDoS sources", api_root="archive")
    found = store.find_collection_by_title("steppe", "DDoS sources")
    assert found is not None and found.id == ddos
    assert store.find_collection_by_title("steppe", "ddos sources") is None
    assert store.find_collection_by_title("nowhere", "DDoS sources") is None


def test_list_orders_by_created_then_id(store):
    ids = sorted(str(uuid.uuid4()) for _ in range(3))
    store.create_collection(Collection(id=ids[2], api_root="steppe", title="a", created=1))
    store.create_collection(Collection(id=ids[1], api_root="steppe", title="b", created=2))
    store.create_collection(Collection(id=ids[0], api_root="steppe", title="c", created=2))
    store.create_collection(Collection(id=str(uuid.uuid4()), api_root="other", title="d"))
    assert [c.id for c in store.list_collections("steppe")] == [ids[2], ids[0], ids[1]]
    assert store.list_collections("nowhere") == []


def test_update(store):
    collection_id = new_collection(store, "DDoS sources")
    other = new_collection(store, "Phishing")
    current = store.get_collection(collection_id)
    renamed = Collection(
        id=collection_id,
        api_root="steppe",
        title="DDoS sources 2009",
        description="renamed",
        alias="ddos-2009",
        created=current.created,
        default=True,
    )
    store.update_collection(renamed)
    assert store.get_collection(collection_id) == renamed
    assert store.find_collection_by_title("steppe", "DDoS sources") is None
    # The old title is free again; keeping one's own title is no conflict.
    new_collection(store, "DDoS sources")
    store.update_collection(renamed)
    with pytest.raises(Conflict):
        store.update_collection(Collection(id=collection_id, api_root="steppe", title="Phishing"))
    assert store.get_collection(other).title == "Phishing"
    assert store.get_collection(collection_id) == renamed
    with pytest.raises(NotFound):
        store.update_collection(Collection(id=str(uuid.uuid4()), api_root="steppe", title="x"))
    with pytest.raises(Conflict):  # a collection never moves to another API root
        store.update_collection(
            Collection(id=collection_id, api_root="archive", title="DDoS sources 2009")
        )
    assert store.get_collection(collection_id) == renamed
    assert store.list_collections("archive") == []


def test_concurrent_creations_of_one_title_leave_exactly_one(store):
    racers = 6
    gate = threading.Barrier(racers)
    results = []

    def create():
        gate.wait()
        try:
            new_collection(store, "Kyrgyz ISPs")
            results.append("created")
        except Conflict:
            results.append("conflict")

    threads = [threading.Thread(target=create) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["conflict"] * (racers - 1) + ["created"]
    assert [c.title for c in store.list_collections("steppe")] == ["Kyrgyz ISPs"]
