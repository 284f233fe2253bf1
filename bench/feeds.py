"""Feeds and decay (issue 10).

Targets, each printed next to a baseline measured in the same run:

* a feed of 100,000 indicators served over HTTP by a real `steppe serve` in
  under 1 s (the kept rendering, as the RenderFeeds schedule leaves it),
  beside a TAXII full pull of the same indicators; the first request, which
  finds no rendering and makes one, is printed too;
* a 304 (If-None-Match) in under 10 ms, beside the same server's discovery;
* a feed costs the same whatever the store holds: the rendering of a
  10,000-entry feed and a 304 from a feed index of 10,000 indicators and of
  1,000,000 (in process, the embedded store);
* score recomputation for 1,000,000 indicators: the decay job over an index
  of 1,000,000 entries, beside the bare scores_at over the same million.

The indicators are steppe's own shape (pattern, score extension, TLP GREEN,
last seen within the last days), written through the one write path, which
fills the feed index as ingest does.
"""

from __future__ import annotations

import http.client
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

from bench.common import ADMIN_KEY, Server, embedded_server, heading, row
from steppe.access.bootstrap import ensure_bootstrapped
from steppe.access.feed_definitions import add_feed
from steppe.config import Settings
from steppe.distribution.decay_job import DecayJob
from steppe.distribution.feed_service import FeedService
from steppe.runtime import build_services
from steppe.scoring.decay_curve import MICROSECONDS_PER_DAY, DecayCurve
from steppe.scoring.decay_score import scores_at
from steppe.stix import tlp
from steppe.stix.identities import org_identity_id
from steppe.stix.score_extension import ScoreFields, score_extension
from steppe.stix.timestamps import format_stix, now_micros
from steppe.store.feed_entries import EntryContext, feed_entry
from steppe.store.sqlite.store import SqliteStore
from steppe.store.write_path import WritePath, candidate

FEED_SIZE = 100_000
BATCH = 5_000
RUNS = 5
NOT_MODIFIED_RUNS = 25
SCALES = (10_000, 1_000_000)
SCALE_FEED = 10_000
DAY = MICROSECONDS_PER_DAY
TAXII = "application/taxii+json;version=2.1"


def verdict(ok: bool) -> str:
    return "meets" if ok else "BELOW"


def indicators(count: int, seed: int, now: int, first: int = 0) -> list[dict[str, Any]]:
    """Steppe-shaped indicators of distinct addresses (the n-th: 10.0.0.0 + 2n, so none
    merge into a network), last seen within the last 10 days."""
    rng = random.Random(seed)
    producer = org_identity_id("bench")
    out = []
    for n in range(first, first + count):
        number = (10 << 24) + 2 * n
        address = f"{number >> 24}.{(number >> 16) & 255}.{(number >> 8) & 255}.{number & 255}"
        seen = now - rng.randrange(10 * DAY)
        stamp = format_stix(seen)
        out.append(
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": f"indicator--{uuid.UUID(int=rng.getrandbits(128), version=4)}",
                "created_by_ref": producer,
                "created": stamp,
                "modified": stamp,
                "name": f"DDoS source {address}",
                "indicator_types": ["malicious-activity"],
                "pattern": f"[ipv4-addr:value = '{address}']",
                "pattern_type": "stix",
                "pattern_version": "2.1",
                "valid_from": format_stix(seen - DAY),
                "valid_until": format_stix(seen + 90 * DAY),
                "confidence": rng.randint(20, 100),
                "object_marking_refs": [tlp.GREEN.marking_id],
                "extensions": score_extension(
                    ScoreFields(rng.randint(30, 100), seen, "ddos", 90.0, 1.0, 20)
                ),
            }
        )
    return out


def load(data_dir: Path, now: int) -> tuple[str, str, str, str]:
    """100,000 indicators in the default collection, through the write path, and two feeds.

    Returns (API root, collection id, text feed path, csv feed path).
    """
    settings = Settings.from_env({"STEPPE_DATA_DIR": str(data_dir)})
    services = build_services(settings)
    try:
        boot = ensure_bootstrapped(services.store, settings, admin_key=ADMIN_KEY)
        collection = boot.default_collection.id
        store = services.store
        writes = WritePath(store, store, org_identity_id("bench"), store)
        objects = indicators(FEED_SIZE, 7, now)
        for start in range(0, len(objects), BATCH):
            part = objects[start : start + BATCH]
            writes.write(collection, [candidate(o, tlp.GREEN.rank) for o in part], latest={})
        paths = []
        for name, fmt in (("edl", "text"), ("sheet", "csv")):
            issued = add_feed(
                store,
                name=name,
                format_name=fmt,
                collections=[collection],
                clearance="green",
                types=["ipv4-addr"],
                min_score=0,
                max_entries=FEED_SIZE,
            )
            paths.append(urlsplit(issued.url("http://localhost")).path)
        return settings.api_root, collection, paths[0], paths[1]
    finally:
        services.close()


def timed_get(conn: http.client.HTTPConnection, path: str, headers: dict[str, str]):
    started = time.perf_counter()
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    headers = {name.lower(): value for name, value in response.getheaders()}
    return time.perf_counter() - started, response.status, headers, body


def over_http(server: Server, root: str, collection: str, text: str, csv: str) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)
    try:
        for label, path in (("text (EDL)", text), ("csv", csv)):
            first, status, headers, body = timed_get(conn, path, {})
            if status != 200 or headers.get("x-steppe-total") != str(FEED_SIZE):
                raise RuntimeError(f"{path}: {status} {headers} {body[:200]!r}")
            kept = [timed_get(conn, path, {})[0] for _ in range(RUNS)]
            etag = headers["etag"]
            not_modified = []
            for _ in range(NOT_MODIFIED_RUNS):
                seconds, code, _, _ = timed_get(conn, path, {"If-None-Match": etag})
                if code != 304:
                    raise RuntimeError(f"expected 304, got {code}")
                not_modified.append(seconds)
            row(
                f"{label} feed of {FEED_SIZE:,}: first request",
                f"{first:.3f} s",
                f"{len(body) / 1e6:.1f} MB",
                "renders it (no rendering kept yet); later ones are the schedule's",
            )
            row(
                f"{label} feed of {FEED_SIZE:,}: served",
                f"{statistics.median(kept):.3f} s",
                f"median of {RUNS}",
                f"{verdict(statistics.median(kept) < 1.0)} 1 s",
            )
            row(
                f"{label} feed: 304",
                f"{statistics.median(not_modified) * 1000:.1f} ms",
                f"median of {NOT_MODIFIED_RUNS}",
                f"{verdict(statistics.median(not_modified) < 0.010)} 10 ms",
            )
        auth = {"Authorization": f"Bearer {ADMIN_KEY}", "Accept": TAXII}
        discovery = [timed_get(conn, "/taxii2/", auth)[0] for _ in range(NOT_MODIFIED_RUNS)]
        row(
            "TAXII discovery on the same server",
            f"{statistics.median(discovery) * 1000:.1f} ms",
            "baseline for the 304",
        )
        path = f"/taxii2/{root}/collections/{collection}/objects/?limit=1000&match[type]=indicator"
        started = time.perf_counter()
        count = 0
        while True:
            _, status, _, body = timed_get(conn, path, auth)
            envelope = orjson.loads(body)
            count += len(envelope.get("objects", []))
            if status != 200 or not envelope.get("more"):
                break
            path = (
                f"/taxii2/{root}/collections/{collection}/objects/?limit=1000"
                f"&match[type]=indicator&next={envelope['next']}"
            )
        pull = time.perf_counter() - started
        row(
            f"TAXII full pull of the same {count:,} indicators",
            f"{pull:.2f} s",
            "baseline for the feeds",
        )
    finally:
        conn.close()


def index_of(size: int, data_dir: Path, now: int) -> tuple[SqliteStore, float]:
    """An embedded store whose feed index holds `size` entries; (store, seconds to fill)."""
    store = SqliteStore(data_dir)
    started = time.perf_counter()
    context = EntryContext()
    rank = tlp.GREEN.rank
    for start in range(0, size, 20_000):
        part = indicators(min(20_000, size - start), start + 1, now, first=start)
        store.put_feed_entries(
            [e for o in part if (e := feed_entry(o, "c", rank, now, context)) is not None]
        )
    return store, time.perf_counter() - started


def at_scale(now: int) -> None:
    figures = {}
    for size in SCALES:
        with tempfile.TemporaryDirectory(prefix="steppe-bench-feeds-") as tmp:
            store, filled = index_of(size, Path(tmp), now)
            try:
                issued = add_feed(
                    store,
                    name="scale",
                    format_name="text",
                    collections=["c"],
                    clearance="green",
                    types=["ipv4-addr"],
                    min_score=0,
                    max_entries=SCALE_FEED,
                )
                service = FeedService(
                    feeds=store,
                    index=store,
                    false_positives=store,
                    objects=store,
                    blobs=_NoBlobs(),
                )
                renders, not_modified = [], []
                feed = issued.feed
                for _ in range(RUNS):
                    signature = service._signature(feed)
                    started = time.perf_counter()
                    service._render(feed, now_micros(), signature)  # what the schedule runs
                    renders.append(time.perf_counter() - started)
                    answer = service.serve(feed, "")
                    started = time.perf_counter()
                    again = service.serve(feed, "", if_none_match=f'"{answer.etag}"')
                    not_modified.append(time.perf_counter() - started)
                    if again.status != 304 or answer.total != SCALE_FEED:
                        raise RuntimeError(f"{again.status} {answer.total}")
                figures[size] = (statistics.median(renders), statistics.median(not_modified))
                if size == SCALES[-1]:
                    decay(store, size, now, filled)
            finally:
                store.close()
    small, large = figures[SCALES[0]], figures[SCALES[-1]]
    row(
        f"render a {SCALE_FEED:,}-entry feed, index of {SCALES[-1]:,}",
        f"{large[0] * 1000:.0f} ms",
        f"index of {SCALES[0]:,}: {small[0] * 1000:.0f} ms",
        f"ratio {large[0] / small[0]:.2f}",
    )
    row(
        f"304 from an index of {SCALES[-1]:,}",
        f"{large[1] * 1000:.2f} ms",
        f"index of {SCALES[0]:,}: {small[1] * 1000:.2f} ms",
        f"ratio {large[1] / small[1]:.2f}",
    )


def decay(store: SqliteStore, size: int, now: int, filled: float) -> None:
    row(f"feed index filled with {size:,} entries", f"{filled:.1f} s", "put_feed_entries")
    entries = store.active_feed_entries(None, 1)
    assert entries
    job = DecayJob(index=store, objects=store, writes=WritePath(store, store, "x", store))
    later = now + DAY // 2
    started = time.perf_counter()
    outcome = job.run(now=later, max_rescored=size)
    seconds = time.perf_counter() - started
    bases = [random.Random(1).randint(0, 100) for _ in range(size)]
    seen = [now - n % (10 * DAY) for n in range(size)]
    started = time.perf_counter()
    scores_at(bases, seen, later, DecayCurve(90, 1.0, 20))
    bare = time.perf_counter() - started
    row(
        f"decay job over {outcome.examined:,} entries",
        f"{seconds:.1f} s",
        f"scores_at alone {bare:.2f} s",
        f"{outcome.rescored:,} rescored, {outcome.retired:,} retired",
    )


class _NoBlobs:
    """A blob store in memory: the scale figures measure the index, not the disk."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def put(self, key: str, data: bytes, content_type: str = "") -> None:
        self.data[key] = data

    def get(self, key: str) -> bytes | None:
        return self.data.get(key)

    def exists(self, key: str) -> bool:
        return key in self.data

    def delete(self, key: str) -> None:
        self.data.pop(key, None)


def run() -> None:
    heading("Feeds and decay (issue 10)")
    now = now_micros()
    with tempfile.TemporaryDirectory(prefix="steppe-bench-feeds-") as tmp:
        data_dir = Path(tmp)
        started = time.perf_counter()
        root, collection, text, csv = load(data_dir, now)
        row(
            f"wrote {FEED_SIZE:,} indicators",
            f"{time.perf_counter() - started:.1f} s",
            "through the write path (feed index included)",
        )
        with embedded_server(data_dir) as server:
            over_http(server, root, collection, text, csv)
    at_scale(now)
