"""The analyst API (ApiFunction): submit observations, follow submissions, fetch bundles.

A thin shell: parse the request, call the ingest service, shape the response.
Retried submissions are answered from Powertools idempotency records (the
Idempotency-Key header, or the body itself when there is none).
"""

from __future__ import annotations

import hashlib
import os
import warnings
from contextvars import ContextVar
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from steppe.errors import Conflict, InvalidInput, SteppeError
from steppe.handlers import admin, console, feed_files, intel, sighting_reports
from steppe.handlers import retractions as lifecycle
from steppe.handlers.common import (
    RestResolver,
    caller_of,
    error_response,
    integer_param,
    json_response,
    limit_param,
    per_services,
    query_params,
)
from steppe.handlers.http import bounded_body, header, internal_error_result, raw_body
from steppe.handlers.openapi import openapi_document
from steppe.ingest.progress import SubmissionProgress
from steppe.ingest.submission_intake import Accepted
from steppe.jobs import crash_recovery
from steppe.runtime import Services, ingest_service, services
from steppe.stix.timestamps import format_stix

logger = Logger()
# The template sets the namespace on Lambda; the embedded server has none, and a
# metric set that reaches 100 values is serialised, which needs one.
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "steppe")
# Requests that add no metric (reads, refusals) are normal, not worth a warning.
warnings.filterwarnings("ignore", "No application metrics to publish")
app = RestResolver()
app.include_router(admin.router)
app.include_router(intel.router)
app.include_router(feed_files.router)
app.include_router(lifecycle.router)
app.include_router(sighting_reports.router)
app.include_router(console.router)

ingest = per_services(ingest_service)
SUBMISSIONS = "/api/v1/submissions"


def status_code(accepted: Accepted) -> int:
    """201: complete before the answer; 202: its chunks are queued."""
    return 202 if accepted.queued else 201


def submission_resource(progress: SubmissionProgress) -> dict[str, Any]:
    """The submission resource."""
    submission = progress.submission
    counts = progress.counts
    self_url = f"{SUBMISSIONS}/{submission.id}"
    revoked = progress.revoked
    return {
        "id": submission.id,
        "status": progress.status,
        "created": format_stix(submission.created),
        "submitted_by": submission.submitter,
        "collection": {"id": submission.collection_id, "title": progress.collection_title},
        "kind": progress.kind,
        "tlp": progress.tlp,
        "observables": submission.observables,
        "chunks": {
            "total": submission.chunks_total,
            "done": progress.chunks_done,
            "failed": len(progress.failures),
        },
        "counts": {
            "objects": progress.objects,
            "created": counts.get("created", 0),
            "updated": counts.get("updated", 0),
            "unchanged": counts.get("unchanged", 0),
            # indicators of values analysts declared false positives, left out
            "false_positive_skipped": counts.get("false_positive_skipped", 0),
            "by_type": progress.by_type,
        },
        # None when there are too many to list: the bundle parts have them all.
        "objects": progress.listed,
        "errors": [{"chunk": f.chunk, "message": f.message} for f in progress.failures],
        "revoked": None
        if revoked is None
        else {
            "reason": revoked.reason,
            "analyst": revoked.analyst,
            "at": None if revoked.at is None else format_stix(revoked.at),
        },
        "links": {
            "self": self_url,
            "bundle": f"{self_url}/bundle",
            "reprocess": f"{self_url}/reprocess",
        },
    }


class _PerRequestConfig(IdempotencyConfig):
    """IdempotencyConfig whose Lambda context is the current request's.

    Powertools reads the remaining time of the registered context to set an
    in-progress record's expiry; one config serves every request of the
    process, and the embedded server resolves several at once.
    """

    def __init__(self, **options: Any) -> None:
        self._context: ContextVar[LambdaContext | None] = ContextVar(
            "steppe_idempotency_context", default=None
        )
        super().__init__(**options)

    @property  # type: ignore[override]
    def lambda_context(self) -> LambdaContext | None:
        return self._context.get()

    @lambda_context.setter
    def lambda_context(self, value: LambdaContext | None) -> None:
        self._context.set(value)


def _make_idempotent_submit(current: Services) -> tuple[Any, IdempotencyConfig]:
    # A record left in progress by a crash expires with the request's time; a
    # retry then runs submit again, which finds the submission the key is
    # bound to (steppe.jobs.crash_recovery.bind_submission) instead of creating another.
    config = _PerRequestConfig(
        event_key_jmespath="key",
        payload_validation_jmespath="digest",
        expires_after_seconds=crash_recovery.KEY_SECONDS,
        raise_on_no_idempotency_key=True,
    )

    @idempotent_function(
        data_keyword_argument="request",
        config=config,
        persistence_store=current.idempotency,
    )
    def submit(request: dict[str, str]) -> dict[str, Any]:
        event = app.current_event.raw_event
        accepted = ingest().submit(
            body=raw_body(event),
            content_type=header(event, "content-type"),
            params=query_params(app.current_event.raw_event),
            caller=caller_of(event),
            idempotency=(request["key"], request["digest"]),
        )
        # The idempotency record keeps this dict: its fields stay as they are.
        return {"submission_id": accepted.submission_id, "status_code": status_code(accepted)}

    return submit, config


_idempotent_submit = per_services(_make_idempotent_submit)


def request_digest(content_type: str, params: dict[str, str], body: bytes) -> str:
    """What a submission request is, hashed: a retry must send the same."""
    return hashlib.sha256(
        content_type.encode() + b"\0" + repr(sorted(params.items())).encode() + b"\0" + body
    ).hexdigest()


def idempotency_key(partner_id: str, supplied: str | None, digest: str) -> str:
    """The caller's Idempotency-Key, else the request itself, per caller (its stable id)."""
    return f"{partner_id}:key:{supplied}" if supplied else f"{partner_id}:body:{digest}"


@app.post("/api/v1/observations")
def submit_observations() -> Response[dict]:
    event = app.current_event.raw_event
    caller = caller_of(event)
    caller.require_role("admin", "analyst")
    body = bounded_body(event, services().settings.max_body_bytes)
    content_type = header(event, "content-type") or ""
    params = query_params(app.current_event.raw_event)
    digest = request_digest(content_type, params, body)
    supplied_key = header(event, "idempotency-key")
    # Scoped by the stable partner id: a name deleted and created again is a new
    # id, and cannot replay (or read) the old holder's submissions.
    key = idempotency_key(caller.partner_id or "", supplied_key, digest)
    submit, config = _idempotent_submit()
    config.register_lambda_context(app.lambda_context)
    try:
        outcome = submit(request={"key": key, "digest": digest})
    except IdempotencyAlreadyInProgressError:
        raise Conflict(
            "the same submission is still being accepted; retry in a few seconds",
            where="header Idempotency-Key" if supplied_key else "body",
        ) from None
    except IdempotencyValidationError:
        raise InvalidInput(
            "this Idempotency-Key was already used for a different body",
            where="header Idempotency-Key",
        ) from None
    service = ingest()
    submission = service.visible_submission(outcome["submission_id"], caller)
    resource = submission_resource(service.describe(submission))
    metrics.add_metric("Submissions", MetricUnit.Count, 1)
    metrics.add_metric("Observables", MetricUnit.Count, submission.observables)
    return json_response(
        outcome["status_code"], resource, {"Location": str(resource["links"]["self"])}
    )


@app.get("/api/v1/submissions")
def list_submissions() -> Response[dict]:
    caller = caller_of(app.current_event.raw_event)
    caller.require_authenticated()
    params = query_params(app.current_event.raw_event)
    limit = limit_param(params, 50, 500)
    service = ingest()
    visible = service.visible_submissions(caller, limit)
    return json_response(
        200, {"submissions": [submission_resource(service.describe(s)) for s in visible]}
    )


@app.get("/api/v1/submissions/<submission_id>")
def get_submission(submission_id: str) -> Response[dict]:
    service = ingest()
    submission = service.visible_submission(submission_id, caller_of(app.current_event.raw_event))
    return json_response(200, submission_resource(service.describe(submission)))


@app.get("/api/v1/submissions/<submission_id>/bundle")
def get_bundle(submission_id: str) -> Response[dict]:
    service = ingest()
    submission = service.visible_submission(submission_id, caller_of(app.current_event.raw_event))
    # The range (1..the submission's parts) is the service's to check.
    part = integer_param(query_params(app.current_event.raw_event), "part", 1, -(10**9), 10**9)
    data = service.bundle_part(submission, part)
    headers = {"X-Steppe-Part": str(part), "X-Steppe-Parts": str(submission.chunks_total)}
    if part < submission.chunks_total:
        headers["Link"] = f'<{SUBMISSIONS}/{submission_id}/bundle?part={part + 1}>; rel="next"'
    return Response(
        status_code=200,
        content_type="application/stix+json;version=2.1",
        body=data.decode("utf-8"),
        headers=headers,
    )


@app.post("/api/v1/submissions/<submission_id>/reprocess")
def reprocess(submission_id: str) -> Response[dict]:
    caller = caller_of(app.current_event.raw_event)
    caller.require_role("admin", "analyst")
    service = ingest()
    service.visible_submission(submission_id, caller)  # its submitter or an admin
    accepted = service.reprocess(submission_id)
    progress = service.describe(service.visible_submission(submission_id, caller))
    return json_response(status_code(accepted), submission_resource(progress))


@app.get("/api/v1/openapi.json")
def openapi() -> Response[dict]:
    return json_response(200, openapi_document(app))


@app.exception_handler(SteppeError)
def handle_steppe_error(error: SteppeError) -> Response[dict]:
    if error.status >= 500:
        logger.exception("request failed")
    return error_response(error)


@app.not_found
def handle_not_found(_: NotFoundError) -> Response[dict]:
    event = app.current_event
    if console.is_console_path(event.path):
        return console.not_found(event.path)
    return error_response(_NoRoute(event.http_method, event.path))


class _NoRoute(SteppeError):
    status = 404
    title = "Not found"

    def __init__(self, method: str, path: str) -> None:
        super().__init__(f"there is no {method} {path} in the analyst API", where="path")


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        return app.resolve(event, context)
    except Exception:  # the last line of defence: a JSON 500, never a stack trace
        logger.exception("unhandled error")
        return internal_error_result("application/json")
    finally:
        if _metrics_disabled():
            # Powertools flushes (and so clears) only enabled metrics: a long-running
            # embedded server would otherwise keep every value it ever added.
            metrics.clear_metrics()


def _metrics_disabled() -> bool:
    return os.environ.get("POWERTOOLS_METRICS_DISABLED", "").strip().lower() in {"1", "true"}
