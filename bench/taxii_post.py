"""TAXII POST to `complete` on the embedded store (issue 11: >= 10,000 objects/s).

One envelope of 20,000 valid indicators (unique ids, the patterns partners
send most: addresses, CIDR blocks, domains, URLs, file hashes; TLP:GREEN) is
POSTed over HTTP to a real `steppe serve` child process; the clock runs from
the POST until its status reads complete. Baselines from the same run, in
this process: the same objects judged by stix2.parse alone (what every
posted object cost before the fast judge, before any storing), by the fast
judge (steppe.stix.surely_valid) alone, and written through the one write
path alone (steppe.store.write_path, in parts of the server's size, on a
fresh embedded store): the ceiling the POST cannot pass.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import orjson

from bench.common import ADMIN_KEY, Server, embedded_server, heading, row
from steppe.access.bootstrap import ensure_bootstrapped
from steppe.access.collections import add_collection
from steppe.config import Settings
from steppe.runtime import build_services
from steppe.stix import tlp
from steppe.stix.identities import org_identity_id
from steppe.stix.surely_valid import surely_valid
from steppe.store.write_path import Candidate, WritePath, Writer
from steppe.taxii.adding import check_object

SIZE = 20_000
TAXII = "application/taxii+json;version=2.1"
PRODUCER = "identity--b3bca3c2-1f3e-4b5c-9d3a-2f0c8e1d7a41"


def indicators(count: int, seed: int = 2011) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    objects = []
    for n in range(count):
        day = f"2024-0{1 + n % 9}-{10 + n % 18}"
        when = f"{day}T{n % 24:02d}:{n % 60:02d}:{(n * 7) % 60:02d}.{n % 1000:03d}Z"
        address = f"{10 + (n >> 16) % 200}.{(n >> 8) & 255}.{n & 255}.{1 + n % 250}"
        kind = n % 10
        if kind < 5:
            pattern = f"[ipv4-addr:value = '{address}']"
        elif kind == 5:
            pattern = f"[ipv4-addr:value ISSUBSET '{address.rsplit('.', 1)[0]}.0/24']"
        elif kind < 8:
            pattern = f"[domain-name:value = 'c2-{n}.botnet.example']"
        elif kind == 8:
            pattern = f"[url:value = 'http://c2-{n}.botnet.example/gate.php']"
        else:
            digest = f"{rng.getrandbits(256):064x}"
            pattern = f"[file:hashes.'SHA-256' = '{digest}']"
        objects.append(
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": f"indicator--{uuid.UUID(int=rng.getrandbits(128), version=4)}",
                "created": when,
                "modified": when,
                "created_by_ref": PRODUCER,
                "name": f"Botnet indicator {n}",
                "indicator_types": ["malicious-activity"],
                "pattern": pattern,
                "pattern_type": "stix",
                "valid_from": when,
                "confidence": 60 + n % 40,
                "labels": ["ddos", "botnet"],
                "object_marking_refs": [tlp.GREEN.marking_id],
            }
        )
    return objects


def stix2_rate(objects: list[dict[str, Any]]) -> float:
    import stix2

    started = time.perf_counter()
    for obj in objects:
        stix2.parse(obj, allow_custom=True, version="2.1")
    return len(objects) / (time.perf_counter() - started)


def fast_rate(objects: list[dict[str, Any]]) -> float:
    started = time.perf_counter()
    if not all(surely_valid(obj) for obj in objects):
        raise RuntimeError("the fast judge left some bench indicators to stix2")
    return len(objects) / (time.perf_counter() - started)


def write_path_rate(objects: list[dict[str, Any]]) -> float:
    """The objects written through the write path alone, as the worker writes a part."""
    with tempfile.TemporaryDirectory(prefix="steppe-bench-") as tmp:
        settings = Settings.from_env({"STEPPE_DATA_DIR": str(Path(tmp))})
        services = build_services(settings)
        try:
            ensure_bootstrapped(services.store, settings, admin_key=ADMIN_KEY)
            collection = add_collection(services.store, settings.api_root, "Write path alone")
            store = services.store
            writes = WritePath(store, store, org_identity_id(settings.org_name), store)
            part = settings.taxii_part_objects
            candidates = [check_object(obj, 0, collection.unmarked_tlp, "") for obj in objects]
            if not all(isinstance(item, Candidate) for item in candidates):
                raise RuntimeError("a bench indicator was refused")
            started = time.perf_counter()
            for start in range(0, len(candidates), part):
                writes.write(
                    collection.id, candidates[start : start + part], Writer(None, tlp.RED.rank)
                )  # type: ignore[arg-type]
            return len(objects) / (time.perf_counter() - started)
        finally:
            services.close()


def post_until_complete(server: Server, objects: list[dict[str, Any]]) -> float:
    listed = server.json("GET", "/taxii2/steppe/collections/", headers={"Accept": TAXII})
    collection = listed["collections"][0]["id"]
    body = orjson.dumps({"objects": objects})
    started = time.perf_counter()
    status, _, data = server.request(
        "POST",
        f"/taxii2/steppe/collections/{collection}/objects/",
        body,
        headers={"Content-Type": TAXII, "Accept": TAXII},
    )
    if status != 202:
        raise RuntimeError(f"POST -> {status}: {data[:300]!r}")
    resource = json.loads(data)
    while resource["status"] != "complete":
        time.sleep(0.1)
        resource = server.json(
            "GET", f"/taxii2/steppe/status/{resource['id']}/", headers={"Accept": TAXII}
        )
    elapsed = time.perf_counter() - started
    if resource["success_count"] != len(objects):
        raise RuntimeError(f"{resource['failure_count']} failed: {resource.get('failures')!r:.300}")
    return elapsed


def run() -> None:
    heading(f"TAXII POST to complete: {SIZE:,} indicators (embedded server)")
    objects = indicators(SIZE)
    old = stix2_rate(objects[:4_000])
    fast = fast_rate(objects)
    written = write_path_rate(objects)
    with embedded_server(STEPPE_CORRELATE="0") as server:
        post_until_complete(server, indicators(50, seed=7))  # warm: imports, first write
        seconds = post_until_complete(server, objects)
    row(
        f"POST of {SIZE:,} to complete",
        f"{SIZE / seconds:,.0f} objects/s",
        f"stix2.parse alone: {old:,.0f}/s",
        f"{seconds:.2f} s; target 10,000/s",
    )
    row("  the same, judged by the fast judge alone", f"{fast:,.0f} objects/s")
    row("  the same, through the write path alone", f"{written:,.0f} objects/s")


if __name__ == "__main__":
    run()
