"""The worker (WorkerFunction): one SQS message, one bounded job; and the recovery sweep.

Invoked by the schedule of template.yaml with {"task": "recover"}, it runs
steppe.jobs.crash_recovery's sweep instead (submissions and envelopes left without jobs),
and queues one push job per push destination (what decay or a missed job left undelivered).

A message names its task (steppe.jobs.tasks), and TASKS says what runs it:
a chunk of an analyst submission or a part of an envelope posted over TAXII
(both through the one job runner, steppe.jobs.runner), a correlation of a
stored chunk or envelope against the index, or the revocation of what a
chunk published. A job that fails is retried by the queue; on its last
attempt the failure is also recorded (on the submission, whose status then
says "failed" instead of staying pending, and whose raw body is archived for
`steppe reprocess`; or as a failure of each object of the TAXII part, so that
its status completes).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
from steppe.jobs import crash_recovery
from steppe.jobs.retry_backoff import retry_delay
from steppe.jobs.tasks import (
    CORRELATE,
    DECAY,
    PROCESS_CHUNK,
    PUSH,
    RECOVER,
    RENDER_FEEDS,
    REVOKE_CHUNK,
    TAXII_ADD,
)
from steppe.stix.timestamps import now_micros

logger = Logger()
# Matches maxReceiveCount of the queue's redrive policy in template.yaml.
MAX_RECEIVES = 5

# A task's function: the message, and whether this is its last attempt.
Task = Callable[[dict[str, Any], bool], None]

ingest = per_services(runtime.ingest_service)
envelopes = per_services(runtime.envelope_adding)
runners = per_services(runtime.job_runner)
recoveries = per_services(runtime.job_recovery)
correlators = per_services(runtime.correlator)
lifecycle = per_services(runtime.lifecycle_service)
decay_jobs = per_services(runtime.decay_job)
feed_services = per_services(runtime.feed_service)
deliveries = per_services(runtime.push_delivery)


def _last_attempt(record: SQSRecord) -> bool:
    return int(record.attributes.approximate_receive_count or "1") >= MAX_RECEIVES


def run_submission_chunk(message: dict[str, Any], last_attempt: bool) -> None:
    result = runners().run_job(ingest(), message, last_attempt)
    if result is not None:
        logger.info(
            "chunk processed",
            extra={
                "submission": message["submission_id"],
                "chunk": result.chunk,
                "counts": result.counts,
            },
        )


def run_taxii_part(message: dict[str, Any], last_attempt: bool) -> None:
    outcome = runners().run_job(envelopes(), message, last_attempt)
    if outcome is not None:
        logger.info(
            "TAXII part processed",
            extra={
                "status": message["status_id"],
                "part": outcome.part,
                "successes": len(outcome.successes),
                "failures": len(outcome.failures),
            },
        )


def run_correlation(message: dict[str, Any], _: bool) -> None:
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


def run_revocation(message: dict[str, Any], _: bool) -> None:
    counts = lifecycle().revoke_chunk(
        str(message["submission_id"]),
        int(message["chunk"]),
        str(message["reason"]),
        str(message["analyst"]),
    )
    logger.info("chunk revoked", extra={"task_message": message, "revoked": len(counts.revoked)})


def run_push(message: dict[str, Any], _: bool) -> None:
    """A refused batch raises DeliveryFailed: retried by the queue, then dead-lettered."""
    delivered = deliveries().deliver_pending(str(message["destination_id"]))
    logger.info(
        "pushed",
        extra={
            "destination": message["destination_id"],
            "objects": delivered.objects,
            "batches": delivered.batches,
            "requeued": delivered.requeued,
        },
    )


def _queue_pushes() -> int:
    return deliveries().queue_all()


def run_decay(message: dict[str, Any], _: bool) -> None:
    """One decay run; a large index continues in a queued message of its own."""
    after = message.get("after")
    start = (str(after[0]), str(after[1])) if isinstance(after, list) and len(after) == 2 else None
    outcome = decay_jobs().run(after=start)
    if outcome.after is not None:
        runtime.services().queue.send([{"task": DECAY, "after": list(outcome.after)}])
    if outcome.expired_versions:
        _queue_pushes()  # the expired versions, to the push destinations
    logger.info(
        "decayed",
        extra={
            "expired_versions": outcome.expired_versions,
            "retired": outcome.retired,
            "rescored": outcome.rescored,
            "examined": outcome.examined,
            "purged": outcome.purged,
            "continues": outcome.after is not None,
            "errors": outcome.errors[:20],
        },
    )


def run_render_feeds(_: dict[str, Any], __: bool) -> None:
    rendered = feed_services().render_stale()
    if rendered:
        logger.info("feeds rendered", extra={"feeds": rendered})


# The one table of the queued tasks: task name -> what runs it.
TASKS: Mapping[str, Task] = {
    PROCESS_CHUNK: run_submission_chunk,
    TAXII_ADD: run_taxii_part,
    CORRELATE: run_correlation,
    REVOKE_CHUNK: run_revocation,
    DECAY: run_decay,
    RENDER_FEEDS: run_render_feeds,
    PUSH: run_push,
}


def handle_record(record: SQSRecord) -> None:
    try:
        message = orjson.loads(record.body)
        task = message.get("task")
        run = TASKS.get(task) if isinstance(task, str) else None
        if run is None:
            raise ValueError(f"unknown task '{task}'")
        run(message, _last_attempt(record))
    except Exception:
        _retry_later(record)
        raise


def _retry_later(record: SQSRecord) -> None:
    """The failed message's next attempt after the back-off, not the whole visibility timeout."""
    attempts = int(record.attributes.approximate_receive_count or "1")
    try:
        runtime.services().queue.retry_later(record.receipt_handle, retry_delay(attempts))
    except Exception:  # the queue's own visibility timeout still brings it back
        logger.exception("could not shorten a failed message's visibility")


def sweep() -> dict[str, Any]:
    """The scheduled sweep: finish what an API call that died left without jobs."""
    recovered = recoveries().recover(
        recorded_before=now_micros() - crash_recovery.SWEEP_GRACE_MICROS
    )
    return {
        "submissions": recovered.submissions,
        "statuses": recovered.statuses,
        "jobs": recovered.jobs,
        "push_jobs": _queue_pushes(),
    }


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("task") == RECOVER:  # from the schedule in template.yaml
        return sweep()
    if event.get("task") in (DECAY, RENDER_FEEDS):  # from the schedules in template.yaml
        TASKS[event["task"]](event, True)
        return {"task": event["task"]}
    return process_partial_response(
        event=event,
        record_handler=handle_record,
        # One per invocation: a processor keeps the batch's records and failures
        # in its own state, and the embedded server runs two workers at once.
        processor=BatchProcessor(event_type=EventType.SQS),
        context=context,
    )
