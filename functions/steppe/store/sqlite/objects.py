"""ObjectStore on SQLite: versions in, filtered pages out.

Every statement here does its whole job in one sqlite3 step, whatever the
number of rows it touches. Python's sqlite3 releases the GIL around each step,
and executemany or a cursor takes one step per row: while another thread of
the process computes (waitress request threads, the other ingest worker), each
step's re-acquisition of the GIL can wait for the switch interval (5 ms), and a
row-by-row batch of thousands of rows slows down a hundredfold or more. A
single step that runs for milliseconds without the GIL, on the other hand, lets
that thread compute meanwhile. So rows go in as one JSON array of their
columns plus one BLOB of concatenated bodies, and come out aggregated the same
way (object_pages).

A write is one transaction of a fixed handful of statements: one reads the
date_added clock and the stored versions of the batch's ids through the id
index (an index probe per id, nothing more for fresh ids), the batch is
planned in Python (object_writes), then one INSERT ... SELECT FROM json_each
adds the new rows, one UPDATE by rowid moves the first/last flags of versions
the batch superseded, and two updates advance the clock and the count.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import orjson

from steppe.stix.timestamps import now_micros
from steppe.store.port.objects import (
    ALL_VERSIONS,
    JoinedBodies,
    ObjectPage,
    ObjectQuery,
    ObjectStore,
    ObjectVersion,
    PutOutcome,
    VersionFilter,
)
from steppe.store.sqlite.database import Database
from steppe.store.sqlite.object_pages import (
    filter_spec_versions,
    filter_versions,
    joined_statement,
    json_list,
    page_statement,
    read_joined,
    read_page,
    threshold,
)
from steppe.store.sqlite.object_writes import (
    ROW_FIELDS,
    StoredRow,
    id_key,
    id_keys,
    plan_batch,
)

# The clock, and the stored versions of the batch's ids as one JSON array. The
# batch's keys drive the join: one index probe per id, and a table read only
# for the ids the collection already holds.
_STORED = """
SELECT
    (SELECT value FROM clock WHERE name = 'date_added'),
    (
        SELECT json_group_array(json_array(o.id, o.version, o.date_added, o.unversioned))
        FROM json_each(:keys) AS j
        CROSS JOIN objects AS o INDEXED BY objects_by_id
        WHERE o.cid = :cid AND o.id_key = j.value
    )
"""
# Each element of :rows is one new row's ROW_FIELDS; its body is the slice
# body_start, body_length of :bodies (substr of a BLOB is a BLOB, byte for byte).
# :base is added to date_added (and to the version of an unversioned object,
# which is its date_added): 0 for rows planned with their final values.
# json_each renders an element's text anew each time its value is read, so the
# elements are materialized once first: a third faster than reading
# json_each's value once per column.
_FIELD = {name: f"new.row ->> {index}" for index, name in enumerate(ROW_FIELDS)}
_INSERT = f"""
WITH new (row) AS MATERIALIZED (SELECT value FROM json_each(:rows))
INSERT INTO objects (
    date_added, cid, id_key, id, version, type, spec_version, tlp,
    is_first, is_last, unversioned, body, valid_until, revoked
)
SELECT
    :base + {_FIELD["date_added"]}, :cid, {_FIELD["id_key"]}, {_FIELD["id"]},
    CASE WHEN {_FIELD["unversioned"]} THEN :base + {_FIELD["date_added"]}
         ELSE {_FIELD["version"]} END,
    {_FIELD["type"]}, {_FIELD["spec_version"]}, {_FIELD["tlp"]}, {_FIELD["is_first"]},
    {_FIELD["is_last"]}, {_FIELD["unversioned"]},
    substr(:bodies, {_FIELD["body_start"]}, {_FIELD["body_length"]}),
    {_FIELD["valid_until"]}, {_FIELD["revoked"]}
FROM new
"""
# Stored versions that stop being the first or the last of their id, by rowid.
_CLEAR_ENDS = """
UPDATE objects
SET is_first = CASE WHEN date_added IN (SELECT value FROM json_each(:first)) THEN 0
                    ELSE is_first END,
    is_last = CASE WHEN date_added IN (SELECT value FROM json_each(:last)) THEN 0
                   ELSE is_last END
WHERE date_added IN (
    SELECT value FROM json_each(:first) UNION SELECT value FROM json_each(:last)
)
"""
_RESET_ENDS = """
WITH versions AS (
    SELECT version FROM objects INDEXED BY objects_by_id
    WHERE cid = :cid AND id_key = :key AND id = :id
)
UPDATE objects
SET is_first = (version = (SELECT min(version) FROM versions)),
    is_last = (version = (SELECT max(version) FROM versions))
WHERE cid = :cid AND id_key = :key AND id = :id
"""


class SqliteObjects(ObjectStore):
    """ObjectStore methods; mixed into SqliteStore."""

    _db: Database

    def _init_objects(self) -> None:
        # collection id -> its small integer key (never changes once committed).
        self._cids: dict[str, int] = {}

    def _cid(self, conn: sqlite3.Connection, collection_id: str) -> int | None:
        cid = self._cids.get(collection_id)
        if cid is None:
            row = conn.execute(
                "SELECT cid FROM object_collections WHERE collection = ?", (collection_id,)
            ).fetchone()
            if row is None:
                return None
            cid = self._cids[collection_id] = row[0]
        return cid

    # -- writes ----------------------------------------------------------

    def put_objects(self, collection_id: str, objects: Sequence[ObjectVersion]) -> list[PutOutcome]:
        if not objects:
            return []
        keys = id_keys(obj.id for obj in objects)
        # Planned before the write lock, against the versions stored now, with
        # date_added counted from 0: only SQL runs while the lock is held (the
        # other writers, of this process and of the worker processes, wait for
        # it). Inside the lock the stored versions are read again; only if a
        # concurrent writer changed them is the batch planned again. A batch of
        # duplicates only is answered from the read alone, as of that read.
        conn = self._db.connection()
        known_cid = self._cid(conn, collection_id)
        seen = _stored_versions(conn, known_cid, keys) if known_cid is not None else {}
        plan = plan_batch(objects, keys, seen, 0)
        if not plan.rows:  # duplicates of what the read saw, all of them: nothing to write
            return plan.outcomes
        rows, bodies = orjson.dumps(plan.rows).decode(), b"".join(plan.bodies)
        with self._db.write() as conn:
            cid = self._cid(conn, collection_id)
            if cid is None:
                cid = conn.execute(
                    "INSERT INTO object_collections (collection) VALUES (?) RETURNING cid",
                    (collection_id,),
                ).fetchone()[0]
            clock, stored = _clock_and_stored_versions(conn, cid, keys)
            base = max(now_micros(), clock + 1)
            offset = base  # what the plan's dates count from
            if stored != seen or plan.needs_final_dates:
                plan = plan_batch(objects, keys, stored, 0)
                if plan.needs_final_dates:
                    plan, offset = plan_batch(objects, keys, stored, base), 0
                rows, bodies = orjson.dumps(plan.rows).decode(), b"".join(plan.bodies)
            if plan.rows:
                if plan.clear_first or plan.clear_last:
                    conn.execute(
                        _CLEAR_ENDS,
                        {"first": json_list(plan.clear_first), "last": json_list(plan.clear_last)},
                    )
                conn.execute(
                    _INSERT,
                    {"cid": cid, "base": offset, "rows": rows, "bodies": bodies},
                )
                conn.execute(
                    "UPDATE clock SET value = ? WHERE name = 'date_added'",
                    (offset + plan.last_added,),
                )
                conn.execute(
                    "UPDATE object_collections SET versions = versions + ? WHERE cid = ?",
                    (len(plan.rows), cid),
                )
        # Cached only once committed: a rolled-back first write leaves no collection key.
        self._cids.setdefault(collection_id, cid)
        return plan.outcomes_from(offset)

    def delete_object(
        self,
        collection_id: str,
        object_id: str,
        versions: VersionFilter = ALL_VERSIONS,
        spec_versions: frozenset[str] | None = None,
    ) -> int:
        with self._db.write() as conn:
            cid = self._cid(conn, collection_id)
            if cid is None:
                return 0
            key = id_key(object_id)
            where = ["cid = ?", "id_key = ?", "id = ?"]
            params: list[object] = [cid, key, object_id]
            filter_versions(versions, where, params)
            filter_spec_versions(spec_versions, where, params)
            deleted = conn.execute(
                f"DELETE FROM objects INDEXED BY objects_by_id WHERE {' AND '.join(where)}",
                params,
            ).rowcount
            if deleted:
                conn.execute(_RESET_ENDS, {"cid": cid, "key": key, "id": object_id})
                conn.execute(
                    "UPDATE object_collections SET versions = versions - ? WHERE cid = ?",
                    (deleted, cid),
                )
        return deleted

    # -- reads -----------------------------------------------------------

    def list_objects(self, collection_id: str, query: ObjectQuery) -> ObjectPage:
        if query.limit < 1:
            raise ValueError("an object query's limit must be at least 1")
        conn = self._db.connection()
        cid = self._cid(conn, collection_id)
        if cid is None:
            return ObjectPage.empty(query)
        # One statement: it sees one committed state, no transaction needed.
        if query.joined and query.with_body:
            fetched, added, bodies, newest = conn.execute(*joined_statement(cid, query)).fetchone()
            read = read_joined(fetched, added, bodies)
            if read is not None:
                joined, more = read
                return ObjectPage(
                    [], more, _position(query, more, joined.last_added, newest), joined
                )
        records_json, bodies, cut, newest = conn.execute(*page_statement(cid, query)).fetchone()
        records, more = read_page(records_json, bodies, cut, query)
        last = records[-1].date_added if records else None
        if query.joined and query.with_body:  # SQLite joined out of order: join here
            joined = JoinedBodies(
                b",".join(r.body or b"" for r in records),
                len(records),
                records[0].date_added if records else None,
                last,
            )
            return ObjectPage([], more, _position(query, more, last, newest), joined)
        return ObjectPage(records, more, _position(query, more, last, newest))

    def count_objects(self, collection_id: str) -> int:
        row = (
            self._db.connection()
            .execute(
                "SELECT versions FROM object_collections WHERE collection = ?", (collection_id,)
            )
            .fetchone()
        )
        return 0 if row is None else int(row[0])


def _position(query: ObjectQuery, more: bool, last: int | None, newest: int | None) -> int | None:
    """Where the next page starts: after the page's last record while more remain;
    otherwise after the collection's newest row (every row past the threshold
    was examined and nothing else matched, so continuing from there misses nothing)."""
    if more:
        return last
    start = threshold(query)
    if newest is None or (start is not None and newest <= start):
        return last
    return newest


def _stored_versions(
    conn: sqlite3.Connection, cid: int, keys: dict[str, int]
) -> dict[str, list[StoredRow]]:
    """The collection's stored versions of the batch's ids, as of now."""
    return _clock_and_stored_versions(conn, cid, keys)[1]


def _clock_and_stored_versions(
    conn: sqlite3.Connection, cid: int, keys: dict[str, int]
) -> tuple[int, dict[str, list[StoredRow]]]:
    """The date_added clock, and the collection's stored versions of the batch's ids."""
    clock, found = conn.execute(
        _STORED, {"cid": cid, "keys": json_list(list(keys.values()))}
    ).fetchone()
    stored: dict[str, list[StoredRow]] = {}
    for oid, version, added, unversioned in orjson.loads(found):
        if oid in keys:  # not another id sharing the key
            stored.setdefault(oid, []).append(StoredRow(version, added, bool(unversioned)))
    return clock, stored
