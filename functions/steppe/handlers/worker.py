"""The worker (WorkerFunction): one SQS message, one bounded job; and the recovery sweep.

Invoked by the schedule of template.yaml with {"task": "recover"}, it runs
steppe.jobs.recovery's sweep instead (submissions and envelopes left without jobs).

Messages are {"task": "process_chunk", "submission_id": ..., "chunk": n} (a chunk
of an analyst submission) or {"task": "taxii_add", "status_id": ..., "part": n}
(a part of an envelope posted over TAXII), or {"task": "correlate", ...}
(steppe.jobs.tasks: a stored chunk or envelope against the index), or
{"task": "revoke_chunk", ...} (steppe.lifecycle: revoke what a chunk published).
A job that fails is retried by the queue; on its last attempt the failure is
also recorded (on the submission, whose status then says "failed" instead of
staying pending, and whose raw body is archived for `steppe reprocess`; or as
a failure of each object of the TAXII part, so that its status completes).
"""

from __future__ import annotations

from typing import Any

import orjson
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from steppe import runtime
from steppe.handlers.common import per_services
from steppe.ingest.submissions import IngestService
from steppe.jobs import recovery
from steppe.jobs.tasks import TASK as CORRELATE_TASK
from steppe.lifecycle.retraction import REVOKE_TASK, LifecycleService
from steppe.runtime import services
from steppe.stix.timestamps import now_micros
from steppe.taxii.adding import TASK as TAXII_TASK
from steppe.taxii.adding import process_part, record_part_failure

logger = Logger()
# Matches maxReceiveCount of the queue's redrive policy in template.yaml.
MAX_RECEIVES = 5


ingest = per_services(IngestService)
taxii = per_services(runtime.taxii_service)
correlators = per_services(runtime.correlator)
lifecycle = per_services(LifecycleService)


def _last_attempt(record: SQSRecord) -> bool:
    return int(record.attributes.approximate_receive_count or "1") >= MAX_RECEIVES


def handle_record(record: SQSRecord) -> None:
    message = orjson.loads(record.body)
    task = message.get("task")
    if task == CORRELATE_TASK:
        handle_correlation(message)
        return
    if task == REVOKE_TASK:
        counts = lifecycle().revoke_chunk(
            str(message["submission_id"]),
            int(message["chunk"]),
            str(message["reason"]),
            str(message["analyst"]),
        )
        logger.info(
            "chunk revoked",
            extra={"task_message": message, "revoked": len(counts.revoked)},
        )
        return
    if task == TAXII_TASK:
        handle_taxii_part(record, str(message["status_id"]), int(message["part"]))
        return
    if task != "process_chunk":
        raise ValueError(f"unknown task '{task}'")
    submission_id, chunk = str(message["submission_id"]), int(message["chunk"])
    try:
        result = ingest().process_chunk(submission_id, chunk)
    except Exception as error:
        if _last_attempt(record):
            logger.exception("chunk failed for good", extra={"submission": submission_id})
            ingest().record_failure(submission_id, chunk, f"{type(error).__name__}: {error}")
        raise
    logger.info(
        "chunk processed",
        extra={"submission": submission_id, "chunk": chunk, "counts": result.counts},
    )


def handle_correlation(message: dict[str, Any]) -> None:
    """Correlation failures are retried, then dead-lettered: nothing else depends on them."""
    correlator = correlators()
    if message.get("source") == "taxii":
        outcome = correlator.correlate_status(str(message["status_id"]))
    else:
        outcome = correlator.correlate_chunk(str(message["submission_id"]), int(message["chunk"]))
    logger.info(
        "correlated",
        extra={
            "task_message": message,
            "occurrences": outcome.occurrences,
            "matches": outcome.matches,
            "links": outcome.links,
            "sightings": outcome.sightings,
            "written": outcome.written,
        },
    )


def handle_taxii_part(record: SQSRecord, status_id: str, part: int) -> None:
    try:
        outcome = process_part(taxii(), status_id, part)
    except Exception as error:
        if _last_attempt(record):
            logger.exception("TAXII part failed for good", extra={"status": status_id})
            record_part_failure(taxii(), status_id, part, f"{type(error).__name__}: {error}")
        raise
    if outcome is not None:
        logger.info(
            "TAXII part processed",
            extra={
                "status": status_id,
                "part": part,
                "successes": len(outcome.successes),
                "failures": len(outcome.failures),
            },
        )


def sweep() -> dict[str, Any]:
    """The scheduled sweep: finish what an API call that died left without jobs."""
    recovered = recovery.recover(
        services(), recorded_before=now_micros() - recovery.SWEEP_GRACE_MICROS
    )
    return {
        "submissions": recovered.submissions,
        "statuses": recovered.statuses,
        "jobs": recovered.jobs,
    }


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("task") == recovery.SWEEP_TASK:  # from the schedule in template.yaml
        return sweep()
    return process_partial_response(
        event=event,
        record_handler=handle_record,
        # One per invocation: a processor keeps the batch's records and failures
        # in its own state, and the embedded server runs two workers at once.
        processor=BatchProcessor(event_type=EventType.SQS),
        context=context,
    )
