"""The observables themselves as STIX cyber-observable objects (SCOs)."""

from __future__ import annotations

from typing import Any

from steppe.conversion.object_envelope import CLEAR_MARKING
from steppe.observables.model import Observable
from steppe.stix.ids import sco_id

# Preferred hash for a file's display name.
_DISPLAY_HASH_ORDER = ("SHA-256", "SHA-512", "SHA3-256", "SHA3-512", "SHA-1", "MD5")


def display_value(observable: Observable) -> str:
    """The observable as people read it: its value, or a file's best hash."""
    if observable.value is not None:
        return observable.value
    by_name = dict(observable.hashes)
    for name in _DISPLAY_HASH_ORDER:
        if name in by_name:
            return f"{name} {by_name[name]}"
    name, value = observable.hashes[0]
    return f"{name} {value}"


def cyber_observable(
    sco_ref: str, observable: Observable, marking: str, as_ref: str | None
) -> dict[str, Any]:
    """The observable's SCO, belonging to the autonomous system `as_ref` when given."""
    value = observable.value
    if value is None:
        sco: dict[str, Any] = {
            "type": "file",
            "spec_version": "2.1",
            "id": sco_ref,
            "hashes": dict(observable.hashes),
        }
    else:
        sco = {"type": observable.type, "spec_version": "2.1", "id": sco_ref, "value": value}
    if as_ref is not None:
        sco["belongs_to_refs"] = [as_ref]
    sco["object_marking_refs"] = [marking]
    return sco


def autonomous_system_id(number: int) -> str:
    return sco_id("autonomous-system", {"number": number})


def autonomous_system(as_ref: str, number: int) -> dict[str, Any]:
    """An AS an address belongs to (public)."""
    return {
        "type": "autonomous-system",
        "spec_version": "2.1",
        "id": as_ref,
        "number": number,
        "object_marking_refs": [CLEAR_MARKING],
    }
