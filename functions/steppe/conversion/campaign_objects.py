"""The campaign a report names: what its indicators indicate."""

from __future__ import annotations

from typing import Any

from steppe.conversion.object_envelope import domain_object
from steppe.conversion.object_ids import name_key, object_id
from steppe.observables.model import Report


def campaign_id(producer_id: str, scope: str, name: str) -> str:
    return object_id("campaign", producer_id, scope, name_key(name))


def campaign(
    report: Report,
    producer_id: str,
    scope: str,
    stamp: str,
    marking: str,
    first_seen: str | None,
    last_seen: str | None,
) -> dict[str, Any]:
    """The report's campaign (report.campaign must be set), seen over first_seen..last_seen."""
    named = report.campaign
    assert named is not None
    return domain_object(
        "campaign",
        campaign_id(producer_id, scope, named.name),
        producer_id,
        stamp,
        marking,
        name=named.name,
        description=named.description or report.description,
        objective=named.objective,
        first_seen=first_seen,
        last_seen=last_seen,
        confidence=report.confidence,
    )
