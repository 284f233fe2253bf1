"""Audit: a record of every TAXII request."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AuditRecord:
    time: int  # µs
    request_id: str  # unique per request
    partner: str | None  # None when the caller was not authenticated
    method: str
    path: str
    status: int  # the HTTP status answered
    collection_id: str | None = None
    objects: int = 0  # objects returned or received
    detail: str = ""  # e.g. the query, or why the request was refused
    partner_id: str | None = None  # the partner's stable id (names can be reused)


class AuditStore(ABC):
    @abstractmethod
    def append_audit(self, record: AuditRecord) -> None:
        """Keep one record (at least a year; the AWS adapter expires it by TTL after that)."""

    @abstractmethod
    def list_audit(
        self,
        *,
        since: int | None = None,
        until: int | None = None,
        partner: str | None = None,
        limit: int = 100,
        partner_id: str | None = None,
    ) -> list[AuditRecord]:
        """Records with since <= time < until, newest first, at most `limit`.

        partner / partner_id: only that partner's records (by name, or by stable id).

        The cost does not grow with the total number of records kept (both
        adapters read a time-ordered index from `until` backwards).
        """
