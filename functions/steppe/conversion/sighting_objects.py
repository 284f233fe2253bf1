"""Sightings: what a reporting organisation saw of an indicator, and who that organisation is."""

from __future__ import annotations

from typing import Any

from steppe.stix.ids import derived_id, random_id
from steppe.stix.score_extension import outcome_extension
from steppe.stix.timestamps import format_stix


def reporter_id(partner_id: str, organisation: str) -> str:
    """The identity of an organisation as one caller names it: the same name from two
    callers is two identities (neither may speak for the other's)."""
    return derived_id("identity", "sighting-reporter", partner_id, organisation)


def reporter_identity(
    partner_id: str, organisation: str, producer_id: str, stamp: int, marking: str
) -> dict[str, Any]:
    """The identity object of the organisation that saw an indicator."""
    text = format_stix(stamp)
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": reporter_id(partner_id, organisation),
        "created_by_ref": producer_id,
        "created": text,
        "modified": text,
        "name": organisation,
        "identity_class": "organization",
        "object_marking_refs": [marking],
    }


def sighting_object(
    *,
    indicator_id: str,
    count: int,
    first_seen: int,
    last_seen: int,
    where_sighted: str,
    producer_id: str,
    outcome: str,
    note: str | None,
    stamp: int,
    marking: str,
) -> dict[str, Any]:
    """A new sighting (a random id: every report is an event of its own)."""
    text = format_stix(stamp)
    return {
        "type": "sighting",
        "spec_version": "2.1",
        "id": random_id("sighting"),
        "created_by_ref": producer_id,
        "created": text,
        "modified": text,
        "first_seen": format_stix(first_seen),
        "last_seen": format_stix(last_seen),
        "count": count,
        "sighting_of_ref": indicator_id,
        "where_sighted_refs": [where_sighted],
        "object_marking_refs": [marking],
        "extensions": outcome_extension(outcome, note),
    }
