"""Correlation on the embedded store: what it costs ingest, and how fast lookups are.

* Ingest with correlation on against off: the previous issue's 100,000-observable
  submission over HTTP to a real `steppe serve`, each on a fresh data dir. With
  correlation on, the clock runs until the submission is complete AND every
  correlation job has run (the job table is empty), so the figure is the whole
  cost. Target (issue 11): on >= 0.8 x off.
* Lookup latency: `GET /api/v1/observables?value=` against indexes of 10,000 and
  1,000,000 values (filled through the store port, as correlation fills it:
  occurrences plus their /24 and AS group members). Target: 1M within 1.5x of 10k.
* Bulk lookup: `POST /api/v1/observables/lookup` of 10,000 values (half known) on
  the 1,000,000-value index, in values per second; baseline: the same values
  looked up one GET at a time (rate from the median single-lookup latency).
"""

from __future__ import annotations

import http.client
import json
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import ADMIN_KEY, Server, embedded_server, heading, row
from bench.ingest import submission, submit_until_complete
from steppe.access.bootstrap import ensure_bootstrapped
from steppe.config import Settings
from steppe.runtime import build_services
from steppe.stix.ids import derived_id
from steppe.store.port import CampaignRecord, GroupMember, IndexedValue

INGEST_SIZE = 100_000
INDEX_SIZES = (10_000, 1_000_000)
CAMPAIGNS = 1_000
SINGLE_LOOKUPS = 400
BULK = 10_000
WRITE_BATCH = 5_000
DAY = 86_400 * 1_000_000


# ---------------------------------------------------------------------------
# Ingest with and without correlation
# ---------------------------------------------------------------------------


def pending_jobs(data_dir: Path) -> int:
    with sqlite3.connect(f"file:{data_dir / 'steppe.db'}?mode=ro", uri=True) as db:
        return db.execute("SELECT count(*) FROM jobs WHERE status != 'dead'").fetchone()[0]


def ingest(body: bytes, correlate: bool) -> tuple[float, float, float]:
    """(observables/s until complete, until correlated, peak MB)."""
    with embedded_server(STEPPE_CORRELATE="1" if correlate else "0") as server:
        started = time.perf_counter()
        resource = submit_until_complete(server, body)
        complete = time.perf_counter() - started
        while pending_jobs(server.data_dir):
            time.sleep(0.05)
        correlated = time.perf_counter() - started
        observables = resource["observables"]
        return observables / complete, observables / correlated, server.peak_rss_mb()


# ---------------------------------------------------------------------------
# Lookups
# ---------------------------------------------------------------------------


def address(n: int) -> str:
    return f"{10 + (n >> 16) % 200}.{(n >> 8) & 255}.{n & 255}.{1 + n % 250}"


def fill_index(data_dir: Path, size: int) -> None:
    """Bootstrap the data dir and index `size` values across CAMPAIGNS campaigns."""
    settings = Settings.from_env({"STEPPE_DATA_DIR": str(data_dir)})
    services = build_services(settings)
    store = services.store
    try:
        boot = ensure_bootstrapped(store, settings, admin_key=ADMIN_KEY)
        collection = boot.default_collection.id
        campaigns = [derived_id("campaign", "bench", str(c)) for c in range(CAMPAIGNS)]
        for c, campaign in enumerate(campaigns):
            store.put_campaign(
                CampaignRecord(
                    id=campaign,
                    name=f"Bench campaign {c}",
                    collection_id=collection,
                    tlp=1,
                    producer=derived_id("identity", "bench"),
                    first_seen=DAY * (14_000 + c),
                    last_seen=DAY * (14_010 + c),
                    modified=DAY * (20_000 + c),
                )
            )
        for start in range(0, size, WRITE_BATCH):
            values: list[IndexedValue] = []
            members: list[GroupMember] = []
            for n in range(start, min(size, start + WRITE_BATCH)):
                ip = address(n)
                key = f"ipv4-addr:{ip}"
                campaign = campaigns[n % CAMPAIGNS]
                seen = DAY * (14_000 + n % 3_000)
                values.append(
                    IndexedValue(
                        key=key,
                        collection_id=collection,
                        object_id=derived_id("indicator", "bench", ip),
                        campaign_id=campaign,
                        source=f"submission:bench-{n % CAMPAIGNS}",
                        producer=derived_id("identity", "bench"),
                        tlp=1,
                        first_seen=seen,
                        last_seen=seen + DAY,
                    )
                )
                members.append(
                    GroupMember(
                        "net:" + ip.rsplit(".", 1)[0] + ".0/24", campaign, collection, 1, key
                    )
                )
                members.append(GroupMember(f"asn:{64496 + n % 16}", campaign, collection, 1, key))
            store.index_values(values)
            store.index_groups(members)
    finally:
        services.close()


def single_latencies(server: Server, size: int, rng: random.Random) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    timings = []
    try:
        for i in range(SINGLE_LOOKUPS + 20):
            value = address(rng.randrange(size))
            started = time.perf_counter()
            conn.request("GET", f"/api/v1/observables?value={value}", headers=headers)
            response = conn.getresponse()
            data = response.read()
            elapsed = time.perf_counter() - started
            if response.status != 200:
                raise RuntimeError(f"lookup {value} -> {response.status}: {data[:300]!r}")
            if i >= 20:  # the first requests warm the caches
                timings.append(elapsed)
        return timings
    finally:
        conn.close()


def bulk_rate(server: Server, size: int, rng: random.Random) -> float:
    known = [address(rng.randrange(size)) for _ in range(BULK // 2)]
    unknown = [
        f"192.0.2.{n % 250 + 1}" if n % 2 else f"c2-{n}.example.net" for n in range(BULK // 2)
    ]
    body = json.dumps({"values": known + unknown}).encode()
    started = time.perf_counter()
    result = server.json(
        "POST", "/api/v1/observables/lookup", body, headers={"Content-Type": "application/json"}
    )
    elapsed = time.perf_counter() - started
    found = sum(1 for item in result["results"] if item["found"])
    if found < len(set(known)):
        raise RuntimeError(f"bulk lookup found {found} of {len(set(known))} known values")
    return BULK / elapsed


def run() -> None:
    heading("Correlation, embedded store")
    body = json.dumps(submission(INGEST_SIZE)).encode()
    off_rate, _, off_peak = ingest(body, correlate=False)
    on_complete, on_rate, on_peak = ingest(body, correlate=True)
    ratio = on_rate / off_rate
    row(
        f"ingest {INGEST_SIZE:,} observables, correlation on",
        f"{on_rate:,.0f} obs/s",
        f"correlation off: {off_rate:,.0f} obs/s",
        f"ratio {ratio:.2f}; {'meets' if ratio >= 0.8 else 'BELOW'} 0.8",
    )
    row(
        "  (on: until the submission read complete)",
        f"{on_complete:,.0f} obs/s",
        f"peak memory on {on_peak:,.0f} MB, off {off_peak:,.0f} MB",
    )
    medians: dict[int, float] = {}
    for size in INDEX_SIZES:
        with tempfile.TemporaryDirectory(prefix="steppe-bench-index-") as tmp:
            data_dir = Path(tmp)
            started = time.perf_counter()
            fill_index(data_dir, size)
            filled = time.perf_counter() - started
            with embedded_server(data_dir=data_dir) as server:
                rng = random.Random(size)
                timings = single_latencies(server, size, rng)
                medians[size] = statistics.median(timings)
                p95 = statistics.quantiles(timings, n=20)[18]
                baseline = (
                    f"{size:,} values indexed in {filled:,.0f} s"
                    if size == INDEX_SIZES[0]
                    else f"at {INDEX_SIZES[0]:,}: {medians[INDEX_SIZES[0]] * 1000:.2f} ms"
                )
                note = ""
                if size != INDEX_SIZES[0]:
                    growth = medians[size] / medians[INDEX_SIZES[0]]
                    note = f"{growth:.2f}x; {'meets' if growth <= 1.5 else 'OVER'} 1.5x"
                row(
                    f"lookup, index of {size:,} values (median, p95)",
                    f"{medians[size] * 1000:.2f} / {p95 * 1000:.2f} ms",
                    baseline,
                    note,
                )
                if size == INDEX_SIZES[-1]:
                    rate = bulk_rate(server, size, rng)
                    row(
                        f"bulk lookup of {BULK:,} values, index {size:,}",
                        f"{rate:,.0f} values/s",
                        f"one GET each: {1 / medians[size]:,.0f} values/s",
                        f"{rate * medians[size]:.0f}x",
                    )


if __name__ == "__main__":
    run()
