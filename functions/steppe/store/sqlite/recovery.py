"""RecoveryStore on the embedded file: open work and idempotency keys (see jobs.crash_recovery)."""

from __future__ import annotations

import sqlite3

from steppe.store.port.recovery import OpenWork, RecoveryStore, SubmissionKey, WorkKind
from steppe.store.sqlite.database import Database

_TAKE = """
UPDATE undispatched SET available_at = :lease_until
WHERE (kind, id) IN (
    SELECT kind, id FROM undispatched
    WHERE created < :before AND available_at <= :now
    ORDER BY created LIMIT :limit
)
RETURNING kind, id, created
"""
_BIND = """
INSERT INTO submission_keys (key, submission_id, digest, expires)
VALUES (:key, :submission_id, :digest, :expires)
ON CONFLICT (key) DO UPDATE SET
    submission_id = excluded.submission_id,
    digest = excluded.digest,
    expires = excluded.expires
WHERE submission_keys.expires <= :now
RETURNING submission_id
"""


def open_work(conn: sqlite3.Connection, kind: WorkKind, record_id: str, created: int) -> None:
    """Record open work inside the caller's transaction (the one that writes the record)."""
    conn.execute(
        "INSERT OR IGNORE INTO undispatched (kind, id, created, available_at) VALUES (?, ?, ?, ?)",
        (kind, record_id, created, created),
    )


class SqliteRecovery(RecoveryStore):
    """RecoveryStore methods; mixed into SqliteStore."""

    _db: Database

    def take_undispatched(
        self, recorded_before: int, now: int, lease_until: int, limit: int = 100
    ) -> list[OpenWork]:
        params = {"before": recorded_before, "now": now, "lease_until": lease_until, "limit": limit}
        with self._db.write() as conn:
            rows = conn.execute(_TAKE, params).fetchall()
        return sorted(
            (OpenWork(kind, record_id, created) for kind, record_id, created in rows),
            key=lambda work: (work.created, work.kind, work.id),
        )

    def mark_dispatched(self, kind: WorkKind, record_id: str) -> None:
        self._db.write_one("DELETE FROM undispatched WHERE kind = ? AND id = ?", (kind, record_id))

    def bind_submission_key(self, binding: SubmissionKey, now: int) -> SubmissionKey:
        params = {
            "key": binding.key,
            "submission_id": binding.submission_id,
            "digest": binding.digest,
            "expires": binding.expires,
            "now": now,
        }
        with self._db.write() as conn:
            if conn.execute(_BIND, params).fetchone() is not None:
                return binding
            submission_id, digest, expires = conn.execute(
                "SELECT submission_id, digest, expires FROM submission_keys WHERE key = ?",
                (binding.key,),
            ).fetchone()
        return SubmissionKey(binding.key, submission_id, digest, expires)

    def purge_submission_keys(self, now: int) -> int:
        """Forget expired bindings (DynamoDB's TTL does this on AWS)."""
        with self._db.write() as conn:
            return conn.execute("DELETE FROM submission_keys WHERE expires <= ?", (now,)).rowcount
