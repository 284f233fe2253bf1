"""A client paging while others write misses nothing and repeats nothing (both shapes).

Writer threads keep adding to the shared collection, by POSTing TAXII
envelopes and by submitting analyst reports, while a client pages it: with
added_after = the last X-TAXII-Date-Added-Last it saw, or by following
`next` and, once a listing ends, starting again from that header (TAXII 2.1
section 3.5 allows both). When the writers are done and a last listing has
ended, the client must hold every version exactly once, in date_added order.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Callable
from itertools import pairwise
from typing import Any

import pytest
from taxii_world import TAXII, World, indicator, relationship

from steppe.stix import tlp
from steppe.stix.timestamps import parse_micros
from support.app import example

TAXII_WRITERS = 3
ENVELOPES = 6  # per TAXII writer
ENVELOPE_SIZE = 4
SUBMISSIONS = 3
PAGE = 5


def envelope(writer: int, number: int) -> list[dict[str, Any]]:
    """Four new objects: indicators of fresh addresses and a relationship between two."""
    objects = [
        indicator(f"198.51.{100 + writer}.{number * 10 + n}", tlp.AMBER if n % 2 else tlp.GREEN)
        for n in range(ENVELOPE_SIZE - 1)
    ]
    return [*objects, relationship(objects[0]["id"], objects[1]["id"])]


def report(number: int, collection: str) -> dict[str, Any]:
    """The Kyrgyzstan report with addresses of its own (new SCOs, indicators, sightings)."""
    document = copy.deepcopy(example())
    for n, observable in enumerate(document["observables"]):
        if observable["type"] == "ipv4-addr":
            observable["value"] = f"203.0.113.{number * 20 + n}"
    document["collection"] = collection
    document["tlp"] = "green"
    return document


def key(obj: dict[str, Any]) -> tuple[str, str | None]:
    """A version: its id and its modified (else created; SCOs have one version)."""
    return obj["id"], obj.get("modified", obj.get("created"))


def run_all(
    workers: list[Callable[[], None]],
) -> tuple[list[threading.Thread], list[BaseException]]:
    errors: list[BaseException] = []

    def guarded(work: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                work()
            except BaseException as error:  # reported by the test, not lost in the thread
                errors.append(error)

        return run

    threads = [threading.Thread(target=guarded(work), daemon=True) for work in workers]
    for thread in threads:
        thread.start()
    return threads, errors


@pytest.mark.parametrize("style", ["added_after", "next"])
def test_a_client_paging_while_others_write_receives_every_version_once_in_order(
    world: World, style: str
):
    path = world.collection_path(rest="objects/")
    title = "Kyrgyzstan DDoS 2009"

    def taxii_writer(writer: int) -> Callable[[], None]:
        def run() -> None:
            for number in range(ENVELOPES):
                reply = world.request(
                    "POST",
                    path,
                    "kg-amber",
                    body=json.dumps({"objects": envelope(writer, number)}),
                    headers={"Content-Type": TAXII},
                )
                assert reply.status == 202 and reply.json()["success_count"] == ENVELOPE_SIZE

        return run

    def analyst() -> None:
        for number in range(SUBMISSIONS):
            reply = world.app.submit(report(number, title))
            assert reply.status == 201 and reply.json()["status"] == "complete", reply.body

    writers, errors = run_all([taxii_writer(w) for w in range(TAXII_WRITERS)] + [analyst])
    received: list[dict[str, Any]] = []
    bounds: list[tuple[int, int]] = []  # (first, last) date_added of each non-empty page

    def client() -> None:
        added_after: str | None = None
        token: str | None = None
        while True:
            writing = any(writer.is_alive() for writer in writers)
            query = {"limit": str(PAGE), "match[version]": "all"}
            if token is not None:
                query = {"limit": str(PAGE), "next": token}
            elif added_after is not None:
                query["added_after"] = added_after
            reply = world.get(path, "kg-amber", query=query)
            assert reply.status == 200, reply.body
            body = reply.json()
            page = body.get("objects", [])
            received.extend(page)
            if page:
                first = parse_micros(reply.header("X-TAXII-Date-Added-First"))
                last = parse_micros(reply.header("X-TAXII-Date-Added-Last"))
                bounds.append((first, last))
            if reply.header("X-TAXII-Date-Added-Last"):
                added_after = reply.header("X-TAXII-Date-Added-Last")
            more = body.get("more", False)
            token = body["next"] if more and style == "next" else None
            if not more and not writing:
                return  # a listing asked for after the last write has ended
            if not page:
                time.sleep(0.01)

    # The client runs in a thread of its own, like the writers.
    readers, read_errors = run_all([client])
    for thread in [*writers, *readers]:
        thread.join(120)
        assert not thread.is_alive()
    assert not errors and not read_errors, errors + read_errors
    everything = world.get(path, query={"match[version]": "all"}).json()["objects"]
    expected = [key(obj) for obj in everything]
    assert len(expected) > TAXII_WRITERS * ENVELOPES * ENVELOPE_SIZE
    assert [key(obj) for obj in received] == expected  # each once, in date_added order
    for (first, last), (next_first, _) in pairwise(bounds):
        assert first <= last < next_first
    assert len(bounds) >= len(expected) // PAGE  # it really did page, many times
