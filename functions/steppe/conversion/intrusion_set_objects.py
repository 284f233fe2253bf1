"""The intrusion set a report attributes the attack to."""

from __future__ import annotations

from typing import Any

from steppe.conversion.object_envelope import domain_object
from steppe.conversion.object_ids import name_key, object_id
from steppe.observables.model import Attribution


def intrusion_set(
    attribution: Attribution, producer_id: str, scope: str, stamp: str, marking: str
) -> dict[str, Any]:
    return domain_object(
        "intrusion-set",
        object_id("intrusion-set", producer_id, scope, name_key(attribution.name)),
        producer_id,
        stamp,
        marking,
        name=attribution.name,
        description=attribution.description,
        confidence=attribution.confidence,
    )
