"""ObjectStore on SQLite: versions in, filtered pages out.

A write is one transaction: one query reads the stored versions of the
batch's ids through the id index (an index probe per id, nothing more for
fresh ids), the batch is planned in Python (object_writes), then one
executemany inserts the new rows and a few updates by rowid move the
first/last flags.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from steppe.stix.timestamps import now_micros
from steppe.store.port import (
    ALL_VERSIONS,
    ObjectPage,
    ObjectQuery,
    ObjectVersion,
    PutOutcome,
    VersionFilter,
)
from steppe.store.sqlite.database import Database
from steppe.store.sqlite.object_pages import (
    filter_spec_versions,
    filter_versions,
    json_list,
    page_sql,
    read_page,
    threshold,
)
from steppe.store.sqlite.object_writes import (
    INSERT_COLUMNS,
    StoredRow,
    id_key,
    id_keys,
    plan_batch,
)

# The batch's keys drive the join: one index probe per id, and a table read
# only for the ids the collection already holds.
_STORED = """
SELECT o.id, o.version, o.date_added, o.unversioned
FROM json_each(:keys) AS j
CROSS JOIN objects AS o INDEXED BY objects_by_id
WHERE o.cid = :cid AND o.id_key = j.value
"""
_INSERT = f"INSERT INTO objects ({INSERT_COLUMNS}) VALUES ({', '.join('?' * 12)})"
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
_NEWEST = "SELECT max(date_added) FROM objects INDEXED BY objects_by_added WHERE cid = ?"


class SqliteObjects:
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
        with self._db.write() as conn:
            cid = self._cid(conn, collection_id)
            if cid is None:
                cid = conn.execute(
                    "INSERT INTO object_collections (collection) VALUES (?) RETURNING cid",
                    (collection_id,),
                ).fetchone()[0]
            stored = _stored_versions(conn, cid, keys)
            clock = conn.execute("SELECT value FROM clock WHERE name = 'date_added'").fetchone()[0]
            plan = plan_batch(cid, objects, keys, stored, max(now_micros(), clock + 1))
            if plan.rows:
                if plan.clear_first:
                    conn.executemany(
                        "UPDATE objects SET is_first = 0 WHERE date_added = ?",
                        [(added,) for added in plan.clear_first],
                    )
                if plan.clear_last:
                    conn.executemany(
                        "UPDATE objects SET is_last = 0 WHERE date_added = ?",
                        [(added,) for added in plan.clear_last],
                    )
                conn.executemany(_INSERT, plan.rows)
                conn.execute(
                    "UPDATE clock SET value = ? WHERE name = 'date_added'", (plan.last_added,)
                )
                conn.execute(
                    "UPDATE object_collections SET versions = versions + ? WHERE cid = ?",
                    (len(plan.rows), cid),
                )
        # Cached only once committed: a rolled-back first write leaves no collection key.
        self._cids.setdefault(collection_id, cid)
        return plan.outcomes

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
        cid = self._cid(self._db.connection(), collection_id)
        if cid is None:
            return ObjectPage(records=[], more=False, last_position=None)
        sql, params = page_sql(cid, query)
        with self._db.snapshot() as conn:
            cursor = conn.execute(sql, params)
            try:
                records, more = read_page(cursor, query)
            finally:
                cursor.close()
            if more:
                return ObjectPage(records, True, records[-1].date_added)
            # Every row after the threshold was examined and nothing else
            # matched: continuing after the collection's newest row misses nothing.
            newest = conn.execute(_NEWEST, (cid,)).fetchone()[0]
        start = threshold(query)
        if newest is None or (start is not None and newest <= start):
            return ObjectPage(records, False, records[-1].date_added if records else None)
        return ObjectPage(records, False, newest)

    def count_objects(self, collection_id: str) -> int:
        row = (
            self._db.connection()
            .execute(
                "SELECT versions FROM object_collections WHERE collection = ?", (collection_id,)
            )
            .fetchone()
        )
        return 0 if row is None else int(row[0])


def _stored_versions(
    conn: sqlite3.Connection, cid: int, keys: dict[str, int]
) -> dict[str, list[StoredRow]]:
    """The stored versions of the batch's ids that the collection holds."""
    stored: dict[str, list[StoredRow]] = {}
    for oid, version, added, unversioned in conn.execute(
        _STORED, {"cid": cid, "keys": json_list(list(keys.values()))}
    ):
        if oid in keys:  # not another id sharing the key
            stored.setdefault(oid, []).append(StoredRow(version, added, bool(unversioned)))
    return stored
