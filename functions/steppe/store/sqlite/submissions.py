"""Submissions and their per-chunk results in the embedded store.

Reads that return many rows return them in one aggregated row (see objects.py
for why a row-by-row fetch is slow while other threads compute).
"""

from __future__ import annotations

import json
import sqlite3
from operator import itemgetter

import orjson

from steppe.errors import Conflict, NotFound
from steppe.store.port.access import legacy_partner_id
from steppe.store.port.submissions import (
    ChunkResult,
    Submission,
    SubmissionMeta,
    SubmissionStatus,
    SubmissionStore,
)
from steppe.store.sqlite.database import Database
from steppe.store.sqlite.recovery import open_work

_COLUMNS = (
    "id, collection_id, submitter, created, chunks_total, observables, meta, status_override, "
    "submitter_id"
)
# Chunk results as one JSON array of [chunk, counts, error(, objects)]. counts
# and objects are stored as JSON text (record_chunk writes them), so they are
# spliced in as they are rather than parsed and re-encoded by SQLite.
_CHUNKS = """
SELECT '[' || group_concat(
    '[' || chunk || ',' || counts || ',' || json_quote(error) {objects} || ']', ','
) || ']'
FROM submission_chunks WHERE submission_id = ?
"""
_CHUNKS_WITH_OBJECTS = _CHUNKS.format(objects="|| ',' || objects")
_CHUNKS_WITHOUT_OBJECTS = _CHUNKS.format(objects="")
# The newest submissions as one JSON array of [rowid, *_COLUMNS] (meta as its JSON text).
_NEWEST = f"""
SELECT json_group_array(json_array(rowid, {_COLUMNS}))
FROM (
    SELECT rowid, {_COLUMNS} FROM submissions
    ORDER BY created DESC, rowid DESC LIMIT ?
)
"""


def _submission(row: tuple | list) -> Submission:
    sid, collection_id, submitter, created, chunks_total, observables, meta, status, owner = row
    return Submission(
        id=sid,
        collection_id=collection_id,
        submitter=submitter,
        created=created,
        chunks_total=chunks_total,
        observables=observables,
        meta=SubmissionMeta.from_dict(json.loads(meta)),
        status_override=status,
        submitter_id=owner or legacy_partner_id(submitter),
    )


class SqliteSubmissions(SubmissionStore):
    """SubmissionStore methods; mixed into SqliteStore."""

    _db: Database

    def create_submission(self, submission: Submission, dispatch_pending: bool = False) -> None:
        try:
            with self._db.write() as conn:
                conn.execute(
                    f"INSERT INTO submissions ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        submission.id,
                        submission.collection_id,
                        submission.submitter,
                        submission.created,
                        submission.chunks_total,
                        submission.observables,
                        json.dumps(submission.meta.to_dict()),
                        submission.status_override,
                        submission.submitter_id or legacy_partner_id(submission.submitter),
                    ),
                )
                if dispatch_pending:
                    open_work(conn, "submission", submission.id, submission.created)
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

    def update_submission_meta(self, submission_id: str, meta: SubmissionMeta) -> None:
        self._update(submission_id, "meta", json.dumps(meta.to_dict()))

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

    def chunk_results(self, submission_id: str, with_objects: bool = True) -> list[ChunkResult]:
        sql = _CHUNKS_WITH_OBJECTS if with_objects else _CHUNKS_WITHOUT_OBJECTS
        [found] = self._db.connection().execute(sql, (submission_id,)).fetchone()
        if found is None:
            return []
        results = []
        for entry in orjson.loads(found):
            chunk, counts, error = entry[:3]
            pairs = tuple((oid, outcome) for oid, outcome in entry[3]) if with_objects else ()
            results.append(ChunkResult(chunk=chunk, counts=counts, objects=pairs, error=error))
        results.sort(key=lambda result: result.chunk)
        return results

    def clear_chunks(self, submission_id: str) -> None:
        with self._db.write() as conn:
            conn.execute("DELETE FROM submission_chunks WHERE submission_id = ?", (submission_id,))

    def list_submissions(self, limit: int = 100) -> list[Submission]:
        [found] = self._db.connection().execute(_NEWEST, (limit,)).fetchone()
        rows = orjson.loads(found)
        # SQLite does not promise the order in which an aggregate sees rows.
        rows.sort(key=itemgetter(4, 0), reverse=True)  # created, then rowid: newest first
        return [_submission(row[1:]) for row in rows]
