"""Push destinations and their delivery cursors."""

from __future__ import annotations

import threading
import uuid
from dataclasses import replace

from steppe.errors import Conflict
from steppe.store.port import Destination

PUSH_COLLECTION = "5e0c2b7a-9d41-4c3e-8f6a-1b2d3c4e5f60"
OTHER_COLLECTION = "0f9e8d7c-6b5a-4948-8372-615243342516"


def _destination(name: str, **changes: object) -> Destination:
    destination = Destination(
        id=str(uuid.uuid4()),
        name=name,
        kind="webhook",
        collections=frozenset({PUSH_COLLECTION, OTHER_COLLECTION}),
        tlp_clearance=2,
        types=frozenset({"indicator"}),
        settings={"url": "https://soc.example.kg/hooks/steppe?x=1"},
        secret="whk_" + "k" * 43,
        created=1_231_977_600_000_000,
    )
    return replace(destination, **changes)


def test_a_destination_round_trips_by_id_and_by_name(store):
    destination = _destination(
        "sentinel-soc",
        kind="sentinel",
        settings={"tenant_id": "t", "client_id": "c", "workspace_id": "w"},
        secret="entra client secret ~ with symbols",
    )
    store.create_destination(destination)
    assert store.get_destination(destination.id) == destination
    assert store.get_destination_by_name("sentinel-soc") == destination
    assert store.get_destination(str(uuid.uuid4())) is None
    assert store.get_destination_by_name("nobody") is None


def test_destinations_list_in_name_order(store):
    names = ["zz-webhook", "alpha", "Sentinel", "soc.kg"]
    for name in names:
        store.create_destination(_destination(name))
    assert [d.name for d in store.list_destinations()] == sorted(names)


def test_a_name_is_taken_once_even_concurrently(store):
    results: list[str] = []
    start = threading.Barrier(4)

    def create(index: int) -> None:
        start.wait()
        try:
            store.create_destination(_destination("soc", secret=str(index)))
            results.append("created")
        except Conflict as refused:
            assert refused.where == "name"
            results.append("refused")

    threads = [threading.Thread(target=create, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count("created") == 1
    assert len(store.list_destinations()) == 1


def test_the_secret_is_replaced(store):
    destination = _destination("soc")
    store.create_destination(destination)
    rotated = store.set_destination_secret(destination.id, "whk_new")
    assert rotated == replace(destination, secret="whk_new")
    assert store.get_destination_by_name("soc") == rotated
    assert store.set_destination_secret(str(uuid.uuid4()), "x") is None


def test_cursors_are_per_destination_and_collection(store):
    first, second = _destination("one"), _destination("two")
    store.create_destination(first)
    store.create_destination(second)
    assert store.push_cursor(first.id, PUSH_COLLECTION) is None
    store.set_push_cursor(first.id, PUSH_COLLECTION, 1_700_000_000_000_001)
    store.set_push_cursor(first.id, OTHER_COLLECTION, 5)
    store.set_push_cursor(second.id, PUSH_COLLECTION, 7)
    store.set_push_cursor(first.id, PUSH_COLLECTION, 1_700_000_000_000_002)
    assert store.push_cursor(first.id, PUSH_COLLECTION) == 1_700_000_000_000_002
    assert store.push_cursor(first.id, OTHER_COLLECTION) == 5
    assert store.push_cursor(second.id, PUSH_COLLECTION) == 7


def test_a_deleted_destination_frees_its_name_and_drops_its_cursors(store):
    first = _destination("soc")
    store.create_destination(first)
    store.set_push_cursor(first.id, PUSH_COLLECTION, 42)
    assert store.delete_destination(first.id) == first
    assert store.get_destination(first.id) is None
    assert store.get_destination_by_name("soc") is None
    assert store.push_cursor(first.id, PUSH_COLLECTION) is None
    assert store.delete_destination(first.id) is None
    second = _destination("soc", kind="sentinel")
    store.create_destination(second)
    assert store.get_destination_by_name("soc") == second
    assert store.push_cursor(second.id, PUSH_COLLECTION) is None


def test_empty_sets_and_settings_round_trip(store):
    destination = _destination("bare", collections=frozenset(), types=frozenset(), settings={})
    store.create_destination(destination)
    assert store.get_destination(destination.id) == destination
