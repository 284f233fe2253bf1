"""Three campaigns of the Baltic-to-Central-Asia DDoS story, in documentation address ranges.

* Estonia, April-May 2007: an analyst submission (TLP:GREEN). Its sources are
  in 192.0.2.0/24 and in AS64500, which Kyrgyzstan's also use: weak evidence only.
* Georgia, August 2008: a partner CERT's STIX bundle posted over TAXII
  (TLP:AMBER). Three of its four source addresses come back in Kyrgyzstan.
* Kyrgyzstan, January 2009: an analyst submission (TLP:GREEN here, so that a
  GREEN partner may see it and must still learn nothing of Georgia).
"""

from __future__ import annotations

import uuid
from typing import Any

from steppe.stix import tlp

ESTONIA_SOURCES = ["192.0.2.101", "192.0.2.102", "192.0.2.103"]
GEORGIA_SOURCES = ["198.51.100.7", "198.51.100.23", "203.0.113.66", "203.0.113.200"]
KYRGYZSTAN_SOURCES = ["198.51.100.7", "198.51.100.23", "198.51.100.41", "203.0.113.66"]
SHARED_WITH_GEORGIA = ["198.51.100.23", "198.51.100.7", "203.0.113.66"]
ESTONIA_CAMPAIGN = "Estonia DDoS, April-May 2007"
GEORGIA_CAMPAIGN = "Georgia DDoS, August 2008"
KYRGYZSTAN_CAMPAIGN = "Kyrgyzstan ISP DDoS, January 2009"


def estonia_report() -> dict[str, Any]:
    return {
        "tlp": "green",
        "confidence": 60,
        "attack": {
            "kind": "ddos",
            "first_seen": "2007-04-27T00:00:00Z",
            "last_seen": "2007-05-18T00:00:00Z",
            "description": "Botnet DDoS against Estonian government, banks and media.",
        },
        "campaign": {"name": ESTONIA_CAMPAIGN},
        "targets": [
            {"name": "Estonian government portal", "kind": "organization", "country": "EE"}
        ],
        "observables": [
            {"type": "ipv4-addr", "value": ip, "role": "source", "asn": 64500}
            for ip in ESTONIA_SOURCES
        ],
    }


def kyrgyzstan_report() -> dict[str, Any]:
    return {
        "tlp": "green",
        "confidence": 70,
        "attack": {
            "kind": "ddos",
            "first_seen": "2009-01-18T00:00:00Z",
            "last_seen": "2009-01-28T00:00:00Z",
            "description": "DDoS against the upstream links of Kyrgyzstan's four main ISPs.",
        },
        "campaign": {"name": KYRGYZSTAN_CAMPAIGN},
        "targets": [{"name": "Kyrgyz ISP A", "kind": "organization", "country": "KG"}],
        "observables": [
            {"type": "ipv4-addr", "value": "198.51.100.7", "role": "source", "asn": 64500},
            {"type": "ipv4-addr", "value": "198.51.100.23", "role": "source", "asn": 64500},
            {"type": "ipv4-addr", "value": "198.51.100.41", "role": "source", "asn": 64501},
            {"type": "ipv4-addr", "value": "203.0.113.66", "role": "source", "asn": 64502},
            {"type": "ipv4-addr", "value": "192.0.2.10", "role": "target"},
        ],
    }


def _id(stix_type: str) -> str:
    return f"{stix_type}--{uuid.uuid4()}"


def georgia_bundle() -> dict[str, Any]:
    """What CERT-GE would post: its identity, the campaign, indicators, and how they relate."""
    amber = [tlp.AMBER.marking_id]
    stamp = "2008-08-20T12:00:00.000Z"
    cert = {
        "type": "identity",
        "spec_version": "2.1",
        "id": _id("identity"),
        "created": stamp,
        "modified": stamp,
        "name": "CERT-GE (test)",
        "identity_class": "organization",
    }
    campaign = {
        "type": "campaign",
        "spec_version": "2.1",
        "id": _id("campaign"),
        "created_by_ref": cert["id"],
        "created": stamp,
        "modified": stamp,
        "name": GEORGIA_CAMPAIGN,
        "first_seen": "2008-08-08T00:00:00Z",
        "last_seen": "2008-08-12T00:00:00Z",
        "object_marking_refs": amber,
    }
    objects: list[dict[str, Any]] = [tlp.AMBER.marking_definition(), cert, campaign]
    for ip in GEORGIA_SOURCES:
        indicator = {
            "type": "indicator",
            "spec_version": "2.1",
            "id": _id("indicator"),
            "created_by_ref": cert["id"],
            "created": stamp,
            "modified": stamp,
            "name": f"DDoS source {ip}",
            "indicator_types": ["malicious-activity"],
            "pattern": f"[ipv4-addr:value = '{ip}']",
            "pattern_type": "stix",
            "valid_from": "2008-08-08T00:00:00Z",
            "object_marking_refs": amber,
        }
        objects.append(indicator)
        objects.append(
            {
                "type": "relationship",
                "spec_version": "2.1",
                "id": _id("relationship"),
                "created_by_ref": cert["id"],
                "created": stamp,
                "modified": stamp,
                "relationship_type": "indicates",
                "source_ref": indicator["id"],
                "target_ref": campaign["id"],
                "object_marking_refs": amber,
            }
        )
    return {"objects": objects}
