"""The local worker: Lambda's SQS event source, over the durable SQLite job queue.

A thread claims up to BatchSize jobs, hands them to the SQS-triggered
function of template.yaml as the SQS event Lambda would send, and settles
each one with ReportBatchItemFailures semantics: records the function lists
in batchItemFailures are failed (retried with a backoff, dead-lettered by the
queue after its last attempt), the others acknowledged; an exception or an
unreadable response fails the whole batch.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from steppe.jobs import crash_recovery
from steppe.jobs.retry_backoff import RETRY_BASE_SECONDS, RETRY_MAX_SECONDS, retry_delay
from steppe.local.account import ACCOUNT_ID, region
from steppe.local.invoke import invoke
from steppe.local.routes import RouteTable, SqsTrigger
from steppe.runtime import Services, job_recovery
from steppe.stix.timestamps import now_micros

logger = logging.getLogger(__name__)

_SENDER_ID = "AROALOCALSTEPPEWORKER:steppe"  # what SenderId shows for a role-sent message


class ClaimedJob(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def body(self) -> str: ...
    @property
    def attempts(self) -> int: ...  # receives so far, this one included
    @property
    def created(self) -> int: ...  # epoch microseconds


class ConsumableQueue(Protocol):
    """The part of the embedded job queue (store/sqlite/jobs.py) the worker uses."""

    wakeup: threading.Event

    def claim(self, limit: int = 1, visibility_timeout: float = 900.0) -> Sequence[ClaimedJob]: ...
    def ack(self, job_id: str) -> None: ...
    def fail(self, job_id: str, error: str, retry_in: float = 5.0) -> bool: ...
    def release_claimed(self) -> int: ...
    def live_bodies(self) -> list[str]: ...
    def pending(self) -> int: ...


def recover_on_start(services: Services, queue: ConsumableQueue) -> crash_recovery.Recovered:
    """Before serving: finish what the previous process left recorded but never queued.

    Nothing of this process is running yet, so every open record is taken,
    however young, and idempotency records still in progress are released;
    jobs already in the queue (claimed ones included: they are released next)
    are not queued again.
    """
    release = getattr(services.idempotency, "release_in_progress", None)
    if release is not None:  # the embedded layer: no request of this file is running now
        release()
    recoverer = job_recovery(services)
    queued = recoverer.queued_jobs(crash_recovery.job_messages(queue.live_bodies()))
    return recoverer.recover(recorded_before=now_micros() + 1, queued=queued)


class BatchResponseError(ValueError):
    """The function's response cannot be read as an SQS batch response."""


def sqs_record(job: ClaimedJob, trigger: SqsTrigger, first_received_ms: int) -> dict[str, Any]:
    """One record of the SQS event Lambda's event source mapping sends."""
    aws_region = region()
    receipt = base64.b64encode(f"{job.id}:{job.attempts}".encode()).decode("ascii")
    return {
        "messageId": job.id,
        "receiptHandle": receipt,
        "body": job.body,
        "attributes": {
            "ApproximateReceiveCount": str(job.attempts),
            "SentTimestamp": str(job.created // 1000),
            "SenderId": _SENDER_ID,
            "ApproximateFirstReceiveTimestamp": str(first_received_ms),
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(job.body.encode("utf-8"), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{aws_region}:{ACCOUNT_ID}:{trigger.queue}",
        "awsRegion": aws_region,
    }


def failed_message_ids(response: Any, message_ids: set[str], report_failures: bool) -> set[str]:
    """The records to retry, read from the function's response as Lambda reads it.

    Without ReportBatchItemFailures any return value means success. With it,
    None, {} and an empty or null batchItemFailures mean success; anything
    that is not a list of {"itemIdentifier": <a message id of the batch>} is
    a BatchResponseError (Lambda then retries the whole batch).
    """
    if not report_failures or response is None:
        return set()
    if not isinstance(response, dict):
        raise BatchResponseError(f"the response is a {type(response).__name__}, not an object")
    items = response.get("batchItemFailures")
    if items is None:
        return set()
    if not isinstance(items, list):
        raise BatchResponseError("batchItemFailures is not a list")
    failed = set()
    for item in items:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in message_ids:
            raise BatchResponseError(f"batchItemFailures names no message of the batch: {item!r}")
        failed.add(identifier)
    return failed


def drain(queue: ConsumableQueue, timeout: float, poll: float = 0.02) -> bool:
    """Wait until the queue has no pending jobs; False if `timeout` seconds pass first."""
    deadline = time.monotonic() + timeout
    while queue.pending() > 0:
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll)
    return True


class LocalWorker:
    """A thread feeding the job queue to the template's SQS-triggered function."""

    def __init__(
        self,
        queue: ConsumableQueue,
        routes: RouteTable,
        *,
        idle_wait: float = 1.0,
        retry_base: float = RETRY_BASE_SECONDS,
        retry_max: float = RETRY_MAX_SECONDS,
    ) -> None:
        self.queue = queue
        self.trigger = routes.sqs_trigger()
        self.idle_wait = idle_wait
        self.retry_base = retry_base
        self.retry_max = retry_max
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._first_received: dict[str, int] = {}

    def start(self, release_claimed: bool = True) -> None:
        """Put back jobs a previous process claimed but never settled, then start consuming.

        With several workers on one queue, only the first may release claims:
        a later one would hand back the jobs its siblings just claimed.
        """
        if self._thread is not None:
            raise RuntimeError("the worker is already running")
        released = self.queue.release_claimed() if release_claimed else 0
        if released:
            logger.info(
                "local worker: %d unfinished job(s) from a previous run are queued again", released
            )
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="steppe-local-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop after the batch being handled (if any) is settled."""
        thread = self._thread
        if thread is None:
            return
        self._stopping.set()
        self.queue.wakeup.set()
        thread.join(timeout)
        self._thread = None

    def drain(self, timeout: float) -> bool:
        return drain(self.queue, timeout)

    def retry_delay(self, attempts: int) -> float:
        return retry_delay(attempts, self.retry_base, self.retry_max)

    def _run(self) -> None:
        self.consume_until(self._stopping.is_set)

    def consume_until(self, stopped: Callable[[], bool]) -> None:
        """Claim and settle batches until stopped() is true; idle, wait for a send (or
        idle_wait); a failing queue is tried again after idle_wait."""
        while not stopped():
            try:
                handled = self.run_once()
            except Exception:
                logger.exception("local worker: the job queue failed; trying again shortly")
                handled = 0
            if not handled:
                self.queue.wakeup.wait(self.idle_wait)

    def run_once(self) -> int:
        """Claim one batch and settle it; returns how many jobs it held."""
        self.queue.wakeup.clear()  # before claiming, so a send() from now on wakes us
        jobs = self.queue.claim(
            limit=self.trigger.batch_size, visibility_timeout=self.trigger.visibility_timeout
        )
        if not jobs:
            return 0
        now_ms = time.time_ns() // 1_000_000
        records = [
            sqs_record(job, self.trigger, self._first_received.setdefault(job.id, now_ms))
            for job in jobs
        ]
        ids = {job.id for job in jobs}
        function = self.trigger.function
        try:
            response = invoke(function, {"Records": records})
            failed = failed_message_ids(response, ids, self.trigger.report_batch_item_failures)
            error = f"{function.logical_id} reported the message in batchItemFailures"
        except BatchResponseError as problem:
            logger.error(
                "local worker: %s: %s; the batch will be retried", function.handler, problem
            )
            failed, error = ids, f"unreadable batch response: {problem}"
        except Exception as problem:
            logger.exception("local worker: %s failed; the batch will be retried", function.handler)
            failed, error = ids, f"{type(problem).__name__}: {problem}"
        for job in jobs:
            if job.id not in failed:
                self.queue.ack(job.id)
                self._first_received.pop(job.id, None)
            elif self.queue.fail(job.id, error, retry_in=self.retry_delay(job.attempts)):
                logger.warning(
                    "local worker: job %s dead-lettered after %d attempts: %s",
                    job.id,
                    job.attempts,
                    error,
                )
                self._first_received.pop(job.id, None)
        return len(jobs)
