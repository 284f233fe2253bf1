"""Finishing what a crash left half done, exactly once, in both shapes.

What can be left behind, and what finishes it:

* A submission or TAXII envelope recorded whose jobs were never queued (the
  process died between the two, or while processing a small submission
  inline). The record is written together with an open-work mark
  (Store.create_submission / create_status with dispatch_pending) that the
  writer clears once the jobs are queued. `JobRecovery.recover` takes the
  marks left behind, queues a job for each chunk or part that has neither a
  result nor a job, processes an inline submission from its archived body (each
  kind of batch says how, through steppe.jobs.runner.BatchKind), and clears them.
  The embedded server runs it on start; on AWS the worker runs it on a
  schedule (template.yaml), for marks older than SWEEP_GRACE_MICROS so that a
  request still in flight is left alone.
* A chunk whose objects were stored but whose result was not recorded. Its
  job comes back (a released claim, an SQS redelivery); the objects it wrote
  the first time now look "unchanged". `chunk_started` notes when a chunk's
  first attempt began and `settle_rerun` gives the objects that attempt wrote
  the outcome they had then, so the counts are those of a run without a crash.
* A retried POST whose first attempt died: `bind_submission` ties the
  idempotency key to one submission id before anything is written, so the
  retry finds (and answers with) that submission, whatever its state, instead
  of creating a second.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Protocol

import orjson

from steppe.errors import InvalidInput
from steppe.jobs.runner import BatchKind, JobRunner
from steppe.jobs.tasks import RECOVER
from steppe.stix.timestamps import now_micros
from steppe.store.port import (
    FIRST,
    BlobStore,
    ChunkResult,
    ObjectQuery,
    ObjectStore,
    RecoveryStore,
    Submission,
    SubmissionKey,
    SubmissionStore,
    WorkKind,
)

logger = logging.getLogger(__name__)

SWEEP_TASK = RECOVER
# Idempotency keys bind a submission for as long as Powertools keeps their record.
KEY_SECONDS = 24 * 3600
# The AWS sweep leaves alone what is younger: a request may still be queueing it
# (API Gateway gives up after 29 s; a Lambda runs for at most 15 minutes).
SWEEP_GRACE_MICROS = 16 * 60 * 1_000_000
# A taken mark comes back to a later sweep after this long if this one dies.
LEASE_MICROS = 15 * 60 * 1_000_000
_BATCH = 100

# (task, submission or status id, chunk or part) of a job already queued.
QueuedJob = tuple[str, str, int]


@dataclass(frozen=True, slots=True)
class Recovered:
    submissions: int = 0  # submissions given the jobs (or the inline run) they lacked
    statuses: int = 0  # TAXII envelopes given the jobs they lacked
    jobs: int = 0  # jobs queued


# -- idempotency across a crash ---------------------------------------------------


class KeyBindings(Protocol):
    """The ports bind_submission reads and writes (RecoveryStore and SubmissionStore)."""

    def bind_submission_key(self, binding: SubmissionKey, now: int) -> SubmissionKey: ...
    def get_submission(self, submission_id: str) -> Submission | None: ...


def bind_submission(
    store: KeyBindings, key: str, digest: str, proposed_id: str
) -> tuple[str, Submission | None]:
    """The submission id this key stands for, and the submission if it was already recorded.

    400 when the key is bound to a request with a different body.
    """
    now = now_micros()
    binding = store.bind_submission_key(
        SubmissionKey(key, proposed_id, digest, now + KEY_SECONDS * 1_000_000), now
    )
    if binding.digest != digest:
        raise InvalidInput(
            "this Idempotency-Key was already used for a different body",
            where="header Idempotency-Key",
        )
    return binding.submission_id, store.get_submission(binding.submission_id)


# -- a chunk run again after a crash ----------------------------------------------


def new_run() -> str:
    """An id for one processing of a submission (reprocessing starts another)."""
    return uuid.uuid4().hex


def started_key(submission_id: str, run: object, chunk: int) -> str:
    """The blob noting when a chunk's first attempt of a run began."""
    return f"submissions/{submission_id}/started/{run}/{chunk:05d}"


def chunk_started(
    blobs: BlobStore, submission_id: str, run: object, chunk: int
) -> tuple[int, bool]:
    """When this chunk's first attempt of this run began (µs), and whether this is a later one."""
    key = started_key(submission_id, run, chunk)
    noted = blobs.get(key)
    if noted is not None:
        return int(noted), True
    started = now_micros()
    blobs.put(key, str(started).encode("ascii"), "text/plain")
    return started, False


def chunk_recorded(blobs: BlobStore, submission_id: str, run: object, chunk: int) -> None:
    """The chunk's result is recorded: its start is no longer needed (a later run of
    the same chunk records nothing: the first result stands)."""
    blobs.delete(started_key(submission_id, run, chunk))


def settle_rerun(
    submissions: SubmissionStore,
    objects: ObjectStore,
    submission: Submission,
    result: ChunkResult,
    started: int,
) -> ChunkResult:
    """The chunk's result as its interrupted first attempt would have recorded it.

    An object this run finds "unchanged" whose stored version was added since
    `started`, and that no other recorded chunk of the submission created or
    updated, was written by the interrupted attempt: it was "created" then if
    its first version is that recent, else "updated".
    """
    unchanged = [object_id for object_id, outcome in result.objects if outcome == "unchanged"]
    if not unchanged:
        return result
    collection = submission.collection_id
    claimed = {
        object_id
        for other in submissions.chunk_results(submission.id)
        if other.chunk != result.chunk
        for object_id, outcome in other.objects
        if outcome in ("created", "updated")
    }
    candidates = [
        object_id
        for object_id, stored in _read(objects, collection, unchanged, first=False).items()
        if stored >= started and object_id not in claimed
    ]
    if not candidates:
        return result
    firsts = _read(objects, collection, candidates, first=True)
    settled = {
        object_id: "created" if firsts.get(object_id, started) >= started else "updated"
        for object_id in candidates
    }
    outcomes = tuple((oid, settled.get(oid, outcome)) for oid, outcome in result.objects)
    counts = Counter(result.counts)
    for outcome in settled.values():
        counts["unchanged"] -= 1
        counts[outcome] += 1
    return replace(result, objects=outcomes, counts={k: v for k, v in counts.items() if v})


def _read(store: ObjectStore, collection_id: str, ids: list[str], first: bool) -> dict[str, int]:
    """date_added of the latest (or the first) version of each id."""
    found: dict[str, int] = {}
    for start in range(0, len(ids), 900):
        batch = frozenset(ids[start : start + 900])
        after = None
        while True:
            query = ObjectQuery(ids=batch, after=after, limit=len(batch), with_body=False)
            if first:
                query = replace(query, versions=FIRST)
            page = store.list_objects(collection_id, query)
            found.update((record.id, record.date_added) for record in page.records)
            if not page.more:
                break
            after = page.last_position
    return found


# -- records whose jobs were never queued ------------------------------------------


class JobRecovery:
    """Finishes the batches left open, of every kind the table names (see the module's doc)."""

    def __init__(
        self, work: RecoveryStore, runner: JobRunner, kinds: Mapping[WorkKind, BatchKind[object]]
    ) -> None:
        self.work = work
        self.runner = runner
        self.kinds = kinds

    def queued_jobs(self, messages: Iterable[Mapping[str, object]]) -> frozenset[QueuedJob]:
        """The part jobs among queued messages."""
        jobs = {kind.job.task: kind.job for kind in self.kinds.values()}
        found = set()
        for message in messages:
            job = jobs.get(message.get("task"))  # type: ignore[arg-type]
            if job is not None:
                found.add((job.task, *job.read(message)))
        return frozenset(found)

    def recover(
        self, *, recorded_before: int, queued: frozenset[QueuedJob] = frozenset()
    ) -> Recovered:
        """Finish every open record written before `recorded_before`.

        `queued`: jobs known to be in the queue (the embedded queue can say; SQS
        cannot, and a chunk or part queued twice is recorded once anyway).
        """
        totals = Counter[str]()
        now = now_micros()
        while batch := self.work.take_undispatched(
            recorded_before, now, now + LEASE_MICROS, _BATCH
        ):
            for work in batch:
                try:
                    jobs = self._finish(self.kinds[work.kind], work.id, queued)
                except Exception:  # left open: the lease ends and a later sweep tries again
                    logger.exception("could not recover %s %s", work.kind, work.id)
                    continue
                if jobs:
                    totals[work.kind] += 1
                    totals["jobs"] += jobs
                self.work.mark_dispatched(work.kind, work.id)
        recovered = Recovered(totals["submission"], totals["status"], totals["jobs"])
        if recovered.submissions or recovered.statuses:
            logger.warning("recovered unfinished work: %s", recovered)
        return recovered

    def _finish(self, kind: BatchKind[object], batch_id: str, queued: frozenset[QueuedJob]) -> int:
        """Queue the jobs of the parts that have neither a result nor a job; how many."""
        found = kind.open_batch(batch_id)
        if found is None:
            return 0
        task = kind.job.task
        missing = [
            n
            for n in range(1, found.parts + 1)
            if n not in found.done and (task, batch_id, n) not in queued
        ]
        if not missing:
            return 0
        if found.inline:
            # Processed inline: the crash came before the answer. Its one part is
            # the whole archived body.
            self.runner.run_inline_again(kind, batch_id)
            return 1
        self.runner.queue_parts(kind, batch_id, missing)
        return len(missing)


def job_messages(bodies: Iterable[str]) -> list[dict[str, object]]:
    """Queued job bodies (JSON text) as messages."""
    return [orjson.loads(body) for body in bodies]
