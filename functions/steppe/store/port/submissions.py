"""Submissions: analyst observations being turned into STIX, and their chunk results."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

SubmissionStatus = Literal["pending", "complete", "failed"]


@dataclass(frozen=True, slots=True)
class ChunkResult:
    """What processing one chunk of a submission produced.

    counts: objects by outcome ("created", "updated", "duplicate") and by type
      ("indicator", ...), as the ingest service defines them.
    objects: the (id, outcome) pairs, in production order.
    error: set when the chunk failed for good (it then counts as done).
    """

    chunk: int
    counts: dict[str, int]
    objects: tuple[tuple[str, str], ...] = ()
    error: str | None = None


@dataclass(frozen=True, slots=True)
class SubmissionProducer:
    """Who steppe names as the producer of what a submission yields (a conversion Producer)."""

    identity_id: str
    name: str


@dataclass(frozen=True, slots=True)
class Revocation:
    """Who revoked a submission, when (µs) and why; the first revocation's stands."""

    reason: str
    analyst: str
    at: int


# The keys SubmissionMeta knows, in the order the ingest service has always written them.
_META_KEYS = (
    "raw_key",
    "content_type",
    "params",
    "sha256",
    "producer",
    "report",
    "now",
    "run",
    "chunk_keys",
    "revoked",
)


@dataclass(frozen=True, slots=True, eq=False)
class SubmissionMeta(Mapping[str, object]):
    """What the ingest service keeps to describe, process and reprocess a submission.

    Stored as one JSON object (to_dict, from_dict); a field that is None is
    absent from it, as it is from rows written before the field existed.
    Reading a row and writing it back gives the same object, key order
    included: keys this record does not know stay in `extra`, and
    `key_order` keeps the order the row had (keys it lacked follow in field
    order, as the ingest service adds them).

    It also reads as that JSON object (a read-only Mapping, compared by
    content), which is how code written before the record existed sees it.
    """

    raw_key: str | None = None  # the blob holding the body as it was received
    content_type: str | None = None  # the body's Content-Type header ("" when there was none)
    params: Mapping[str, str] | None = None  # the request's query parameters
    sha256: str | None = None  # hex digest of the body
    producer: SubmissionProducer | None = None
    report: Mapping[str, object] | None = None  # the report, as observables.model.report_to_dict
    now: int | None = None  # µs: the processing time every chunk uses (reprocessing keeps it)
    run: str | None = None  # this processing run's id (steppe.jobs.crash_recovery)
    chunk_keys: tuple[str, ...] | None = None  # the chunk blobs; () when processed inline
    revoked: Revocation | None = None
    extra: Mapping[str, object] = field(default_factory=dict, repr=False)
    key_order: tuple[str, ...] = field(default=(), repr=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> SubmissionMeta:
        """The record of a stored JSON object (as to_dict gives it, or as older rows hold it)."""
        get = data.get
        producer = get("producer")
        chunk_keys = get("chunk_keys")
        revoked = get("revoked")
        return cls(
            raw_key=get("raw_key"),  # type: ignore[arg-type]
            content_type=get("content_type"),  # type: ignore[arg-type]
            params=get("params"),  # type: ignore[arg-type]
            sha256=get("sha256"),  # type: ignore[arg-type]
            producer=None if producer is None else SubmissionProducer(**producer),  # type: ignore[arg-type]
            report=get("report"),  # type: ignore[arg-type]
            now=get("now"),  # type: ignore[arg-type]
            run=get("run"),  # type: ignore[arg-type]
            chunk_keys=None if chunk_keys is None else tuple(chunk_keys),  # type: ignore[call-overload]
            revoked=None if revoked is None else Revocation(**revoked),  # type: ignore[arg-type]
            extra={key: value for key, value in data.items() if key not in _META_KEYS},
            key_order=tuple(data),
        )

    def to_dict(self) -> dict[str, object]:
        """The JSON object the stores keep."""
        known: dict[str, object] = {}
        for key in _META_KEYS:
            value = getattr(self, key)
            if value is None:
                continue
            if isinstance(value, SubmissionProducer):
                value = {"identity_id": value.identity_id, "name": value.name}
            elif isinstance(value, Revocation):
                value = {"reason": value.reason, "analyst": value.analyst, "at": value.at}
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, Mapping):
                value = dict(value)
            known[key] = value
        present = {**known, **self.extra}
        return {
            **{key: None for key in self.key_order if key in present},
            **present,
        }

    def __getitem__(self, key: str) -> object:
        return self.to_dict()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.to_dict())

    def __len__(self) -> int:
        return len(self.to_dict())


@dataclass(frozen=True, slots=True)
class Submission:
    """An analyst submission, as recorded when it was accepted.

    `meta` carries what the ingest service needs to describe and reprocess it
    (blob keys of the raw body and chunks, report fields, producer...).
    """

    id: str
    collection_id: str
    submitter: str  # the submitter's name, as it was when it submitted (for display)
    created: int
    chunks_total: int
    observables: int
    meta: SubmissionMeta = field(default_factory=SubmissionMeta)
    status_override: SubmissionStatus | None = None  # e.g. failed before any chunk ran
    # The owner: the submitter's stable partner id. Adapters fill it for rows stored
    # before ids existed (legacy_partner_id of the submitter's name).
    submitter_id: str = ""


class SubmissionStore(ABC):
    @abstractmethod
    def create_submission(self, submission: Submission, dispatch_pending: bool = False) -> None:
        """Record an accepted submission; Conflict if the id exists.

        dispatch_pending: also record, in the same atomic step, that its work
        is not yet handed to the queue (see RecoveryStore); the writer calls
        mark_dispatched once it is.
        """

    @abstractmethod
    def get_submission(self, submission_id: str) -> Submission | None: ...

    @abstractmethod
    def set_submission_status(self, submission_id: str, status: SubmissionStatus | None) -> None:
        """Set or clear status_override (e.g. "failed", or None when reprocessing).

        NotFound if the submission does not exist.
        """

    @abstractmethod
    def update_submission_meta(self, submission_id: str, meta: SubmissionMeta) -> None:
        """Replace the submission's meta; NotFound if the submission does not exist."""

    @abstractmethod
    def record_chunk(self, submission_id: str, result: ChunkResult) -> bool:
        """Record one chunk's result; idempotent per (submission, chunk).

        Returns True if this call recorded it, False if it was already there
        (a retried job): the first result stands. NotFound if the submission
        does not exist.
        """

    @abstractmethod
    def chunk_results(self, submission_id: str, with_objects: bool = True) -> list[ChunkResult]:
        """Every recorded chunk result, ordered by chunk number.

        with_objects=False leaves out the object lists (objects=()): what a
        status poll of a large submission needs, at a fraction of the cost.
        """

    @abstractmethod
    def clear_chunks(self, submission_id: str) -> None:
        """Forget every chunk result (before reprocessing a submission)."""

    @abstractmethod
    def list_submissions(self, limit: int = 100) -> list[Submission]:
        """The most recent submissions first."""
