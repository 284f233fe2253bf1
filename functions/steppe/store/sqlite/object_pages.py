"""Reading a page of objects: one SELECT with every filter in its WHERE clause.

Each query walks an index that is already in date_added order (the rowid ends
every index entry), so SQLite stops after limit + 1 matches and the cost of a
page does not depend on how many objects the collection holds.
"""

from __future__ import annotations

import sqlite3

import orjson

from steppe.store.port import ObjectQuery, StoredObject, VersionFilter
from steppe.store.sqlite.object_writes import id_key

# Beyond this many types, one scan testing the type beats one index walk per type.
MAX_TYPE_WALKS = 16
_COLUMNS = "date_added, id, type, version, spec_version, tlp"


def json_list(values: object) -> str:
    """A JSON array for json_each(): one bound parameter, however many values."""
    return orjson.dumps(values).decode()


def threshold(query: ObjectQuery) -> int | None:
    """The date_added a page starts after: the later of added_after and after."""
    marks = [mark for mark in (query.added_after, query.after) if mark is not None]
    return max(marks) if marks else None


def filter_versions(versions: VersionFilter, where: list[str], params: list[object]) -> None:
    if versions.all:
        return
    alternatives = []
    if versions.first:
        alternatives.append("is_first = 1")
    if versions.last:
        alternatives.append("is_last = 1")
    if versions.exact:
        alternatives.append("version IN (SELECT value FROM json_each(?))")
        params.append(json_list(sorted(versions.exact)))
    where.append(f"({' OR '.join(alternatives)})")


def filter_spec_versions(
    spec_versions: frozenset[str] | None, where: list[str], params: list[object]
) -> None:
    if spec_versions is not None:
        where.append("spec_version IN (SELECT value FROM json_each(?))")
        params.append(json_list(sorted(spec_versions)))


def filter_ids(ids: frozenset[str], where: list[str], params: list[object]) -> None:
    """Match ids through the id index (hash) and confirm the id text."""
    ordered = sorted(ids)
    where.append("id_key IN (SELECT value FROM json_each(?))")
    params.append(json_list([id_key(oid) for oid in ordered]))
    where.append("id IN (SELECT value FROM json_each(?))")
    params.append(json_list(ordered))


def _row_filters(query: ObjectQuery, where: list[str], params: list[object]) -> None:
    filter_versions(query.versions, where, params)
    filter_spec_versions(query.spec_versions, where, params)
    if query.max_tlp is not None:
        where.append("tlp <= ?")
        params.append(query.max_tlp)


def page_sql(cid: int, query: ObjectQuery) -> tuple[str, list[object]]:
    """The page's SELECT and its parameters.

    ids: the id index; only those ids' versions are read, then sorted.
    up to MAX_TYPE_WALKS types: one (cid, type) index walk per type, each in
      date_added order and stopped after limit + 1 matches, merged by date_added.
    otherwise: the (cid) index, in date_added order.
    """
    columns = _COLUMNS + (", body" if query.with_body else "")
    fetch = query.limit + 1  # one more than the page, to know whether more remain
    where = ["cid = ?"]
    params: list[object] = [cid]
    start = threshold(query)
    if start is not None:
        where.append("date_added > ?")
        params.append(start)

    if query.ids is not None:
        filter_ids(query.ids, where, params)
        if query.types is not None:
            where.append("type IN (SELECT value FROM json_each(?))")
            params.append(json_list(sorted(query.types)))
        _row_filters(query, where, params)
        sql = (
            f"SELECT {columns} FROM objects INDEXED BY objects_by_id "
            f"WHERE {' AND '.join(where)} ORDER BY date_added LIMIT ?"
        )
        return sql, [*params, fetch]

    if query.types is not None and len(query.types) <= MAX_TYPE_WALKS:
        _row_filters(query, where, params)
        walk = (
            "SELECT date_added FROM objects INDEXED BY objects_by_type "
            f"WHERE {' AND '.join(where)} AND type = ? ORDER BY date_added LIMIT ?"
        )
        walks = []
        walk_params: list[object] = []
        for type_name in sorted(query.types):
            walks.append(f"SELECT date_added FROM ({walk})")
            walk_params.extend([*params, type_name, fetch])
        sql = (
            f"SELECT {columns} FROM objects WHERE date_added IN ({' UNION ALL '.join(walks)}) "
            "ORDER BY date_added LIMIT ?"
        )
        return sql, [*walk_params, fetch]

    if query.types is not None:
        where.append("type IN (SELECT value FROM json_each(?))")
        params.append(json_list(sorted(query.types)))
    _row_filters(query, where, params)
    sql = (
        f"SELECT {columns} FROM objects INDEXED BY objects_by_added "
        f"WHERE {' AND '.join(where)} ORDER BY date_added LIMIT ?"
    )
    return sql, [*params, fetch]


def read_page(cursor: sqlite3.Cursor, query: ObjectQuery) -> tuple[list[StoredObject], bool]:
    """Up to limit records, stopping before the bodies exceed max_bytes; and whether more match.

    Rows are pulled one at a time, so rows past the cut are never read.
    """
    records: list[StoredObject] = []
    limit = query.limit
    if not query.with_body:
        for added, oid, type_name, version, spec_version, tlp in cursor:
            if len(records) == limit:
                return records, True
            records.append(StoredObject(oid, type_name, version, spec_version, tlp, added, None))
        return records, False
    budget = query.max_bytes
    size = 0
    for added, oid, type_name, version, spec_version, tlp, body in cursor:
        if len(records) == limit:
            return records, True
        if budget is not None:
            size += len(body)
            if size > budget and records:
                return records, True
        records.append(StoredObject(oid, type_name, version, spec_version, tlp, added, body))
    return records, False
