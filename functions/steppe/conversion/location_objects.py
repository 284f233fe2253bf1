"""Countries as location objects (public: anyone may derive their ids)."""

from __future__ import annotations

from typing import Any

from steppe.conversion.object_envelope import CLEAR_MARKING
from steppe.conversion.object_ids import object_id
from steppe.stix.countries import COUNTRY_NAMES


def country_location_id(producer_id: str, country: str) -> str:
    return object_id("location", producer_id, "country", country)


def country_location(
    location_id: str, producer_id: str, stamp: str, country: str
) -> dict[str, Any]:
    return {
        "type": "location",
        "spec_version": "2.1",
        "id": location_id,
        "created_by_ref": producer_id,
        "created": stamp,
        "modified": stamp,
        "name": COUNTRY_NAMES[country],
        "country": country,
        "object_marking_refs": [CLEAR_MARKING],
    }
