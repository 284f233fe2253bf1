"""Identities: the producer's own, and the targets an attack was aimed at."""

from __future__ import annotations

from typing import Any

from steppe.conversion.object_envelope import CLEAR_MARKING, domain_object
from steppe.conversion.object_ids import name_key, object_id
from steppe.observables.model import Target


def producer_identity(producer_id: str, name: str, stamp: str) -> dict[str, Any]:
    """The identity every object steppe builds names as its creator (public)."""
    return domain_object(
        "identity",
        producer_id,
        producer_id,
        stamp,
        CLEAR_MARKING,
        name=name,
        identity_class="organization",
    )


def target_identity(
    target: Target, producer_id: str, scope: str, stamp: str, marking: str
) -> dict[str, Any]:
    """A target of the attack, one per name within the id scope."""
    return domain_object(
        "identity",
        object_id("identity", producer_id, "target", scope, name_key(target.name)),
        producer_id,
        stamp,
        marking,
        name=target.name,
        description=target.description,
        identity_class=target.kind,
        sectors=list(target.sectors),
    )
