"""STIX 2.1 objects as the contract tests write them: real shapes, serialised bytes."""

from __future__ import annotations

import uuid

import orjson

from steppe.stix import tlp
from steppe.stix.ids import value_sco_id
from steppe.stix.timestamps import format_stix, parse_micros
from steppe.store.port import ObjectVersion

IDENTITY = "identity--b3bca3c2-1f3d-4b54-b44f-dac42c3a8f01"
CAMPAIGN = "campaign--9d3c4d9e-6a47-4a8c-9f0e-2d5f1c1b7a10"
# 2009-01-18, the week Kyrgyzstan's four ISPs were knocked offline.
DAY = parse_micros("2009-01-18T00:00:00Z")


def stamp(offset_micros: int) -> int:
    """An instant `offset_micros` after the start of DAY."""
    return DAY + offset_micros


def new_id(stix_type: str) -> str:
    return f"{stix_type}--{uuid.uuid4()}"


def indicator(
    oid: str | None = None,
    *,
    modified: int = DAY,
    created: int | None = None,
    level: tlp.TlpLevel = tlp.GREEN,
    address: str = "85.255.112.7",
) -> ObjectVersion:
    """A DDoS-source indicator; `modified` (epoch µs) is its version."""
    oid = oid or new_id("indicator")
    created = modified if created is None else created
    body = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": oid,
        "created": format_stix(created),
        "modified": format_stix(modified),
        "created_by_ref": IDENTITY,
        "name": f"DDoS source {address}",
        "indicator_types": ["malicious-activity"],
        "pattern": f"[ipv4-addr:value = '{address}']",
        "pattern_type": "stix",
        "valid_from": format_stix(created),
        "object_marking_refs": [level.marking_id],
    }
    return ObjectVersion(oid, "indicator", modified, "2.1", level.rank, orjson.dumps(body))


def ipv4(address: str, level: tlp.TlpLevel = tlp.CLEAR) -> ObjectVersion:
    """An SCO: no created/modified, so it is unversioned."""
    oid = value_sco_id("ipv4-addr", address)
    body = {"type": "ipv4-addr", "spec_version": "2.1", "id": oid, "value": address}
    if level is not tlp.CLEAR:
        body["object_marking_refs"] = [level.marking_id]
    return ObjectVersion(oid, "ipv4-addr", None, "2.1", level.rank, orjson.dumps(body))


def campaign(modified: int, *, level: tlp.TlpLevel = tlp.AMBER) -> ObjectVersion:
    body = {
        "type": "campaign",
        "spec_version": "2.1",
        "id": CAMPAIGN,
        "created": format_stix(DAY),
        "modified": format_stix(modified),
        "name": "January 2009 DDoS against Kyrgyz ISPs",
        "object_marking_refs": [level.marking_id],
    }
    return ObjectVersion(CAMPAIGN, "campaign", modified, "2.1", level.rank, orjson.dumps(body))


def stix20_malware(modified: int = DAY) -> ObjectVersion:
    """A STIX 2.0 object (no spec_version property), stored with spec_version "2.0"."""
    oid = new_id("malware")
    body = {
        "type": "malware",
        "id": oid,
        "created": format_stix(DAY),
        "modified": format_stix(modified),
        "name": "BlackEnergy",
        "labels": ["bot"],
    }
    return ObjectVersion(oid, "malware", modified, "2.0", tlp.CLEAR.rank, orjson.dumps(body))
