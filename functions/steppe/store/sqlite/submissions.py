"""Submissions and their per-chunk results in the embedded store."""

from __future__ import annotations

import json
import sqlite3

from steppe.errors import Conflict, NotFound
from steppe.store.port import ChunkResult, Submission, SubmissionStatus
from steppe.store.sqlite.database import Database

_COLUMNS = "id, collection_id, submitter, created, chunks_total, observables, meta, status_override"


def _submission(row: tuple) -> Submission:
    sid, collection_id, submitter, created, chunks_total, observables, meta, status = row
    return Submission(
        id=sid,
        collection_id=collection_id,
        submitter=submitter,
        created=created,
        chunks_total=chunks_total,
        observables=observables,
        meta=json.loads(meta),
        status_override=status,
    )


class SqliteSubmissions:
    """SubmissionStore methods; mixed into SqliteStore."""

    _db: Database

    def create_submission(self, submission: Submission) -> None:
        try:
            with self._db.write() as conn:
                conn.execute(
                    f"INSERT INTO submissions ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        submission.id,
                        submission.collection_id,
                        submission.submitter,
                        submission.created,
                        submission.chunks_total,
                        submission.observables,
                        json.dumps(submission.meta),
                        submission.status_override,
                    ),
                )
        except sqlite3.IntegrityError as exc:
            raise Conflict(f"a submission with id '{submission.id}' already exists") from exc

    def get_submission(self, submission_id: str) -> Submission | None:
        row = (
            self._db.connection()
            .execute(f"SELECT {_COLUMNS} FROM submissions WHERE id = ?", (submission_id,))
            .fetchone()
        )
        return None if row is None else _submission(row)

    def set_submission_status(self, submission_id: str, status: SubmissionStatus | None) -> None:
        self._update(submission_id, "status_override", status)

    def update_submission_meta(self, submission_id: str, meta: dict[str, object]) -> None:
        self._update(submission_id, "meta", json.dumps(meta))

    def _update(self, submission_id: str, column: str, value: object) -> None:
        with self._db.write() as conn:
            changed = conn.execute(
                f"UPDATE submissions SET {column} = ? WHERE id = ?", (value, submission_id)
            ).rowcount
        if not changed:
            raise NotFound(f"there is no submission with id '{submission_id}'")

    def record_chunk(self, submission_id: str, result: ChunkResult) -> bool:
        try:
            with self._db.write() as conn:
                return (
                    conn.execute(
                        "INSERT OR IGNORE INTO submission_chunks "
                        "(submission_id, chunk, counts, objects, error) VALUES (?, ?, ?, ?, ?)",
                        (
                            submission_id,
                            result.chunk,
                            json.dumps(result.counts),
                            json.dumps([list(pair) for pair in result.objects]),
                            result.error,
                        ),
                    ).rowcount
                    == 1
                )
        except sqlite3.IntegrityError as exc:  # the foreign key: no such submission
            raise NotFound(f"there is no submission with id '{submission_id}'") from exc

    def chunk_results(self, submission_id: str) -> list[ChunkResult]:
        rows = self._db.connection().execute(
            "SELECT chunk, counts, objects, error FROM submission_chunks "
            "WHERE submission_id = ? ORDER BY chunk",
            (submission_id,),
        )
        return [
            ChunkResult(
                chunk=chunk,
                counts=json.loads(counts),
                objects=tuple((oid, outcome) for oid, outcome in json.loads(objects)),
                error=error,
            )
            for chunk, counts, objects, error in rows
        ]

    def clear_chunks(self, submission_id: str) -> None:
        with self._db.write() as conn:
            conn.execute("DELETE FROM submission_chunks WHERE submission_id = ?", (submission_id,))

    def list_submissions(self, limit: int = 100) -> list[Submission]:
        rows = self._db.connection().execute(
            f"SELECT {_COLUMNS} FROM submissions ORDER BY created DESC, rowid DESC LIMIT ?",
            (limit,),
        )
        return [_submission(row) for row in rows]
