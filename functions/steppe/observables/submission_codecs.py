"""A submission's report and observables as stored: in its meta and in its chunks.

Stored forms outlive the code that wrote them (queued chunks, submissions'
meta), so these formats only ever grow: what an older steppe wrote still reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from steppe.observables.model import (
    Attribution,
    Campaign,
    Observable,
    Report,
    Source,
    Target,
    Tool,
    make_observable,
)
from steppe.stix import tlp as tlp_levels


def report_to_dict(report: Report) -> dict[str, Any]:
    """A JSON-able dict of the report (kept in the submission's meta)."""
    return {
        "kind": report.kind,
        "tlp": report.tlp.name,
        "confidence": report.confidence,
        "source": None
        if report.source is None
        else {"name": report.source.name, "url": report.source.url},
        "first_seen": report.first_seen,
        "last_seen": report.last_seen,
        "description": report.description,
        "campaign": None
        if report.campaign is None
        else {
            "name": report.campaign.name,
            "objective": report.campaign.objective,
            "description": report.campaign.description,
        },
        "targets": [
            {
                "name": t.name,
                "kind": t.kind,
                "sectors": list(t.sectors),
                "country": t.country,
                "description": t.description,
            }
            for t in report.targets
        ],
        "attribution": None
        if report.attribution is None
        else {
            "name": report.attribution.name,
            "kind": report.attribution.kind,
            "country": report.attribution.country,
            "confidence": report.attribution.confidence,
            "description": report.attribution.description,
        },
        "collection": report.collection,
        "valid_until": report.valid_until,
        "title": report.title,
        "observed_first": report.observed_first,
        "observed_last": report.observed_last,
        "override_false_positives": report.override_false_positives,
        "tools": [
            {
                "category": t.category,
                "name": t.name,
                "aliases": list(t.aliases),
                "family": t.family,
                "is_family": t.is_family,
                "types": list(t.types),
                "samples": [[list(pair) for pair in hashes] for hashes in t.samples],
                "c2": [list(pair) for pair in t.c2],
                "description": t.description,
            }
            for t in report.tools
        ],
    }


def report_from_dict(data: Mapping[str, Any]) -> Report:
    """The report report_to_dict() wrote."""
    source = data.get("source")
    campaign = data.get("campaign")
    attribution = data.get("attribution")
    return Report(
        kind=data["kind"],
        tlp=tlp_levels.level(data["tlp"]),
        confidence=data["confidence"],
        source=None if source is None else Source(**source),
        first_seen=data.get("first_seen"),
        last_seen=data.get("last_seen"),
        description=data.get("description"),
        campaign=None if campaign is None else Campaign(**campaign),
        targets=tuple(
            Target(**{**t, "sectors": tuple(t.get("sectors") or ())})
            for t in data.get("targets") or ()
        ),
        attribution=None if attribution is None else Attribution(**attribution),
        collection=data.get("collection"),
        valid_until=data.get("valid_until"),
        title=data.get("title"),
        observed_first=data.get("observed_first"),
        observed_last=data.get("observed_last"),
        override_false_positives=bool(data.get("override_false_positives", False)),
        tools=tuple(_tool_from_dict(t) for t in data.get("tools") or ()),
    )


def _tool_from_dict(data: Mapping[str, Any]) -> Tool:
    return Tool(
        category=data["category"],
        name=data["name"],
        aliases=tuple(data.get("aliases") or ()),
        family=data.get("family"),
        is_family=bool(data.get("is_family", True)),
        types=tuple(data.get("types") or ()),
        samples=tuple(
            tuple((name, hex_value) for name, hex_value in hashes)
            for hashes in data.get("samples") or ()
        ),
        c2=tuple((c2_type, value) for c2_type, value in data.get("c2") or ()),
        description=data.get("description"),
    )


def encode_observables(observables: Sequence[Observable]) -> bytes:
    """Compact bytes for a chunk of observables (one JSON array of rows)."""
    return orjson.dumps(
        [
            (o.type, o.value, o.hashes, o.role, o.asn, o.country, o.first_seen, o.last_seen)
            for o in observables
        ]
    )


def decode_observables(data: bytes) -> list[Observable]:
    """The observables encode_observables() wrote."""
    make = make_observable
    return [
        make(
            obs_type,
            value,
            tuple((name, hex_value) for name, hex_value in hashes) if hashes else (),
            role,
            asn,
            country,
            first_seen,
            last_seen,
        )
        for obs_type, value, hashes, role, asn, country, first_seen, last_seen in orjson.loads(data)
    ]
