"""Finding 7: requests of different callers run in parallel, each with its own identity.

The embedded server used to resolve every request under one lock, because
Powertools keeps the event being resolved in state shared by the process. The
tests run the real waitress server, authorizer, handlers and store:

* a request of one caller held inside its handler (its bundle sits on storage
  that does not answer: a named pipe the test feeds only at the end) does not
  keep another caller's TAXII discovery, or anyone else's requests, from
  completing; the order of events is asserted, never a duration;
* callers with different credentials hitting endpoints at once from many
  threads each get the answer that is theirs.
"""

from __future__ import annotations

import base64
import errno
import json
import os
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from steppe.access.partners import add_partner
from steppe.local.routes import RouteTable
from steppe.local.server import create_server
from steppe.store.blob_keys import bundle_key
from steppe.store.port import Collection
from support.app import App, example, open_app

ROUTES = RouteTable.from_template()
TAXII = "application/taxii+json;version=2.1"
THREADS = 8


@dataclass
class Served:
    app: App
    url: str

    def call(self, path: str, key: str, accept: str = "application/json") -> tuple[int, bytes]:
        request = urllib.request.Request(self.url + path, method="GET")
        request.add_header("Authorization", f"Bearer {key}")
        request.add_header("Accept", accept)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """The real embedded HTTP server (waitress, THREADS threads) on a free port."""
    app = open_app(tmp_path / "data", "sqlite", STEPPE_CORRELATE="0")
    server = create_server(ROUTES, "127.0.0.1", 0, THREADS, app.settings.max_body_bytes)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield Served(app, server.base_url)
    finally:
        server.stop()
        assert server.wait_stopped(30)
        thread.join(30)
        app.close()


def stalled_blob(path: Path) -> None:
    """Put a named pipe where a blob was: a reader waits until the test writes to it."""
    path.unlink()
    os.mkfifo(path)


def open_for_the_reader(path: Path) -> int | None:
    """The pipe's write end once someone has it open for reading (None before).

    The reader then waits for what the test writes, until the test closes it.
    """
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as error:
        if error.errno == errno.ENXIO:
            return None
        raise
    os.set_blocking(descriptor, True)
    return descriptor


def feed(descriptor: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view) :]
    os.close(descriptor)


def test_a_request_held_in_its_handler_does_not_hold_another_callers_discovery(
    served: Served,
):
    app, store = served.app, served.app.services.store
    analyst = add_partner(
        store, "ana", "analyst", org_name="steppe", can_write=[app.default_collection]
    ).key
    partner = add_partner(
        store, "kg-cert", "partner", org_name="steppe", can_read=[app.default_collection]
    ).key
    submitted = app.submit(example(), key=analyst).json()
    blob = app.settings.data_dir / "blobs" / bundle_key(submitted["id"], 1)
    bundle = blob.read_bytes()
    stalled_blob(blob)

    events: list[str] = []
    slow_answer: dict[str, object] = {}

    def slow() -> None:
        slow_answer["reply"] = served.call(submitted["links"]["bundle"], analyst)
        events.append("slow request answered")

    slow_thread = threading.Thread(target=slow)
    slow_thread.start()
    # Deterministic, no clock: the slow request's handler is now reading the blob.
    while (writer := open_for_the_reader(blob)) is None:
        slow_thread.join(0.01)
        assert slow_thread.is_alive(), "the slow request ended before reading its blob"
    try:
        events.append("slow request inside its handler")
        status, body = served.call("/taxii2/", partner, TAXII)
        assert status == 200 and json.loads(body)["api_roots"]
        events.append("discovery answered")
        status, body = served.call(f"/taxii2/{app.settings.api_root}/collections/", partner, TAXII)
        assert status == 200 and len(json.loads(body)["collections"]) == 1
        status, body = served.call(submitted["links"]["self"], analyst)  # the same caller too
        assert status == 200 and json.loads(body)["status"] == "complete"
        events.append("other requests answered")
        assert slow_thread.is_alive()  # still held: nothing above waited for it
    finally:
        feed(writer, bundle)  # let the slow request finish (and the test end)
        slow_thread.join(60)
    assert events == [
        "slow request inside its handler",
        "discovery answered",
        "other requests answered",
        "slow request answered",
    ]
    status, body = slow_answer["reply"]  # type: ignore[misc]
    assert status == 200 and body == bundle


def test_callers_hitting_the_server_at_once_each_get_their_own_answer(served: Served):
    app, store = served.app, served.app.services.store
    root = app.settings.api_root
    callers: dict[str, tuple[str, str]] = {}  # name -> (key, the one collection it may read)
    for n in range(THREADS * 2):
        name = f"cert-{n:02d}"
        collection = Collection(id=str(uuid.uuid4()), api_root=root, title=f"feed of {name}")
        store.create_collection(collection)
        key = add_partner(store, name, "partner", org_name="steppe", can_read=[collection.id]).key
        callers[name] = (key, collection.title)
    analysts = {
        f"analyst-{n}": add_partner(
            store, f"analyst-{n}", "analyst", org_name="steppe", can_write=[app.default_collection]
        ).key
        for n in range(4)
    }
    submissions = {
        name: app.submit(example(), key=key, headers={"Idempotency-Key": name}).json()["id"]
        for name, key in analysts.items()
    }

    def as_partner(name: str) -> list[str]:
        key, title = callers[name]
        wrong = []
        for _ in range(15):
            status, body = served.call(f"/taxii2/{root}/collections/", key, TAXII)
            titles = [c["title"] for c in json.loads(body).get("collections", [])]
            if status != 200 or titles != [title]:
                wrong.append(f"{name} got {status} {titles}")
        return wrong

    def as_analyst(name: str) -> list[str]:
        key = analysts[name]
        wrong = []
        for _ in range(15):
            status, body = served.call("/api/v1/submissions", key)
            ids = [s["id"] for s in json.loads(body).get("submissions", [])]
            if status != 200 or ids != [submissions[name]]:
                wrong.append(f"{name} got {status} {ids}")
        return wrong

    with ThreadPoolExecutor(max_workers=THREADS * 2) as pool:
        results = [pool.submit(as_partner, name) for name in callers]
        results += [pool.submit(as_analyst, name) for name in analysts]
        wrong = [line for result in results for line in result.result()]
    assert wrong == []


def test_a_basic_credential_names_the_caller_it_belongs_to_under_load(served: Served):
    """Basic credentials carry a name: a request never runs as someone else's name."""
    app, store = served.app, served.app.services.store
    keys = {
        f"analyst-{n}": add_partner(
            store, f"analyst-{n}", "analyst", org_name="steppe", can_write=[app.default_collection]
        ).key
        for n in range(THREADS)
    }

    def submit_and_read(name: str) -> list[str]:
        basic = "Basic " + base64.b64encode(f"{name}:{keys[name]}".encode()).decode()
        wrong = []
        for attempt in range(3):
            reply = app.submit(
                example(),
                key=False,
                headers={"Authorization": basic, "Idempotency-Key": f"{attempt}"},
            )
            if reply.status not in (201, 202) or reply.json()["submitted_by"] != name:
                wrong.append(f"{name}: {reply.status} {reply.body[:200]!r}")
        return wrong

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        wrong = [line for result in pool.map(submit_and_read, keys) for line in result]
    assert wrong == []
