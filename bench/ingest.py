"""End-to-end ingest on the embedded store (issue 11: >= 15,000 observables/s, < 600 MB).

For each size, one JSON submission goes over HTTP to a real `steppe serve`
child process; the clock runs from the POST until the submission reads
complete. The CPU time the server and its worker processes used during the
run, per 1,000 observables, bounds the rate this machine's cores could reach
whatever the parallelism. The ceiling is measured in this process in the same
run: building the same STIX objects as plain dicts (the converter) and
serialising them, with no validation, no storage and no HTTP.
"""

from __future__ import annotations

import json
import os
import random
import time
from dataclasses import dataclass
from typing import Any

import orjson

from bench.common import (
    Server,
    TotalMemorySampler,
    cpu_seconds,
    embedded_server,
    heading,
    process_tree,
    row,
)
from steppe.conversion.converter import ConversionContext, Converter, Producer
from steppe.observables.report_json import parse_json
from steppe.stix.ids import derived_id
from steppe.templates.registry import TemplateRegistry

SIZES = (10_000, 100_000)
CHUNK = 1_000
COUNTRIES = ("RU", "RU", "RU", "UA", "KZ", "BY", "CN", "US")


def submission(size: int, seed: int = 2009) -> dict[str, Any]:
    """A DDoS report with `size` distinct observables in documentation-like ranges."""
    rng = random.Random(seed)
    observables: list[dict[str, Any]] = []
    for n in range(size):
        pick = n % 20
        if pick < 15:  # attacking IPv4 hosts, most with their AS and country
            value = f"{10 + (n >> 16) % 200}.{(n >> 8) & 255}.{n & 255}.{1 + pick}"
            item: dict[str, Any] = {"type": "ipv4-addr", "value": value, "role": "source"}
            if pick < 10:
                item["asn"] = 64496 + rng.randrange(16)
                item["country"] = rng.choice(COUNTRIES)
        elif pick < 17:
            item = {
                "type": "ipv6-addr",
                "value": f"2001:db8:{n >> 16:x}:{n & 0xFFFF:x}::{pick}",
                "role": "source",
            }
        elif pick < 19:
            item = {"type": "domain-name", "value": f"c2-{n}.botnet.example.net", "role": "c2"}
        else:
            item = {"type": "url", "value": f"http://isp-{n}.example.org/", "role": "target"}
        item["first_seen"] = "2009-01-18T00:00:00Z"
        item["last_seen"] = "2009-01-20T00:00:00Z"
        observables.append(item)
    return {
        "tlp": "amber",
        "confidence": 70,
        "attack": {
            "kind": "ddos",
            "first_seen": "2009-01-18T00:00:00Z",
            "last_seen": "2009-01-28T00:00:00Z",
        },
        "campaign": {"name": f"Kyrgyzstan ISP DDoS bench {size}"},
        "targets": [{"name": "Kyrgyz ISP A", "sectors": ["telecommunications"], "country": "KG"}],
        "attribution": {"name": "Bench operators", "country": "RU", "confidence": 15},
        "observables": observables,
    }


def ceiling(body: bytes) -> tuple[float, int]:
    """Observables/s for building the same objects as dicts and serialising them."""
    request = parse_json(body)
    converter = Converter(TemplateRegistry.load())
    observables = request.observables
    parts = (len(observables) + CHUNK - 1) // CHUNK
    ctx = ConversionContext(
        submission_id="bench",
        producer=Producer(derived_id("identity", "bench"), "bench"),
        now=time.time_ns() // 1000,
        parts_total=parts,
        id_secret=bytes(32),
    )
    dumps = orjson.dumps
    started = time.perf_counter()
    produced = 0
    for part in range(1, parts + 1):
        chunk = observables[(part - 1) * CHUNK : part * CHUNK]
        objects = converter.header_objects(request.report, ctx)
        objects += converter.chunk_objects(request.report, chunk, part, ctx)
        for obj in objects:
            dumps(obj)
        produced += len(objects)
    elapsed = time.perf_counter() - started
    return len(observables) / elapsed, produced


def submit_until_complete(server: Server, body: bytes) -> dict[str, Any]:
    """POST the submission and poll it until it is complete (an error if it fails)."""
    resource = server.json(
        "POST", "/api/v1/observations", body, headers={"Content-Type": "application/json"}
    )
    while resource["status"] == "pending":
        time.sleep(0.05)
        resource = server.json("GET", resource["links"]["self"])
    if resource["status"] != "complete":
        raise RuntimeError(f"submission ended {resource['status']}: {resource['errors']}")
    return resource


@dataclass(frozen=True)
class IngestRun:
    rate: float  # observables/s to `complete`
    peak_mb: float  # total resident memory of server + workers, sampled
    peak_bound_mb: float  # each process's own peak, summed
    server_cpu: float  # CPU seconds the server process used during the run
    worker_cpu: float  # CPU seconds its worker processes used
    resource: dict[str, Any]


def end_to_end(body: bytes, **env: str) -> IngestRun:
    with embedded_server(**env) as server:
        pids = process_tree(server.process.pid)
        before = {pid: cpu_seconds(pid) for pid in pids}
        with TotalMemorySampler(server.process.pid) as memory:
            started = time.perf_counter()
            resource = submit_until_complete(server, body)
            elapsed = time.perf_counter() - started
        used = {pid: cpu_seconds(pid) - before[pid] for pid in pids}
        server_cpu = used.pop(server.process.pid)
        return IngestRun(
            resource["observables"] / elapsed,
            memory.peak_mb,
            server.peak_rss_mb(),
            server_cpu,
            sum(used.values()),
            resource,
        )


def run() -> None:
    heading("Ingest, embedded store, over HTTP (target >= 15,000 observables/s, < 600 MB)")
    cores = os.cpu_count() or 1
    for size in SIZES:
        body = json.dumps(submission(size)).encode()
        measured = end_to_end(body)
        ceiling_rate, _ = ceiling(body)
        rate = measured.rate
        row(
            f"{size:,} observables ({measured.resource['counts']['objects']:,} objects)",
            f"{rate:,.0f} obs/s",
            f"ceiling {ceiling_rate:,.0f} obs/s (dicts+JSON)",
            f"ratio {rate / ceiling_rate:.2f}; {'meets' if rate >= 15_000 else 'BELOW'} 15,000/s",
        )
        one = end_to_end(body, STEPPE_WORKERS="1")
        row(
            f"  the same with one worker process, {size:,}",
            f"{one.rate:,.0f} obs/s",
            f"{rate / one.rate:.2f}x from worker processes",
        )
        # What the work itself costs, whatever the parallelism: at this CPU per
        # 1,000 observables, all cores busy all the time could not go faster.
        server_ms = measured.server_cpu / size * 1e6
        workers_ms = measured.worker_cpu / size * 1e6
        total_ms = server_ms + workers_ms
        row(
            f"  CPU per 1,000 observables, {size:,}",
            f"{total_ms:,.0f} ms",
            f"server {server_ms:,.0f} ms + workers {workers_ms:,.0f} ms",
            f"bound on {cores} cores: {cores * 1e6 / total_ms:,.0f} obs/s",
        )
        row(
            f"  peak memory (server + workers), {size:,}",
            f"{measured.peak_mb:,.0f} MB",
            f"{len(body) / 1e6:,.1f} MB body",
            f"{'under' if measured.peak_mb < 600 else 'OVER'} 600 MB (total sampled every 20 ms; "
            f"each process's own peak, summed: {measured.peak_bound_mb:,.0f} MB)",
        )


if __name__ == "__main__":
    run()
