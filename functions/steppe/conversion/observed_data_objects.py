"""The observed-data over a submission part's SCOs."""

from __future__ import annotations

from typing import Any

from steppe.conversion.object_ids import object_id
from steppe.observables.model import Report


def observation_window(
    first_observed: int | None, last_observed: int | None, report: Report, now: int
) -> tuple[int, int]:
    """first_observed / last_observed of a part: its observables' times, else the report's."""
    window_first, window_last = report.window()
    if first_observed is None:
        first_observed = window_first if window_first is not None else now
    if last_observed is None:
        last_observed = window_last if window_last is not None else first_observed
    return first_observed, max(last_observed, first_observed)


def observed_data(
    scope: str,
    submission_id: str,
    part: int,
    producer_id: str,
    stamp: str,
    marking: str,
    first_observed: str,
    last_observed: str,
    number_observed: int,
    sco_refs: list[str],
) -> dict[str, Any]:
    return {
        "type": "observed-data",
        "spec_version": "2.1",
        "id": object_id("observed-data", scope, submission_id, str(part)),
        "created_by_ref": producer_id,
        "created": stamp,
        "modified": stamp,
        "first_observed": first_observed,
        "last_observed": last_observed,
        "number_observed": max(1, min(number_observed, 999_999_999)),
        "object_refs": list(sco_refs),
        "object_marking_refs": [marking],
    }
