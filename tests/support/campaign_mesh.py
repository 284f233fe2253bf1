"""Many campaigns linked in a ring, posted over TAXII: a large graph for the console to draw.

Campaign i and campaign i+1 (mod n) share one address, and no two shared addresses
are in one /24, nor does any carry an autonomous system: n exact links, nothing weak.
Each campaign has its own indicator of each address it used (as two partners
reporting the same host would), tied to it by an `indicates` relationship.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from steppe.stix import tlp
from support.server import RunningServer

TAXII = "application/taxii+json;version=2.1"
STAMP = "2024-03-01T00:00:00.000Z"


def address(n: int) -> str:
    """The n-th shared address, each in a /24 of its own."""
    return f"10.{n // 256}.{n % 256}.1"


def _sdo(stix_type: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": stix_type,
        "spec_version": "2.1",
        "id": f"{stix_type}--{uuid.uuid4()}",
        "created": STAMP,
        "modified": STAMP,
        "object_marking_refs": [tlp.GREEN.marking_id],
        **fields,
    }


def ring(campaigns: int) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The objects of the ring, and campaign id -> name."""
    objects: list[dict[str, Any]] = [tlp.GREEN.marking_definition()]
    made = [
        _sdo(
            "campaign",
            name=f"Ring campaign {c:04d}",
            first_seen="2024-01-01T00:00:00Z",
            last_seen="2024-02-01T00:00:00Z",
        )
        for c in range(campaigns)
    ]
    objects += made
    for n in range(campaigns):
        for campaign in (made[n], made[(n + 1) % campaigns]):
            indicator = _sdo(
                "indicator",
                name=f"Shared host {address(n)}",
                indicator_types=["malicious-activity"],
                pattern=f"[ipv4-addr:value = '{address(n)}']",
                pattern_type="stix",
                valid_from="2024-01-01T00:00:00Z",
            )
            relationship = _sdo(
                "relationship",
                relationship_type="indicates",
                source_ref=indicator["id"],
                target_ref=campaign["id"],
            )
            objects += [indicator, relationship]
    return objects, {c["id"]: c["name"] for c in made}


def post_envelope(server: RunningServer, key: str, objects: list[dict[str, Any]]) -> None:
    """POST the objects to the default collection over TAXII and wait until all are stored."""
    status, discovery = server.json("GET", "/taxii2/", key, headers={"Accept": TAXII})
    assert status == 200, discovery
    root = (discovery.get("default") or discovery["api_roots"][0]).rstrip("/")
    root = root[root.index("/taxii2/") :]
    status, listed = server.json("GET", f"{root}/collections/", key, headers={"Accept": TAXII})
    assert status == 200, listed
    collection = listed["collections"][0]["id"]
    status, resource = server.json(
        "POST",
        f"{root}/collections/{collection}/objects/",
        key,
        body=json.dumps({"objects": objects}).encode(),
        headers={"Content-Type": TAXII, "Accept": TAXII},
    )
    assert status == 202, resource
    deadline = time.monotonic() + 120
    while resource["status"] != "complete":
        assert time.monotonic() < deadline, resource
        time.sleep(0.1)
        status, resource = server.json(
            "GET", f"{root}/status/{resource['id']}/", key, headers={"Accept": TAXII}
        )
    assert resource["failure_count"] == 0, resource.get("failures")
