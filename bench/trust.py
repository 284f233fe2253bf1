"""One caller cannot stall the others (issue 8), on a real `steppe serve`.

Figures, each next to a baseline measured in the same run:

* discovery (`GET /taxii2/`) answered for one caller while another caller runs
  10,000-value bulk lookups back to back: its median and worst latency, next
  to the same discovery on an idle server and to how long one bulk lookup
  takes (with one lock around every request, as before, a discovery waited
  for the lookup in flight to finish);
* the correlation worker's pattern reading on hostile input: the 50,000-
  character `LIKE` pattern of the finding, and a pattern of 200 comparisons,
  next to the same reading of an ordinary one-comparison pattern, per
  character (linear reading keeps the ratio near 1);
* a TAXII POST of the finding's 50,000-character pattern, refused as a
  failure in its status, next to a POST of one ordinary indicator.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
import uuid

from bench.common import Server, embedded_server, heading, row
from steppe.observables.correlation_keys import pattern_keys
from steppe.stix import tlp

LOOKUP_VALUES = 10_000
DISCOVERIES = 60
IDLE_DISCOVERIES = 60
TAXII = "application/taxii+json;version=2.1"
HOSTILE_CHARS = 50_000


def discovery_latencies(server: Server, count: int) -> list[float]:
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        status, _, _ = server.request("GET", "/taxii2/", headers={"Accept": TAXII})
        timings.append(time.perf_counter() - started)
        if status != 200:
            raise RuntimeError(f"discovery -> {status}")
    return timings


def bulk_lookup(server: Server) -> float:
    values = [f"198.51.{n // 250 % 250}.{n % 250 + 1}" for n in range(LOOKUP_VALUES)]
    body = json.dumps({"values": values, "detail": "full"}).encode()
    started = time.perf_counter()
    server.json(
        "POST", "/api/v1/observables/lookup", body, headers={"Content-Type": "application/json"}
    )
    return time.perf_counter() - started


def under_load(server: Server) -> tuple[list[float], list[float]]:
    """Discovery latencies measured while another thread runs bulk lookups without pause."""
    stop = threading.Event()
    lookups: list[float] = []

    def load() -> None:
        while not stop.is_set():
            lookups.append(bulk_lookup(server))

    worker = threading.Thread(target=load)
    worker.start()
    try:
        while not lookups:  # the first lookup is under way and warm
            time.sleep(0.01)
        timings = discovery_latencies(server, DISCOVERIES)
    finally:
        stop.set()
        worker.join()
    return timings, lookups


def seconds_per_char(pattern: str, rounds: int) -> float:
    started = time.perf_counter()
    for _ in range(rounds):
        pattern_keys(pattern)
    return (time.perf_counter() - started) / rounds / len(pattern)


def post(server: Server, objects: list[dict]) -> tuple[float, dict]:
    path = f"/taxii2/steppe/collections/{default_collection(server)}/objects/"
    body = json.dumps({"objects": objects}).encode()
    started = time.perf_counter()
    status, _, data = server.request(
        "POST", path, body, headers={"Content-Type": TAXII, "Accept": TAXII}
    )
    elapsed = time.perf_counter() - started
    if status != 202:
        raise RuntimeError(f"POST -> {status}: {data[:300]!r}")
    return elapsed, json.loads(data)


def default_collection(server: Server) -> str:
    listed = server.json("GET", "/taxii2/steppe/collections/", headers={"Accept": TAXII})
    return listed["collections"][0]["id"]


def indicator(pattern: str) -> dict:
    stamp = "2009-01-18T00:00:00.000Z"
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": stamp,
        "modified": stamp,
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": stamp,
        "object_marking_refs": [tlp.GREEN.marking_id],
    }


def run() -> None:
    heading("Trust: one caller cannot stall the others (embedded server)")
    with embedded_server(STEPPE_CORRELATE="0") as server:
        discovery_latencies(server, 10)  # warm
        idle = discovery_latencies(server, IDLE_DISCOVERIES)
        loaded, lookups = under_load(server)
        lookup_s = statistics.median(lookups)
        row(
            "discovery during 10,000-value bulk lookups",
            f"{statistics.median(loaded) * 1000:.1f} ms median",
            f"idle: {statistics.median(idle) * 1000:.1f} ms median",
            f"worst {max(loaded) * 1000:.0f} ms; one bulk lookup takes {lookup_s * 1000:.0f} ms",
        )
        ordinary = "[domain-name:value = 'botnet-c2.example.net']"
        long_like = "[domain-name:value LIKE '" + "a" * HOSTILE_CHARS + "']"
        many = " OR ".join(f"[ipv4-addr:value = '198.51.100.{n % 250 + 1}']" for n in range(200))
        base = seconds_per_char(ordinary, 2_000)
        for label, pattern in (
            (f"pattern reading, LIKE of {HOSTILE_CHARS:,} chars", long_like),
            ("pattern reading, 200 comparisons", many),
        ):
            per_char = seconds_per_char(pattern, 20)
            row(
                label,
                f"{per_char * 1e9:.0f} ns/char",
                f"ordinary pattern: {base * 1e9:.0f} ns/char",
                f"{per_char / base:.2f}x per char; total {per_char * len(pattern) * 1000:.1f} ms",
            )
        post(server, [indicator(ordinary)])  # warm: stix2 is imported on the first POST
        normal_s, _ = post(server, [indicator(ordinary)])
        hostile_s, status = post(server, [indicator(long_like)])
        if status.get("failure_count") != 1:
            raise RuntimeError(f"the hostile pattern was not refused: {status}")
        row(
            f"TAXII POST, {HOSTILE_CHARS:,}-char pattern (refused)",
            f"{hostile_s * 1000:.1f} ms",
            f"one ordinary indicator: {normal_s * 1000:.1f} ms",
            f"{hostile_s / normal_s:.2f}x",
        )


if __name__ == "__main__":
    run()
