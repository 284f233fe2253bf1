"""TAXII status resources: the outcome of a POST to a collection's objects."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class StatusRecord:
    """A TAXII status resource: who asked, how many objects, until when it is kept.

    The per-object outcomes arrive in parts (StatusPart), one per processed
    batch, so that a large envelope processed by several jobs never rewrites
    one growing record.
    """

    id: str  # a UUIDv4
    owner: str  # the stable id of the partner that posted; only it may read the status
    collection_id: str
    created: int  # µs; the request_timestamp of the status resource
    total: int  # objects in the envelope
    expires: int  # µs; the record is kept at least until then (>= 24 h after created)
    meta: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StatusPart:
    """Outcomes of one batch of a posted envelope.

    successes/failures: (object id, version as a STIX timestamp or None, message or None).
    """

    part: int
    successes: tuple[tuple[str, str | None, str | None], ...] = ()
    failures: tuple[tuple[str, str | None, str | None], ...] = ()


Outcome = tuple[str, str | None, str | None]


@dataclass(frozen=True, slots=True)
class StatusSummary:
    """What a status resource shows: exact counts, the first outcomes of each kind."""

    success_count: int
    failure_count: int
    successes: tuple[Outcome, ...]  # the first ones, in part order
    failures: tuple[Outcome, ...]


def summarise(parts: list[StatusPart], details: int) -> StatusSummary:
    """The summary of recorded parts, at most `details` outcomes of each kind shown."""
    successes = [entry for part in parts for entry in part.successes]
    failures = [entry for part in parts for entry in part.failures]
    return StatusSummary(
        len(successes), len(failures), tuple(successes[:details]), tuple(failures[:details])
    )


class StatusStore(ABC):
    @abstractmethod
    def create_status(self, record: StatusRecord, dispatch_pending: bool = False) -> None:
        """Record a new status; Conflict if the id exists (dispatch_pending: as for submissions)."""

    @abstractmethod
    def get_status(self, status_id: str) -> StatusRecord | None:
        """The status, or None when unknown or past its expiry."""

    @abstractmethod
    def record_status_part(self, status_id: str, part: StatusPart) -> bool:
        """Record one batch's outcomes; idempotent per (status, part) like record_chunk.

        NotFound if the status does not exist (or has expired).
        """

    @abstractmethod
    def status_parts(self, status_id: str) -> list[StatusPart]:
        """Every recorded part, ordered by part number ([] once the status has expired)."""

    def status_summary(self, status_id: str, details: int) -> StatusSummary:
        """The counts of the recorded outcomes and the first `details` of each kind.

        An adapter may answer without decoding every outcome (a status is polled).
        """
        return summarise(self.status_parts(status_id), details)

    def status_part_numbers(self, status_id: str) -> frozenset[int]:
        """The numbers of the recorded parts, their outcomes unread (empty once expired)."""
        return frozenset(part.part for part in self.status_parts(status_id))
