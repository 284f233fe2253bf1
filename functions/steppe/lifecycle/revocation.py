"""Revocation in STIX 2.1 terms.

An object is revoked by a new version of it with `revoked: true`; STIX forbids
any version after that, so a revoked object is final. steppe says why in a
`note` about the indicator (abstract + the analyst's reason, the analyst as
author, created by the organisation running steppe, under the indicator's own
TLP marking). The note's id derives from the indicator's: an indicator is
revoked once, so it has one such note, and a retried revocation writes
nothing new.

Because a revoked indicator can never change again and steppe derives
indicator ids from (producer, pattern), publishing the value again takes a
new indicator: its successor, whose id derives from the revoked one's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from steppe.stix.ids import derived_id
from steppe.stix.timestamps import format_stix

MILLISECOND = 1000
MAX_REASON = 10_000


def note_id(indicator_id: str) -> str:
    """The id of the note that says why the indicator was revoked."""
    return derived_id("note", indicator_id, "revocation")


def successor_id(indicator_id: str) -> str:
    """The id under which a revoked indicator's value is published again."""
    return derived_id("indicator", indicator_id, "reissued")


def revocation_stamp(stored_version: int | None, now: int) -> int:
    """The revoked version's `modified`: now, but always after the stored version."""
    if stored_version is None:
        return now
    return max(now, stored_version + MILLISECOND)


def revoked_version(obj: Mapping[str, Any], stamp: int) -> dict[str, Any]:
    """The object as it was, revoked at `stamp` (epoch µs)."""
    revoked = dict(obj)
    revoked["modified"] = format_stix(stamp)
    revoked["revoked"] = True
    return revoked


def revocation_note(
    indicator: Mapping[str, Any],
    *,
    abstract: str,
    reason: str,
    analyst: str,
    producer_id: str,
    stamp: int,
) -> dict[str, Any]:
    """The note about a revoked indicator, marked as the indicator is."""
    stamp_text = format_stix(stamp)
    note: dict[str, Any] = {
        "type": "note",
        "spec_version": "2.1",
        "id": note_id(indicator["id"]),
        "created_by_ref": producer_id,
        "created": stamp_text,
        "modified": stamp_text,
        "abstract": abstract,
        "content": reason,
        "authors": [analyst],
        "object_refs": [indicator["id"]],
    }
    markings = indicator.get("object_marking_refs")
    if markings:
        note["object_marking_refs"] = list(markings)
    return note
