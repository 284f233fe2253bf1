"""SqliteJobQueue: the embedded shape's durable job queue, a table in steppe.db.

It behaves like the SQS queue of the AWS shape: a claimed job is invisible for
its visibility timeout and comes back if it is neither acked nor failed in
time; a job claimed max_attempts times without succeeding is dead-lettered
(kept, with its last error) until someone redrives it.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from steppe.stix.timestamps import now_micros
from steppe.store.port.queue import JobQueue
from steppe.store.sqlite.store import SqliteStore

MAX_MESSAGE_BYTES = 200 * 1024  # the port's limit; larger payloads travel as blobs


@dataclass(frozen=True, slots=True)
class Job:
    id: str  # unique message id
    body: str  # the JSON text of the message
    attempts: int  # how many times it has been claimed, including this one
    created: int  # µs


def _micros(seconds: float) -> int:
    return int(seconds * 1_000_000)


_ANY_DUE = (
    "SELECT 1 FROM jobs INDEXED BY jobs_live WHERE status != 'dead' AND available_at <= ? LIMIT 1"
)


class SqliteJobQueue(JobQueue):
    def __init__(self, store: SqliteStore, max_attempts: int = 5) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._db = store.database
        self.max_attempts = max_attempts
        # Set by send() so that an in-process worker wakes at once.
        self.wakeup = threading.Event()

    def send(self, messages: Sequence[dict[str, object]]) -> None:
        rows = []
        now = now_micros()
        for message in messages:
            body = json.dumps(message, separators=(",", ":"))
            if len(body.encode()) > MAX_MESSAGE_BYTES:
                raise ValueError(
                    f"a job message is at most {MAX_MESSAGE_BYTES} bytes of JSON; "
                    "put larger payloads in a blob and send its key"
                )
            rows.append((str(uuid.uuid4()), body, now, now))
        if not rows:
            return
        with self._db.write() as conn:
            conn.executemany(
                "INSERT INTO jobs (id, body, status, attempts, created, available_at) "
                "VALUES (?, ?, 'ready', 0, ?, ?)",
                rows,
            )
        self.wakeup.set()

    def claim(self, limit: int = 1, visibility_timeout: float = 900.0) -> list[Job]:
        """Up to `limit` jobs now due, each hidden from other claims for visibility_timeout seconds.

        A due job already claimed max_attempts times (its claimer died or timed
        out) is dead-lettered instead of being handed out again.
        """
        now = now_micros()
        claimed: list[Job] = []
        # A read first: an idle poll (a worker process looks every few tens of
        # milliseconds) never takes the write lock.
        if not self._db.connection().execute(_ANY_DUE, (now,)).fetchone():
            return claimed
        with self._db.write() as conn:
            while len(claimed) < limit:
                due = conn.execute(
                    "SELECT seq, id, body, attempts, created FROM jobs INDEXED BY jobs_live "
                    "WHERE status != 'dead' AND available_at <= ? "
                    "ORDER BY available_at, seq LIMIT ?",
                    (now, limit - len(claimed)),
                ).fetchall()
                if not due:
                    break
                for seq, job_id, body, attempts, created in due:
                    if attempts >= self.max_attempts:
                        conn.execute(
                            "UPDATE jobs SET status = 'dead', last_error = coalesce(last_error, ?) "
                            "WHERE seq = ?",
                            (f"claimed {attempts} times without being acknowledged", seq),
                        )
                        continue
                    conn.execute(
                        "UPDATE jobs SET status = 'claimed', attempts = ?, available_at = ? "
                        "WHERE seq = ?",
                        (attempts + 1, now + _micros(visibility_timeout), seq),
                    )
                    claimed.append(Job(job_id, body, attempts + 1, created))
        return claimed

    def ack(self, job_id: str) -> None:
        """The job is done: remove it."""
        with self._db.write() as conn:
            conn.execute("DELETE FROM jobs WHERE id = ?", (job_id,))

    def retry_later(self, receipt_handle: str, seconds: float) -> None:
        """Nothing: the local worker settles a failed job with the same delay (`fail`)."""

    def fail(self, job_id: str, error: str, retry_in: float = 5.0) -> bool:
        """Back to the queue after retry_in seconds, or dead-lettered after max_attempts claims.

        Returns True if the job was dead-lettered (False also when it is unknown).
        """
        with self._db.write() as conn:
            row = conn.execute("SELECT attempts FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                return False
            if row[0] >= self.max_attempts:
                conn.execute(
                    "UPDATE jobs SET status = 'dead', last_error = ? WHERE id = ?",
                    (error, job_id),
                )
                return True
            conn.execute(
                "UPDATE jobs SET status = 'ready', available_at = ?, last_error = ? WHERE id = ?",
                (now_micros() + _micros(retry_in), error, job_id),
            )
            return False

    def release_claimed(self) -> int:
        """At start-up: jobs claimed by a process that died become available now."""
        with self._db.write() as conn:
            return conn.execute(
                "UPDATE jobs SET status = 'ready', available_at = ? WHERE status = 'claimed'",
                (now_micros(),),
            ).rowcount

    def dead_letters(self) -> list[Job]:
        rows = self._db.connection().execute(
            "SELECT id, body, attempts, created FROM jobs WHERE status = 'dead' ORDER BY seq"
        )
        return [Job(*row) for row in rows]

    def last_error(self, job_id: str) -> str | None:
        """The error the job last failed with, if any."""
        row = (
            self._db.connection()
            .execute("SELECT last_error FROM jobs WHERE id = ?", (job_id,))
            .fetchone()
        )
        return None if row is None else row[0]

    def redrive(self, job_id: str | None = None) -> int:
        """Dead letters (all, or one) back to the queue with a fresh attempt count."""
        sql = (
            "UPDATE jobs SET status = 'ready', attempts = 0, available_at = ? WHERE status = 'dead'"
        )
        params: tuple[object, ...] = (now_micros(),)
        if job_id is not None:
            sql += " AND id = ?"
            params += (job_id,)
        with self._db.write() as conn:
            count = conn.execute(sql, params).rowcount
        if count:
            self.wakeup.set()
        return count

    def live_bodies(self) -> list[str]:
        """The bodies of the jobs not yet done and not dead (recovery must not queue them again)."""
        rows = self._db.connection().execute("SELECT body FROM jobs WHERE status != 'dead'")
        return [body for (body,) in rows]

    def pending(self) -> int:
        """Jobs not yet done and not dead: available or claimed."""
        return int(
            self._db.connection()
            .execute("SELECT count(*) FROM jobs WHERE status != 'dead'")
            .fetchone()[0]
        )
