"""taxii2-client, the OASIS TAXII 2.1 client, against steppe over real HTTP."""

import threading
from collections.abc import Iterator

import pytest
from taxii2client.v21 import Server, as_pages
from taxii_world import Loaded, indicator

from steppe.local.server import create_server
from steppe.stix import tlp
from support.app import ROUTES


@pytest.fixture(scope="module")
def served(loaded: Loaded) -> Iterator[tuple[Loaded, str]]:
    server = create_server(ROUTES, "127.0.0.1", 0, 2, loaded.world.app.settings.max_body_bytes)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield loaded, server.base_url
    finally:
        server.stop()
        thread.join(30)


def _collection(served: tuple[Loaded, str], who: str):
    loaded, url = served
    server = Server(f"{url}/taxii2/", user=who, password=loaded.world.keys[who])
    (root,) = server.api_roots
    assert server.default.url == root.url == f"{url}/taxii2/steppe/"
    (collection,) = [c for c in root.collections if c.id == loaded.world.shared]
    return loaded, collection


def test_the_client_discovers_and_pages_through_a_collection(served):
    loaded, collection = _collection(served, "kg-green")
    assert (collection.can_read, collection.can_write) == (True, False)
    received = [
        obj
        for envelope in as_pages(collection.get_objects, per_request=2, version="all")
        for obj in envelope.get("objects", [])
    ]
    assert received == loaded.visible_to(tlp.GREEN.rank)
    manifest = [
        record
        for envelope in as_pages(collection.get_manifest, per_request=3, type="indicator")
        for record in envelope.get("objects", [])
    ]
    assert {r["id"] for r in manifest} == set(loaded.green_indicators)
    versions = collection.object_versions(loaded.green_indicators[0])
    assert len(versions["versions"]) == 1


def test_the_client_adds_objects_and_waits_for_the_status(served):
    _, collection = _collection(served, "kg-amber")
    sent = indicator("198.51.100.250", tlp.AMBER)
    status = collection.add_objects({"objects": [sent]}, wait_for_completion=True, timeout=10)
    assert status.status == "complete"
    assert (status.success_count, status.failure_count) == (1, 0)
    status.refresh()  # follows the status URL the client builds itself
    assert status.success_count == 1
    assert collection.get_object(sent["id"])["objects"] == [sent]
