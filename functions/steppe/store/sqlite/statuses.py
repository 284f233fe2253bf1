"""TAXII status resources and their per-batch parts in the embedded store.

A status past its `expires` is invisible at once (every read compares with
the clock) and is deleted, with its parts, by the next create_status: the
purge walks an index on `expires`, so it costs nothing when nothing expired.
Parts come back in one aggregated row (see objects.py on row-by-row reads).
"""

from __future__ import annotations

import json
import sqlite3

import orjson

from steppe.errors import Conflict, NotFound
from steppe.stix.timestamps import now_micros
from steppe.store.port.statuses import StatusPart, StatusRecord, StatusStore, StatusSummary
from steppe.store.sqlite.database import Database
from steppe.store.sqlite.recovery import open_work

_COLUMNS = "id, owner, collection_id, created, total, expires, meta"
# Every part of a live status as one JSON array of [part, successes, failures];
# successes and failures are stored as JSON text and spliced in as they are.
_PARTS = """
SELECT '[' || group_concat('[' || part || ',' || successes || ',' || failures || ']', ',') || ']'
FROM status_parts
WHERE status_id = :id
  AND EXISTS (SELECT 1 FROM statuses WHERE id = :id AND expires >= :now)
"""

_PART_NUMBERS = """
SELECT part FROM status_parts
WHERE status_id = :id
  AND EXISTS (SELECT 1 FROM statuses WHERE id = :id AND expires >= :now)
"""

# The counts come from SQLite's JSON functions; only the parts shown are decoded.
_COUNTS = """
SELECT coalesce(sum(json_array_length(successes)), 0),
       coalesce(sum(json_array_length(failures)), 0)
FROM status_parts
WHERE status_id = :id
  AND EXISTS (SELECT 1 FROM statuses WHERE id = :id AND expires >= :now)
"""
_IN_ORDER = "SELECT successes, failures FROM status_parts WHERE status_id = :id ORDER BY part"

Outcomes = tuple[tuple[str, str | None, str | None], ...]


def _outcomes(entries: list[list[str | None]]) -> Outcomes:
    return tuple(map(tuple, entries))  # type: ignore[arg-type]  # each [id, version, message]


class SqliteStatuses(StatusStore):
    """StatusStore methods; mixed into SqliteStore."""

    _db: Database

    def create_status(self, record: StatusRecord, dispatch_pending: bool = False) -> None:
        params = (
            record.id,
            record.owner,
            record.collection_id,
            record.created,
            record.total,
            record.expires,
            json.dumps(record.meta),
        )
        try:
            with self._db.write() as conn:
                conn.execute("DELETE FROM statuses WHERE expires < ?", (now_micros(),))
                conn.execute(
                    f"INSERT INTO statuses ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)", params
                )
                if dispatch_pending:
                    open_work(conn, "status", record.id, record.created)
        except sqlite3.IntegrityError as exc:
            raise Conflict(f"a status with id '{record.id}' already exists") from exc

    def get_status(self, status_id: str) -> StatusRecord | None:
        row = (
            self._db.connection()
            .execute(
                f"SELECT {_COLUMNS} FROM statuses WHERE id = ? AND expires >= ?",
                (status_id, now_micros()),
            )
            .fetchone()
        )
        if row is None:
            return None
        sid, owner, collection_id, created, total, expires, meta = row
        return StatusRecord(
            id=sid,
            owner=owner,
            collection_id=collection_id,
            created=created,
            total=total,
            expires=expires,
            meta=json.loads(meta),
        )

    def record_status_part(self, status_id: str, part: StatusPart) -> bool:
        successes = orjson.dumps([list(entry) for entry in part.successes]).decode()
        failures = orjson.dumps([list(entry) for entry in part.failures]).decode()
        with self._db.write() as conn:
            row = conn.execute("SELECT expires FROM statuses WHERE id = ?", (status_id,)).fetchone()
            if row is None or row[0] < now_micros():
                raise NotFound(f"there is no status with id '{status_id}'")
            return (
                conn.execute(
                    "INSERT OR IGNORE INTO status_parts (status_id, part, successes, failures) "
                    "VALUES (?, ?, ?, ?)",
                    (status_id, part.part, successes, failures),
                ).rowcount
                == 1
            )

    def status_parts(self, status_id: str) -> list[StatusPart]:
        [found] = (
            self._db.connection().execute(_PARTS, {"id": status_id, "now": now_micros()}).fetchone()
        )
        if found is None:
            return []
        parts = [
            StatusPart(part=number, successes=_outcomes(successes), failures=_outcomes(failures))
            for number, successes, failures in orjson.loads(found)
        ]
        parts.sort(key=lambda part: part.part)
        return parts

    def status_part_numbers(self, status_id: str) -> frozenset[int]:
        rows = self._db.connection().execute(_PART_NUMBERS, {"id": status_id, "now": now_micros()})
        return frozenset(number for (number,) in rows)

    def status_summary(self, status_id: str, details: int) -> StatusSummary:
        params = {"id": status_id, "now": now_micros()}
        conn = self._db.connection()
        success_count, failure_count = conn.execute(_COUNTS, params).fetchone()
        successes: list[tuple[str, str | None, str | None]] = []
        failures: list[tuple[str, str | None, str | None]] = []
        if success_count or failure_count:
            for shown_successes, shown_failures in conn.execute(_IN_ORDER, params):
                if len(successes) < details:
                    successes.extend(_outcomes(orjson.loads(shown_successes)))
                if len(failures) < details:
                    failures.extend(_outcomes(orjson.loads(shown_failures)))
                if len(successes) >= details and len(failures) >= details:
                    break
        return StatusSummary(
            success_count, failure_count, tuple(successes[:details]), tuple(failures[:details])
        )
