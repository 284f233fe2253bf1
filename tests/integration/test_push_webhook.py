"""Push to a webhook, end to end: reports submitted and revoked through the API,
the worker's push jobs, a real HTTP server receiving the signed posts.

Delivery is at least once: every version reaches the receiver, in date_added
order, and only a process dying between a send and its cursor's move sends a
batch twice (test_a_crash_before_the_cursor_moves_resends_only_that_batch).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from steppe.push_senders.delivery_errors import DeliveryFailed
from steppe.runtime import push_delivery
from steppe.store.port import ALL_VERSIONS, ObjectQuery
from support.app import App, open_app

PUSH = "/api/v1/admin/push"


class Receiver:
    """A webhook endpoint: records every post, answers from a script, then 200."""

    def __init__(self) -> None:
        self.posts: list[tuple[dict[str, str], bytes]] = []
        self.script: list[tuple[int, dict[str, str]]] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver._lock:
                    receiver.posts.append((dict(self.headers.items()), body))
                    status, headers = receiver.script.pop(0) if receiver.script else (200, {})
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/steppe"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def objects(self, key: str) -> list[dict[str, Any]]:
        """Every object posted, in order, each post's signature checked with `key`."""
        received = []
        for headers, body in self.posts:
            timestamp = headers["X-Steppe-Timestamp"]
            expected = hmac.new(key.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
            assert hmac.compare_digest(
                headers["X-Steppe-Signature"], "sha256=" + expected.hexdigest()
            )
            assert headers["Content-Type"] == "application/json"
            document = json.loads(body)
            received.extend(document["objects"])
        return received

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    opened = Receiver()
    yield opened
    opened.close()


@pytest.fixture(params=["sqlite", "aws"])
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[App]:
    opened = open_app(tmp_path / "data", request.param, STEPPE_CORRELATE="0")
    yield opened
    opened.close()


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[App]:
    opened = open_app(tmp_path / "data", "sqlite", STEPPE_CORRELATE="0")
    yield opened
    opened.close()


def add_webhook(app: App, receiver: Receiver, name: str = "soc", **fields: Any) -> dict:
    body = {"name": name, "kind": "webhook", "url": receiver.url, "tlp": "amber", **fields}
    reply = app.request("POST", PUSH, json_body=body)
    assert reply.status == 201, reply.body
    return reply.json()


def report(*addresses: str, tlp: str = "amber", campaign: str = "KG ISP DDoS, 2009") -> dict:
    return {
        "tlp": tlp,
        "attack": {"kind": "ddos", "first_seen": "2009-01-18T00:00:00Z"},
        "campaign": {"name": campaign},
        "observables": [
            {"type": "ipv4-addr", "value": address, "role": "source", "asn": 64500}
            for address in addresses
        ],
    }


def submit(app: App, body: dict) -> dict:
    reply = app.submit(body)
    assert reply.status == 201, reply.body
    return reply.json()


def stored_versions(app: App, collection_id: str) -> list[tuple[str, str]]:
    """Every indicator version of the collection, in date_added order, as (id, modified)."""
    page = app.services.store.list_objects(
        collection_id, ObjectQuery(types=frozenset({"indicator"}), versions=ALL_VERSIONS)
    )
    assert not page.more
    return [(o["id"], o["modified"]) for o in (json.loads(r.body) for r in page.records if r.body)]


def versions(objects: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(o["id"], o["modified"]) for o in objects]


def test_new_changed_and_revoked_indicators_arrive_once_in_order(app: App, receiver: Receiver):
    hook = add_webhook(app, receiver)
    submit(app, report("198.51.100.7", "203.0.113.66"))
    app.drain()
    first = receiver.objects(hook["secret"])
    assert {o["type"] for o in first} == {"indicator"} and len(first) == 2

    [revoked] = [o for o in first if "203.0.113.66" in o["pattern"]]
    reply = app.request(
        "POST",
        f"/api/v1/indicators/{revoked['id']}/revoke",
        json_body={"reason": "sinkholed by the ISP in February 2009"},
    )
    assert reply.status == 200, reply.body
    submit(app, report("198.51.100.7", "198.51.100.99", campaign="Follow-up flood, Feb 2009"))
    app.drain()

    received = receiver.objects(hook["secret"])
    stored = stored_versions(app, app.default_collection)
    assert versions(received) == stored  # each version once, in date_added order
    assert len(set(stored)) == len(stored)
    last = {o["id"]: o for o in received}
    assert last[revoked["id"]]["revoked"] is True
    assert [o["id"] for o in received].count(revoked["id"]) == 2  # its first and revoked versions
    assert any("198.51.100.99" in o["pattern"] for o in received)
    assert {json.loads(body)["destination"] for _, body in receiver.posts} == {"soc"}
    assert app.dead_letters() == []


def test_a_destination_gets_only_its_collections_and_clearance(embedded: App, receiver: Receiver):
    app = embedded
    other = app.request("POST", "/api/v1/admin/collections", json_body={"title": "KG 2009"})
    green = add_webhook(app, receiver, "green", tlp="green")
    elsewhere_receiver = Receiver()
    try:
        elsewhere = add_webhook(app, elsewhere_receiver, "elsewhere", collections=["KG 2009"])
        submit(app, report("198.51.100.7"))  # amber
        submit(app, report("192.0.2.10", tlp="green"))
        submit(app, report("192.0.2.11", tlp="clear"))
        app.drain()
        received = receiver.objects(green["secret"])
        assert sorted(o["pattern"] for o in received) == [
            "[ipv4-addr:value = '192.0.2.10']",
            "[ipv4-addr:value = '192.0.2.11']",
        ]
        assert elsewhere_receiver.objects(elsewhere["secret"]) == []
        assert other.json()["id"] in app.services.store.get_destination(elsewhere["id"]).collections
    finally:
        elsewhere_receiver.close()


def test_server_errors_are_retried_until_the_batch_is_taken(embedded: App, receiver: Receiver):
    app = embedded
    hook = add_webhook(app, receiver)
    receiver.script = [(503, {}), (500, {"Retry-After": "0"})]
    submit(app, report("198.51.100.7", "203.0.113.66"))
    app.drain()
    assert len(receiver.posts) == 3
    assert receiver.posts[0][1] == receiver.posts[2][1]  # the same batch, tried again
    assert versions(receiver.objects(hook["secret"])[-2:]) == stored_versions(
        app, app.default_collection
    )
    assert app.dead_letters() == []


def test_a_rate_limit_waits_for_its_retry_hint(embedded: App, receiver: Receiver):
    app = embedded
    hook = add_webhook(app, receiver)
    receiver.script = [(429, {"Retry-After": "1"})]
    submit(app, report("198.51.100.7"))
    app.drain()
    assert len(receiver.posts) == 2
    assert len(receiver.objects(hook["secret"])) == 2  # refused, then taken

    receiver.script = [(429, {"Retry-After": "3600"})]
    submit(app, report("192.0.2.10"))
    delivery = push_delivery(app.services)
    with pytest.raises(DeliveryFailed) as refused:
        delivery.deliver_pending(hook["id"])
    assert refused.value.retry_after == pytest.approx(3600) and not refused.value.permanent


def test_a_refused_batch_is_dead_lettered_and_the_cursor_stays(app: App, receiver: Receiver):
    hook = add_webhook(app, receiver)
    receiver.script = [(401, {})] * 50
    submit(app, report("198.51.100.7", "203.0.113.66"))
    app.drain()
    assert {"task": "push", "destination_id": hook["id"]} in app.dead_letters()
    assert app.services.store.push_cursor(hook["id"], app.default_collection) is None

    receiver.script = []
    receiver.posts.clear()
    assert push_delivery(app.services).queue_all() == 1  # what the scheduled sweep does
    app.drain()
    assert versions(receiver.objects(hook["secret"])) == stored_versions(
        app, app.default_collection
    )


def test_a_crash_before_the_cursor_moves_resends_only_that_batch(embedded: App, receiver: Receiver):
    app = embedded
    store = app.services.store
    hook = add_webhook(app, receiver)
    submit(app, report(*(f"192.0.2.{n}" for n in range(1, 6))))
    one_batch = replace(push_delivery(app.services), batch_size=2, max_batches=1)
    one_batch.deliver_pending(hook["id"])
    before_crash = store.push_cursor(hook["id"], app.default_collection)
    one_batch.deliver_pending(hook["id"])
    # The process died after the receiver took the second batch, before its cursor moved.
    store.set_push_cursor(hook["id"], app.default_collection, before_crash)
    app.drain()

    stored = stored_versions(app, app.default_collection)
    batches = [versions(json.loads(body)["objects"]) for _, body in receiver.posts]
    assert batches[0] == stored[:2] and batches[1] == stored[2:4]
    assert [v for batch in batches[2:] for v in batch] == stored[2:]  # the second batch again
    assert versions(receiver.objects(hook["secret"])) == stored[:4] + stored[2:]


def test_the_scheduled_sweep_queues_one_push_job_per_destination(embedded: App, receiver: Receiver):
    from steppe.handlers.worker import sweep

    app = embedded
    first = add_webhook(app, receiver, "first")
    second = add_webhook(app, receiver, "second")
    assert sweep()["push_jobs"] == 2
    queued = [json.loads(body) for body in app.services.queue.live_bodies()]
    assert {"task": "push", "destination_id": first["id"]} in queued
    assert {"task": "push", "destination_id": second["id"]} in queued
    app.drain()
    assert receiver.posts == []  # nothing stored yet, nothing sent


def test_a_redirect_is_not_followed_and_fails_for_good(embedded: App, receiver: Receiver):
    app = embedded
    hook = add_webhook(app, receiver)
    receiver.script = [(307, {"Location": receiver.url + "/elsewhere"})]
    submit(app, report("198.51.100.7"))
    with pytest.raises(DeliveryFailed) as refused:
        push_delivery(app.services).deliver_pending(hook["id"])
    assert refused.value.permanent and "307" in str(refused.value)
    assert len(receiver.posts) == 1
    assert app.services.store.push_cursor(hook["id"], app.default_collection) is None


def test_an_unreachable_webhook_is_tried_three_times_then_left_to_the_queue(embedded: App):
    app = embedded
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    reply = app.request(
        "POST",
        PUSH,
        json_body={
            "name": "gone",
            "kind": "webhook",
            "url": f"http://127.0.0.1:{port}/h",
            "tlp": "red",
        },
    )
    assert reply.status == 201, reply.body
    submit(app, report("198.51.100.7"))
    with pytest.raises(DeliveryFailed) as failed:
        push_delivery(app.services).deliver_pending(reply.json()["id"])
    assert not failed.value.permanent and "unreachable" in str(failed.value)
    assert app.services.store.push_cursor(reply.json()["id"], app.default_collection) is None


def test_an_indicator_expired_by_decay_reaches_the_destination(embedded: App, receiver: Receiver):
    from steppe import runtime
    from steppe.handlers.worker import sweep
    from steppe.stix.timestamps import format_stix, now_micros

    app = embedded
    hook = add_webhook(app, receiver)
    day = 86_400_000_000
    seen = report("198.51.100.4")
    seen["confidence"] = 80
    seen["observables"][0]["first_seen"] = format_stix(now_micros() - 2 * day)
    seen["observables"][0]["last_seen"] = format_stix(now_micros() - day)
    submit(app, seen)
    app.drain()
    [original] = receiver.objects(hook["secret"])

    expired = runtime.decay_job(app.services).run(now=now_micros() + 3650 * day)
    assert expired.expired_versions == 1
    assert sweep()["push_jobs"] == 1  # the five-minute schedule
    app.drain()
    received = receiver.objects(hook["secret"])
    assert versions(received) == stored_versions(app, app.default_collection)
    assert received[-1]["id"] == original["id"]
    assert received[-1]["valid_until"] != original.get("valid_until")
    assert received[-1]["modified"] > original["modified"]
