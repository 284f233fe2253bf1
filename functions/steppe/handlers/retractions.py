"""The indicator lifecycle in the analyst API: revocation and false-positive values.

    POST   /api/v1/indicators/{indicator_id}/revoke     {"reason": ...}
    POST   /api/v1/submissions/{submission_id}/revoke   {"reason": ...}
    GET    /api/v1/false-positives                      ?limit=
    POST   /api/v1/false-positives                      {"value": ..., "reason": ...}
    DELETE /api/v1/false-positives?value=...

Analysts and admins only (partners get 403); the rules live in
steppe.lifecycle.retraction, whose results are shaped into answers here.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from steppe.access.caller import Caller
from steppe.handlers.common import (
    caller_of,
    json_fields,
    json_response,
    limit_param,
    per_services,
    query_params,
)
from steppe.lifecycle.retraction import (
    MAX_LISTED,
    FalsePositiveMarking,
    IndicatorRevocation,
    RevokeCounts,
    SubmissionRevocation,
)
from steppe.observables.correlation_keys import display
from steppe.runtime import lifecycle_service
from steppe.stix.timestamps import format_taxii
from steppe.store.port import FalsePositive

router = APIGatewayRouter()

lifecycle = per_services(lifecycle_service)


def describe_counts(counts: RevokeCounts) -> dict[str, int]:
    return {
        "revoked": len(counts.revoked),
        "already_revoked": len(counts.already_revoked),
        "not_found": len(counts.missing),
    }


def describe_indicator_revocation(done: IndicatorRevocation) -> dict[str, object]:
    collections = []
    for outcome in done.collections:
        entry = {"id": outcome.id, "title": outcome.title, "outcome": outcome.outcome}
        if outcome.modified is not None:
            entry["modified"] = outcome.modified
        collections.append(entry)
    return {
        "indicator": done.indicator_id,
        "revoked": done.revoked,
        "message": done.message,
        "reason": done.reason,
        "note": done.note_id,
        "collections": collections,
    }


def describe_submission_revocation(done: SubmissionRevocation) -> dict[str, object]:
    body: dict[str, object] = {
        "submission_id": done.submission_id,
        "collection": done.collection_id,
        "reason": done.reason,
    }
    if done.queued:
        return body | {"status": "queued", "chunks": done.chunks, "message": done.message}
    return body | {"status": "revoked", "counts": describe_counts(done.counts)}


def describe_false_positive(entry: FalsePositive) -> dict[str, object]:
    return {
        "value": display(entry.key),
        "key": entry.key,
        "reason": entry.reason,
        "analyst": entry.analyst,
        "created": format_taxii(entry.created),
    }


def describe_marking(done: FalsePositiveMarking) -> dict[str, object]:
    return {
        "value": done.value,
        "false_positives": [describe_false_positive(entry) for entry in done.entries],
        "indicators": describe_counts(done.counts),
    }


def _staff() -> Caller:
    caller = caller_of(router.current_event.raw_event)
    caller.require_role("admin", "analyst")
    return caller


@router.post(
    "/api/v1/indicators/<indicator_id>/revoke",
    summary="Revoke an indicator",
    description='Body: {"reason": "..."}. In every collection you may write that holds it, '
    "the indicator gets a revoked version and a note with the reason. Revoking it again "
    "changes nothing.",
    tags=["Lifecycle"],
)
def revoke_indicator(indicator_id: str) -> Response[dict]:
    caller = _staff()
    document = json_fields(router.current_event.raw_event, frozenset({"reason"}))
    done = lifecycle().revoke_indicator(indicator_id, document.get("reason"), caller)
    return json_response(200, describe_indicator_revocation(done))


@router.post(
    "/api/v1/submissions/<submission_id>/revoke",
    summary="Revoke every indicator of a submission",
    description='Body: {"reason": "..."}. 200 with the counts when done at once; 202 when '
    "a large submission is revoked by the worker, chunk by chunk. 409 while the submission "
    "is still being processed.",
    tags=["Lifecycle"],
)
def revoke_submission(submission_id: str) -> Response[dict]:
    caller = _staff()
    document = json_fields(router.current_event.raw_event, frozenset({"reason"}))
    done = lifecycle().revoke_submission(submission_id, document.get("reason"), caller)
    return json_response(202 if done.queued else 200, describe_submission_revocation(done))


@router.get(
    "/api/v1/false-positives",
    summary="List false-positive values",
    description="Query parameter limit (1..1000).",
    tags=["Lifecycle"],
)
def list_false_positives() -> Response[dict]:
    caller = _staff()
    params = query_params(router.current_event.raw_event)
    limit = limit_param(params, MAX_LISTED, MAX_LISTED)
    entries = lifecycle().list_false_positives(caller, limit)
    return json_response(200, {"false_positives": [describe_false_positive(e) for e in entries]})


@router.post(
    "/api/v1/false-positives",
    summary="Declare a value a false positive",
    description='Body: {"value": "198.51.100.7", "reason": "..."}. Revokes the indicators '
    "known to carry the value; later submissions leave it out unless they say "
    "override_false_positives. 201 when new, 200 when it replaces an entry.",
    tags=["Lifecycle"],
)
def add_false_positive() -> Response[dict]:
    caller = _staff()
    document = json_fields(router.current_event.raw_event, frozenset({"value", "reason"}))
    done = lifecycle().mark_false_positive(document.get("value"), document.get("reason"), caller)
    return json_response(200 if done.replaced else 201, describe_marking(done))


@router.delete(
    "/api/v1/false-positives",
    summary="Let a false-positive value be published again",
    description="Query parameter value: the value, as it was declared.",
    tags=["Lifecycle"],
)
def remove_false_positive() -> Response[dict]:
    caller = _staff()
    value = query_params(router.current_event.raw_event).get("value")
    removed = lifecycle().remove_false_positive(value, caller)
    return json_response(200, {"value": value, "removed": [display(key) for key in removed]})
