"""What the STIX domain and relationship objects steppe builds have in common."""

from __future__ import annotations

from typing import Any

from steppe.stix import tlp as tlp_levels

# Public facts (the producer, ATT&CK techniques, countries, AS numbers) are
# TLP:CLEAR whatever the report's level, so partners of any clearance can
# resolve what the objects they receive refer to, and merging a RED report
# into a shared object never hides it from everyone else.
CLEAR_MARKING = tlp_levels.CLEAR.marking_id


def domain_object(
    stix_type: str, object_id: str, producer_id: str, stamp: str, marking: str, **props: Any
) -> dict[str, Any]:
    """An SDO or SRO with the properties given, leaving out those None or empty."""
    obj = {
        "type": stix_type,
        "spec_version": "2.1",
        "id": object_id,
        "created_by_ref": producer_id,
        "created": stamp,
        "modified": stamp,
    }
    obj.update((k, v) for k, v in props.items() if v is not None and v != [])
    obj["object_marking_refs"] = [marking]
    return obj
