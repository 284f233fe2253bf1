"""Recovery: work recorded but perhaps never queued, and idempotency keys."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Literal

WorkKind = Literal["submission", "status"]


@dataclass(frozen=True, slots=True)
class OpenWork:
    """A submission or TAXII status recorded with dispatch_pending and not yet marked dispatched."""

    kind: WorkKind
    id: str
    created: int  # µs, when the record was written


@dataclass(frozen=True, slots=True)
class SubmissionKey:
    """An idempotency key bound to the one submission it stands for, until `expires` (µs)."""

    key: str
    submission_id: str
    digest: str  # what the request was (body, media type, parameters), hashed
    expires: int


class RecoveryStore(ABC):
    """What steppe.jobs.crash_recovery needs to finish what a crash left half done."""

    @abstractmethod
    def take_undispatched(
        self, recorded_before: int, now: int, lease_until: int, limit: int = 100
    ) -> list[OpenWork]:
        """Lease up to `limit` open records written before `recorded_before`.

        A record is handed out only when it is not leased at `now`; each one
        returned is leased until `lease_until`, so two sweeps never take the
        same record at once and a sweep that dies lets it come back later.
        Oldest first.
        """

    @abstractmethod
    def mark_dispatched(self, kind: WorkKind, record_id: str) -> None:
        """The record's work is queued (or done): it is no longer open. No-op if it is not."""

    @abstractmethod
    def bind_submission_key(self, binding: SubmissionKey, now: int) -> SubmissionKey:
        """Bind an idempotency key to a submission id, atomically, unless a live binding exists.

        Returns the binding in force: `binding` itself, or the one recorded
        earlier that has not expired at `now` (its submission id and digest
        win). An expired binding is replaced.
        """
