"""The one job runner: a batch stored now when small, else cut into parts and queued.

Analyst submissions (steppe.ingest) and envelopes posted over TAXII
(steppe.taxii.adding) go through the same steps, written here once:

1. `start`: a small batch is stored before the answer, as its one part,
   recorded at once. A larger one is cut into parts of a fixed size, each kept
   as a blob; its record is written with an open-work mark, one job is queued
   per part, and the mark is cleared (steppe.jobs.crash_recovery finishes a batch
   whose process died in between).
2. `run_job`: a part's job stores the part and records its result; a job that
   fails on its last attempt records the failure instead, so the batch
   completes rather than staying pending.
3. After a part is recorded, its follow-ups (correlation, and the runner's
   `follow_ons`: push delivery) are queued as jobs of their own: retried,
   dead-lettered and timed apart.

What differs between the two kinds of batch (their records, blobs and
messages) is a `BatchKind`'s; what differs between two batches of one kind
is a `NewBatch`'s.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from steppe.store.port import BlobStore, JobQueue, RecoveryStore, WorkKind

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)
T_contra = TypeVar("T_contra", contravariant=True)
Message = dict[str, object]


@dataclass(frozen=True, slots=True)
class PartJob:
    """The queued job of one part: {"task": task, batch_field: the batch's id, part_field: n}."""

    task: str
    batch_field: str
    part_field: str

    def message(self, batch_id: str, part: int) -> Message:
        return {"task": self.task, self.batch_field: batch_id, self.part_field: part}

    def read(self, message: Mapping[str, object]) -> tuple[str, int]:
        """The batch id and part number a message of this job names."""
        return str(message[self.batch_field]), int(message[self.part_field])  # type: ignore[call-overload]


@dataclass(frozen=True, slots=True)
class PartDone(Generic[R]):
    """A part stored and its result recorded, and the jobs to queue after it."""

    result: R
    follow_ups: Sequence[Message] = ()


@dataclass(frozen=True, slots=True)
class OpenBatch:
    """A batch recovery finds open: how many parts it has and which have a result."""

    parts: int
    done: frozenset[int]
    # Stored before its answer, from the body it archived: recovery runs it again
    # instead of queueing jobs for parts that were never kept apart.
    inline: bool = False


class BatchKind(Protocol[R_co]):
    """One kind of batch (analyst submissions, TAXII envelopes), as the runner drives it."""

    @property
    def job(self) -> PartJob: ...
    @property
    def mark(self) -> WorkKind: ...  # the kind of its records' open-work marks

    def run_part(self, batch_id: str, part: int) -> PartDone[R_co] | None:
        """Store a queued part and record its result; None if there was nothing left to do."""
        ...

    def fail_part(self, batch_id: str, part: int, error: str) -> None:
        """Record that the part failed for good."""
        ...

    def open_batch(self, batch_id: str) -> OpenBatch | None:
        """The batch's parts, for recovery; None when nothing is left to finish."""
        ...

    def run_inline_again(self, batch_id: str) -> PartDone[R_co]:
        """Store an inline batch (OpenBatch.inline) again from what it archived."""
        ...


class NewBatch(Protocol[T_contra, R]):
    """One batch being started: where its parts go and how its record is written."""

    @property
    def kind(self) -> BatchKind[R]: ...
    @property
    def batch_id(self) -> str: ...
    @property
    def marked_inline(self) -> bool:
        """Whether run_inline writes the record with an open-work mark (cleared after it)."""
        ...

    def part_key(self, part: int) -> str: ...
    def encode_part(self, items: Sequence[T_contra]) -> tuple[bytes, str]:
        """A part's blob and its content type."""
        ...

    def record(self, parts: int) -> None:
        """Write the record of a batch queued in `parts` parts, with its open-work mark."""
        ...

    def run_inline(self, items: Sequence[T_contra]) -> PartDone[R]:
        """Store the whole batch as its one part, and write its record and result."""
        ...


def part_count(items: int, size: int) -> int:
    """How many parts of `size` items `items` items make."""
    return -(-items // size)


def cut(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


class JobRunner:
    """Starts batches, runs their part jobs and queues what follows each part."""

    def __init__(
        self,
        queue: JobQueue,
        blobs: BlobStore,
        work: RecoveryStore,
        follow_ons: Callable[[], Sequence[Message]] | None = None,
    ) -> None:
        self.queue = queue
        self.blobs = blobs
        self.work = work
        # Jobs queued after every recorded part, whatever its kind (push delivery).
        self.follow_ons = follow_ons

    def start(
        self, batch: NewBatch[T, R], items: Sequence[T], *, part_size: int, inline: bool
    ) -> PartDone[R] | None:
        """Store the batch now (`inline`: its one part's result) or queue its parts (None)."""
        if inline:
            done = batch.run_inline(items)
            self.follow_up(done)
            if batch.marked_inline:
                self.work.mark_dispatched(batch.kind.mark, batch.batch_id)
            return done
        parts = cut(items, part_size)
        for number, part in enumerate(parts, start=1):
            self.blobs.put(batch.part_key(number), *batch.encode_part(part))
        batch.record(len(parts))  # open until its jobs are queued
        self.queue_parts(batch.kind, batch.batch_id, range(1, len(parts) + 1))
        self.work.mark_dispatched(batch.kind.mark, batch.batch_id)
        return None

    def queue_parts(self, kind: BatchKind[object], batch_id: str, parts: Iterable[int]) -> None:
        self.queue.send([kind.job.message(batch_id, part) for part in parts])

    def follow_up(self, done: PartDone[object]) -> None:
        messages = list(done.follow_ups)
        if self.follow_ons is not None:
            messages.extend(self.follow_ons())
        if messages:
            self.queue.send(messages)

    def run_part(self, kind: BatchKind[R], batch_id: str, part: int) -> R | None:
        """Store one part, record its result and queue its follow-ups."""
        done = kind.run_part(batch_id, part)
        if done is None:
            return None
        self.follow_up(done)
        return done.result

    def run_job(
        self, kind: BatchKind[R], message: Mapping[str, object], last_attempt: bool
    ) -> R | None:
        """A queued part's job; on its last attempt a failure is recorded before it is raised."""
        batch_id, part = kind.job.read(message)
        try:
            return self.run_part(kind, batch_id, part)
        except Exception as error:
            if last_attempt:
                logger.exception("part %d of %s %s failed for good", part, kind.mark, batch_id)
                kind.fail_part(batch_id, part, f"{type(error).__name__}: {error}")
            raise

    def run_inline_again(self, kind: BatchKind[R], batch_id: str) -> R:
        done = kind.run_inline_again(batch_id)
        self.follow_up(done)
        return done.result
