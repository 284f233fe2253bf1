"""TAXII reads on the embedded store (issue 3).

Targets, each printed next to a baseline measured in the same run:

* a full pull of a 100,000-object collection over HTTP from a real
  `steppe serve` (one keep-alive connection, limit=1000, following next,
  each page JSON-decoded as a client does; after one warm-up pull, the
  median of three) at least half as fast as reading and decoding the same
  objects straight from the store (SqliteStore list_objects, pages of 1,000,
  orjson.loads of each body; the median of three); the design's 80,000
  objects/s is printed too;
* one page (limit=1000), with and without match[type], no slower at
  100,000 objects than 1.5 times the same page at 1,000 (medians);
* the same first page from medallion, the reference server, in process with
  its memory backend, at 1,000 and 4,000 objects (once each: it is slow by
  design), for the ratio.

The objects are realistic STIX 2.1 (indicators, the addresses they name,
relationships, some malware), generated here and written to the data dir
with put_objects in batches before the server starts.
"""

from __future__ import annotations

import base64
import http.client
import json
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson

from bench.common import ADMIN_KEY, Server, embedded_server, heading, row
from steppe.access.bootstrap import ensure_bootstrapped
from steppe.access.collections import add_collection
from steppe.config import Settings
from steppe.runtime import build_services
from steppe.stix import tlp
from steppe.stix.ids import value_sco_id
from steppe.stix.timestamps import format_stix, format_taxii, parse_micros
from steppe.store.port import ObjectQuery, ObjectVersion
from steppe.store.sqlite.store import SqliteStore

SIZES = (1_000, 10_000, 100_000)
FULL_PULL = 100_000
PAGE = 1_000
BATCH = 5_000
LATENCY_RUNS = 15
PULLS = 3
MEDALLION_SIZES = (1_000, 4_000)
TAXII = "application/taxii+json;version=2.1"
# Every type but the rarest: the filter of a SIEM that wants indicators and their context.
TYPES = "indicator,ipv4-addr,relationship"
DAY = parse_micros("2009-01-18T00:00:00Z")
LEVELS = (tlp.CLEAR, tlp.GREEN, tlp.GREEN, tlp.AMBER)


# ---------------------------------------------------------------------------
# Objects
# ---------------------------------------------------------------------------


def generate(count: int, seed: int) -> list[dict[str, Any]]:
    """Indicators 40%, the addresses they name 35%, relationships 22%, malware 3%."""
    rng = random.Random(seed)
    producer = f"identity--{uuid.UUID(int=rng.getrandbits(128), version=4)}"
    objects: list[dict[str, Any]] = []
    indicators: list[str] = []
    malware = [f"malware--{uuid.UUID(int=rng.getrandbits(128), version=4)}" for _ in range(8)]
    for n in range(count):
        pick = n % 100
        level = LEVELS[n % len(LEVELS)]
        when = format_stix(DAY + rng.randrange(10 * 86_400) * 1_000_000)
        address = f"{10 + (n >> 16) % 200}.{(n >> 8) & 255}.{n & 255}.{1 + seed % 250}"
        if pick < 40:
            oid = f"indicator--{uuid.UUID(int=rng.getrandbits(128), version=4)}"
            indicators.append(oid)
            obj = {
                "type": "indicator",
                "spec_version": "2.1",
                "id": oid,
                "created": when,
                "modified": when,
                "created_by_ref": producer,
                "name": f"DDoS source {address}",
                "description": "Source of the flood against the upstream links of Kyrgyz ISPs.",
                "indicator_types": ["malicious-activity"],
                "pattern": f"[ipv4-addr:value = '{address}']",
                "pattern_type": "stix",
                "valid_from": when,
                "confidence": 70,
                "labels": ["ddos", "botnet"],
                "object_marking_refs": [level.marking_id],
            }
        elif pick < 75:
            obj = {
                "type": "ipv4-addr",
                "spec_version": "2.1",
                "id": value_sco_id("ipv4-addr", address),
                "value": address,
                "object_marking_refs": [level.marking_id],
            }
        elif pick < 97:
            source = indicators[-1] if indicators else malware[0]
            obj = {
                "type": "relationship",
                "spec_version": "2.1",
                "id": f"relationship--{uuid.UUID(int=rng.getrandbits(128), version=4)}",
                "created": when,
                "modified": when,
                "created_by_ref": producer,
                "relationship_type": "indicates",
                "source_ref": source,
                "target_ref": malware[n % len(malware)],
                "object_marking_refs": [level.marking_id],
            }
        else:
            obj = {
                "type": "malware",
                "spec_version": "2.1",
                "id": malware[n % len(malware)] if n < 800 else f"malware--{uuid.uuid4()}",
                "created": when,
                "modified": when,
                "created_by_ref": producer,
                "name": f"BlackEnergy build {n}",
                "malware_types": ["bot", "ddos"],
                "is_family": False,
                "object_marking_refs": [level.marking_id],
            }
        objects.append(obj)
    return objects


def versions(objects: list[dict[str, Any]]) -> list[ObjectVersion]:
    return [
        ObjectVersion(
            obj["id"],
            obj["type"],
            parse_micros(obj["modified"]) if "modified" in obj else None,
            "2.1",
            tlp.RANK_BY_MARKING_ID[obj["object_marking_refs"][0]],
            orjson.dumps(obj),
        )
        for obj in objects
    ]


def load(data_dir: Path) -> tuple[str, dict[int, str]]:
    """Bootstrap the data dir and fill one collection per size; (API root, size -> id)."""
    settings = Settings.from_env({"STEPPE_DATA_DIR": str(data_dir)})
    services = build_services(settings)
    try:
        ensure_bootstrapped(services.store, settings, admin_key=ADMIN_KEY)
        collections = {}
        for size in SIZES:
            collection = add_collection(services.store, settings.api_root, f"Feed of {size:,}")
            collections[size] = collection.id
            rows = versions(generate(size, seed=size % 251))
            for start in range(0, len(rows), BATCH):
                services.store.put_objects(collection.id, rows[start : start + BATCH])
        return settings.api_root, collections
    finally:
        services.close()


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------


def direct_read(data_dir: Path, collection_id: str) -> tuple[int, float]:
    """Pages of 1,000 straight from the store, each body decoded: (objects, seconds)."""
    store = SqliteStore(data_dir)
    try:
        started = time.perf_counter()
        count, after = 0, None
        while True:
            page = store.list_objects(collection_id, ObjectQuery(after=after, limit=PAGE))
            for record in page.records:
                orjson.loads(record.body)
            count += len(page.records)
            if not page.more:
                return count, time.perf_counter() - started
            after = page.last_position
    finally:
        store.close()


@contextmanager
def connection(server: Server) -> Iterator[http.client.HTTPConnection]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)
    try:
        yield conn
    finally:
        conn.close()


def fetch(conn: http.client.HTTPConnection, path: str) -> tuple[dict[str, Any], dict[str, str]]:
    conn.request("GET", path, headers={"Authorization": f"Bearer {ADMIN_KEY}", "Accept": TAXII})
    response = conn.getresponse()
    body = response.read()
    if response.status != 200:
        raise RuntimeError(f"GET {path} -> {response.status}: {body[:300]!r}")
    return orjson.loads(body), dict(response.getheaders())


def http_pull(server: Server, path: str) -> tuple[int, float]:
    """The whole collection over one keep-alive connection, following next."""
    with connection(server) as conn:
        started = time.perf_counter()
        envelope, _ = fetch(conn, f"{path}?limit={PAGE}")
        count = len(envelope.get("objects", []))
        while envelope.get("more"):
            query = urlencode({"limit": PAGE, "next": envelope["next"]})
            envelope, _ = fetch(conn, f"{path}?{query}")
            count += len(envelope.get("objects", []))
        return count, time.perf_counter() - started


def page_latencies(
    server: Server, paths: dict[int, str], query: dict[str, str]
) -> dict[int, tuple[float, int]]:
    """Per size: the median seconds for one page, and how many objects it held.

    The sizes take turns, request by request, so that a passing slowdown of
    the machine weighs on each of them alike.
    """
    timings: dict[int, list[float]] = {size: [] for size in paths}
    held: dict[int, int] = {}
    with connection(server) as conn:
        for path in paths.values():
            fetch(conn, f"{path}?{urlencode(query)}")  # warm the connection and the caches
        for _ in range(LATENCY_RUNS):
            for size, path in paths.items():
                started = time.perf_counter()
                envelope, _ = fetch(conn, f"{path}?{urlencode(query)}")
                timings[size].append(time.perf_counter() - started)
                held[size] = len(envelope.get("objects", []))
    return {size: (statistics.median(timings[size]), held[size]) for size in paths}


# ---------------------------------------------------------------------------
# medallion, in process, memory backend
# ---------------------------------------------------------------------------


def medallion_first_page(count: int) -> tuple[float, int]:
    """One GET of the first page (limit=1000) of a `count`-object collection."""
    from medallion import application_instance, register_blueprints, set_config
    from medallion.backends.memory_backend import MemoryBackend

    objects = generate(count, seed=count % 251)
    collection = str(uuid.uuid4())
    first_added = parse_micros("2026-01-01T00:00:00Z")
    backend = MemoryBackend()
    backend.data = {
        "/discovery": {"title": "medallion", "api_roots": ["http://localhost/bench/"]},
        "bench": {
            "information": {"title": "bench", "versions": [TAXII], "max_content_length": 10**9},
            "status": [],
            "collections": [
                {
                    "id": collection,
                    "title": "bench",
                    "can_read": True,
                    "can_write": True,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": objects,
                    "manifest": [
                        {
                            "id": obj["id"],
                            "date_added": format_taxii(first_added + n),
                            "version": obj.get("modified", format_taxii(first_added + n)),
                            "media_type": "application/stix+json;version=2.1",
                        }
                        for n, obj in enumerate(objects)
                    ],
                }
            ],
        },
    }
    for n, obj in enumerate(objects):
        if "modified" not in obj:  # how medallion versions an object without one
            obj["_date_added"] = format_taxii(first_added + n)
    set_config(application_instance, "users", {"users": {"bench": "bench"}})
    set_config(application_instance, "taxii", {"taxii": {"max_page_size": PAGE}})
    application_instance.medallion_backend = backend
    if "objects" not in application_instance.blueprints:
        register_blueprints(application_instance)
    client = application_instance.test_client()
    headers = {
        "Authorization": "Basic " + base64.b64encode(b"bench:bench").decode(),
        "Accept": TAXII,
    }
    started = time.perf_counter()
    reply = client.get(f"/bench/collections/{collection}/objects/?limit={PAGE}", headers=headers)
    took = time.perf_counter() - started
    if reply.status_code != 200:
        raise RuntimeError(f"medallion answered {reply.status_code}: {reply.data[:300]!r}")
    return took, len(json.loads(reply.data).get("objects", []))


# ---------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "meets" if ok else "BELOW"


def run() -> None:
    heading("TAXII reads, embedded store, over HTTP (issue 3)")
    with tempfile.TemporaryDirectory(prefix="steppe-bench-taxii-") as tmp:
        data_dir = Path(tmp)
        started = time.perf_counter()
        root, collections = load(data_dir)
        row(
            f"loaded {sum(SIZES):,} objects",
            f"{time.perf_counter() - started:,.1f} s",
            "put_objects, batches of 5,000",
        )
        direct = [direct_read(data_dir, collections[FULL_PULL]) for _ in range(PULLS)]
        direct_count = direct[0][0]
        direct_rate = direct_count / statistics.median(seconds for _, seconds in direct)
        with embedded_server(data_dir) as server:
            path = f"/taxii2/{root}/collections/{collections[FULL_PULL]}/objects/"
            http_pull(server, path)  # a first pull warms the server
            pulls = [http_pull(server, path) for _ in range(PULLS)]
            if any(count != direct_count for count, _ in pulls):
                raise RuntimeError(f"a pull did not return the {direct_count:,} objects")
            rate = direct_count / statistics.median(seconds for _, seconds in pulls)
            ratio = rate / direct_rate
            row(
                f"full pull of {FULL_PULL:,} (median of {PULLS})",
                f"{rate:,.0f} obj/s",
                f"store read+decode {direct_rate:,.0f} obj/s",
                f"ratio {ratio:.2f}; {verdict(ratio >= 0.5)} 0.5; "
                f"{verdict(rate >= 80_000)} 80,000/s",
            )
            print(f"  one page: limit={PAGE}, median of {LATENCY_RUNS}; types: match[type]={TYPES}")
            paths = {
                size: f"/taxii2/{root}/collections/{collections[size]}/objects/" for size in SIZES
            }
            latencies: dict[tuple[str, int], float] = {}
            for label, query in (
                ("no filter", {"limit": str(PAGE)}),
                ("types", {"limit": str(PAGE), "match[type]": TYPES}),
            ):
                measured = page_latencies(server, paths, query)
                baseline = measured[SIZES[0]][0]
                for size, (latency, held) in measured.items():
                    latencies[(label, size)] = latency
                    ratio = latency / baseline
                    note = f"{held:,} objects"
                    if size == SIZES[-1]:
                        note += f"; ratio {ratio:.2f}; {verdict(ratio <= 1.5)} 1.5x"
                    elif size != SIZES[0]:
                        note += f"; ratio {ratio:.2f}"
                    row(
                        f"one page, {label}, {size:,} objects",
                        f"{latency * 1000:,.1f} ms",
                        f"at {SIZES[0]:,}: {baseline * 1000:,.1f} ms",
                        note,
                    )
        steppe_first = latencies[("no filter", SIZES[0])]
        for count in MEDALLION_SIZES:
            took, held = medallion_first_page(count)
            row(
                f"medallion first page, {count:,} objects",
                f"{took * 1000:,.0f} ms",
                f"steppe at {SIZES[0]:,}: {steppe_first * 1000:,.1f} ms",
                f"{held:,} objects; {took / steppe_first:,.0f}x steppe's time",
            )


if __name__ == "__main__":
    run()
