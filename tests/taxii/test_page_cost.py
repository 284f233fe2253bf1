"""The DynamoDB requests behind one TAXII page do not grow with the collection (AWS shape).

tests/unit/test_aws_store.py proves it for the store's list_objects; this
proves it for whole TAXII requests through the gateway, the authorizer and
TaxiiFunction, on moto: every DynamoDB operation the request makes (the
credential, the partner, the listing, the bodies, the audit record) is
counted, for a partner whose clearance filters out part of each collection,
at two collection sizes. Nothing here measures time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from taxii_world import (
    CAMPAIGN,
    DAY,
    HOUR,
    World,
    campaign,
    indicator,
    ipv4,
    make_world,
    stored_version,
)

from steppe.stix import tlp
from steppe.store.aws import table_keys as keys
from support.app import App, open_app

SIZES = (30, 300)
T = TypeVar("T")
PAGE = "10"


class Operations:
    """The DynamoDB operations a client sends, in order."""

    def __init__(self, client: Any) -> None:
        self.names: list[str] = []
        client.meta.events.register("before-call.dynamodb", self._record)

    def _record(self, model: Any, **_: Any) -> None:
        self.names.append(model.name)

    def during(self, action: Any) -> list[str]:
        self.names.clear()
        action()
        return list(self.names)


def fill(app: App, collection_id: str, size: int) -> list[dict[str, Any]]:
    """Indicators (GREEN and AMBER, a fifth in two versions), SCOs and a campaign."""
    objects: list[dict[str, Any]] = []
    for n in range(size):
        if n % 3 == 2:
            objects.append(ipv4(f"198.51.{100 + n // 250}.{n % 250}"))
            continue
        level = tlp.AMBER if n % 3 == 1 else tlp.GREEN
        objects.append(indicator(f"203.0.113.{n % 250}", level))
        if n % 5 == 0:
            objects.append({**objects[-1], "modified": "2009-01-19T00:00:00.000Z"})
    objects.append(campaign(DAY + HOUR))
    store = app.services.store
    for start in range(0, len(objects), 100):
        store.put_objects(
            collection_id, [stored_version(obj) for obj in objects[start : start + 100]]
        )
    return objects


@pytest.fixture(scope="module")
def sized(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, dict[int, str]]]:
    app = open_app(tmp_path_factory.mktemp("page-cost") / "data", "aws")
    try:
        world = make_world(app)
        collections = {}
        for size in SIZES:
            reply = app.request(
                "POST", "/api/v1/admin/collections", json_body={"title": f"Feed of {size}"}
            )
            collections[size] = reply.json()["id"]
            fill(app, collections[size], size)
        world.partner("reader", "green", read=collections.values())
        yield world, collections
    finally:
        app.close()


def _first(world: World, collection_id: str, query: dict[str, str]) -> Any:
    return world.get(world.collection_path(collection_id, "objects/"), "reader", query=query)


REQUESTS = {
    "first page": lambda world, cid: ("objects/", {"limit": PAGE}),
    "one type": lambda world, cid: ("objects/", {"limit": PAGE, "match[type]": "ipv4-addr"}),
    "all versions": lambda world, cid: ("objects/", {"limit": PAGE, "match[version]": "all"}),
    "manifest": lambda world, cid: ("manifest/", {"limit": PAGE}),
    "the next page": lambda world, cid: (
        "objects/",
        {"limit": PAGE, "next": _first(world, cid, {"limit": PAGE}).json()["next"]},
    ),
    "added after the first page": lambda world, cid: (
        "objects/",
        {
            "limit": PAGE,
            "added_after": _first(world, cid, {"limit": PAGE}).header("X-TAXII-Date-Added-Last"),
        },
    ),
    "one object": lambda world, cid: (
        f"objects/{CAMPAIGN}/",
        {"match[version]": "all"},
    ),
    "its versions": lambda world, cid: (
        f"objects/{CAMPAIGN}/versions/",
        {},
    ),
}


def in_a_thread(action: Callable[[], T]) -> T:
    """Run `action` in a thread of its own and return what it returned.

    The requests run at the shallow stack of a new thread, not deep in
    pytest's: on CPython 3.11 moto's innermost loops, when they happen to sit
    at a boundary of the interpreter's frame-stack chunks, allocate and free
    a chunk on every call, which makes these tests several times slower.
    """
    results: list[T] = []
    thread = threading.Thread(target=lambda: results.append(action()))
    thread.start()
    thread.join(120)
    assert results, "the request did not finish"
    return results[0]


@pytest.mark.parametrize("request_kind", REQUESTS)
def test_dynamodb_requests_per_taxii_page_do_not_grow_with_the_collection(sized, request_kind):
    world, collections = sized
    operations = Operations(world.app.services.store._table.client)

    def count(collection_id: str) -> list[str]:
        rest, query = REQUESTS[request_kind](world, collection_id)
        path = world.collection_path(collection_id, rest)
        world.get(path, "reader", query=query)  # warm: the paging secret is read once
        reply = None

        def request() -> None:
            nonlocal reply
            reply = world.get(path, "reader", query=query)

        names = operations.during(request)
        assert reply is not None and reply.status == 200, reply
        assert reply.json().get("objects") or reply.json().get("versions")
        return names

    seen = {size: in_a_thread(lambda c=cid: count(c)) for size, cid in collections.items()}
    assert seen[SIZES[0]] == seen[SIZES[1]], seen
    assert "Scan" not in seen[SIZES[1]]
    # The credential, the partner, the listing (two views for all versions, each
    # in LISTING_SHARDS shards merged), the bodies of the page in one BatchGetItem,
    # the audit record.
    assert seen[SIZES[1]].count("Query") <= 2 * keys.LISTING_SHARDS
    assert seen[SIZES[1]].count("BatchGetItem") <= 1
