"""Reading a page of objects: one SQL statement, one sqlite3 step.

The page's rows come from one SELECT with every filter in its WHERE clause.
Each such SELECT walks an index that is already in date_added order (the
rowid ends every index entry), so SQLite stops after limit + 1 matches and the
cost of a page does not depend on how many objects the collection holds.

That SELECT is wrapped in aggregates, so the whole page comes back as a single
row: the records' columns as one JSON array and their bodies concatenated in
one BLOB, sliced apart here. Python's sqlite3 releases the GIL around every
step and each row fetched is one step; while another thread of the process
computes, each re-acquisition can wait for the interpreter's switch interval
(5 ms), so a page fetched row by row collapses while a single step does not.

max_bytes is applied in the statement: when the fetched rows' bodies do not
all fit, a running total over the fetched rows (never more than limit + 1)
finds the last one that does, and only the bodies up to it are read.
"""

from __future__ import annotations

from itertools import pairwise
from operator import attrgetter

import orjson

from steppe.store.port.objects import JoinedBodies, ObjectQuery, StoredObject, VersionFilter
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
    if query.active_at is not None:  # steppe.stix.validity.is_active
        where.append("revoked = 0 AND (valid_until IS NULL OR valid_until > ?)")
        params.append(query.active_at)


def page_sql(
    cid: int, query: ObjectQuery, bodies: bool = False, *, sizes_only: bool = False
) -> tuple[str, list[object]]:
    """The SELECT of the page's rows (up to limit + 1, in date_added order) and its parameters.

    Its columns are date_added, id, type, version, spec_version, tlp and, when
    the query wants bodies, size (the body's length: SQLite reads a BLOB's
    length without reading the BLOB), then body itself if `bodies`.
    sizes_only: date_added and size alone (what a joined page chooses its rows by).

    ids: the id index; only those ids' versions are read, then sorted.
    up to MAX_TYPE_WALKS types: one (cid, type) index walk per type, each in
      date_added order and stopped after limit + 1 matches, merged by date_added.
    otherwise: the (cid) index, in date_added order.
    """
    columns = _COLUMNS
    if query.with_body:
        columns += ", length(body) AS size, body" if bodies else ", length(body) AS size"
    if sizes_only:
        columns = "date_added, length(body) AS size"
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


# The collection's newest date_added: where a page that examined every row may resume.
_NEWEST = "(SELECT max(date_added) FROM objects INDEXED BY objects_by_added WHERE cid = ?)"
_BODY = "(SELECT body FROM objects AS stored WHERE stored.date_added = page.date_added)"
_METADATA = "json_array(date_added, id, type, version, spec_version, tlp{size})"
# The last fetched row whose body still fits: all of them when their bodies fit
# together, else the last one at which the running total is within max_bytes
# (at least the first row). The window (and its sort of at most limit + 1 rows)
# only runs for a page that max_bytes cuts.
_CUT = """
SELECT CASE
    WHEN (SELECT sum(size) FROM page) <= ? THEN (SELECT max(date_added) FROM page)
    ELSE (
        SELECT max(date_added) FROM (
            SELECT date_added, row_number() OVER running AS n, sum(size) OVER running AS total
            FROM page WINDOW running AS (ORDER BY date_added ROWS UNBOUNDED PRECEDING)
        )
        WHERE n = 1 OR total <= ?
    )
END AS last
"""


def page_statement(cid: int, query: ObjectQuery) -> tuple[str, list[object]]:
    """The one statement that reads a page, and its parameters.

    It returns one row: (records, bodies, cut, newest). records is a JSON array
    with one [date_added, id, type, version, spec_version, tlp(, size)] per
    fetched row; bodies is the BLOB of the bodies of the rows with date_added
    <= cut (every row when cut is NULL), in the same order; newest is the
    collection's newest date_added.
    """
    if not query.with_body:
        page, params = page_sql(cid, query)
        sql = (
            f"SELECT json_group_array({_METADATA.format(size='')}), NULL, NULL, {_NEWEST} "
            f"FROM ({page}) AS page"
        )
        return sql, [cid, *params]
    records = f"json_group_array({_METADATA.format(size=', size')})"
    separator = "''"
    if query.max_bytes is None:
        page, params = page_sql(cid, query, bodies=True)
        sql = (
            f"SELECT {records}, CAST(group_concat(body, {separator}) AS BLOB), NULL, {_NEWEST} "
            f"FROM ({page}) AS page"
        )
        return sql, [cid, *params]
    # page is named twice below, so SQLite materializes it (the index walk runs
    # once), without the bodies: they are read by rowid, only up to the cut.
    page, params = page_sql(cid, query)
    sql = (
        f"WITH page AS MATERIALIZED ({page}), cut AS ({_CUT}) "
        f"SELECT {records}, "
        f"CAST(group_concat(CASE WHEN date_added <= (SELECT last FROM cut) THEN {_BODY} END, "
        f"{separator}) AS BLOB), (SELECT last FROM cut), {_NEWEST} FROM page"
    )
    return sql, [*params, query.max_bytes, query.max_bytes, cid]


_DATE_ADDED = attrgetter("date_added")


def read_page(
    records_json: str, bodies: bytes | None, cut: int | None, query: ObjectQuery
) -> tuple[list[StoredObject], bool]:
    """The page's records (at most limit, in date_added order) and whether more match.

    The arguments are the first three columns of page_statement's row.
    """
    rows = orjson.loads(records_json)
    records: list[StoredObject] = []
    if not query.with_body:
        for added, oid, type_name, version, spec_version, tlp in rows:
            records.append(StoredObject(oid, type_name, version, spec_version, tlp, added, None))
    else:
        # Bodies follow the order in which the aggregates saw the rows, the
        # same for both; they are matched to records in that order.
        blob = bodies or b""
        start = 0
        for added, oid, type_name, version, spec_version, tlp, size in rows:
            if cut is not None and added > cut:
                continue
            end = start + size
            records.append(
                StoredObject(oid, type_name, version, spec_version, tlp, added, blob[start:end])
            )
            start = end
    # SQLite does not promise the order in which an aggregate sees rows (in
    # practice it is the subquery's date_added order, and this sort is one pass).
    records.sort(key=_DATE_ADDED)
    more = len(records) > query.limit or len(records) < len(rows)
    del records[query.limit :]
    return records, more


# A joined page: the rows the page would hold (at most limit; stopping before
# max_bytes, at least one) are chosen from the fetched ones by a running total,
# then their bodies are read by rowid and joined by commas in the same pass
# that lists their date_added (so the order of both can be checked).
_JOINED = """
WITH page AS MATERIALIZED ({page}),
numbered AS (
    SELECT date_added, row_number() OVER running AS n, sum(size) OVER running AS total
    FROM page WINDOW running AS (ORDER BY date_added ROWS UNBOUNDED PRECEDING)
),
chosen AS (
    SELECT date_added FROM numbered
    WHERE n <= :limit AND (n = 1 OR :max_bytes IS NULL OR total <= :max_bytes)
    ORDER BY date_added
)
SELECT
    (SELECT count(*) FROM page),
    json_group_array(chosen.date_added),
    CAST(group_concat(stored.body, ',') AS BLOB),
    {newest}
FROM chosen CROSS JOIN objects AS stored ON stored.date_added = chosen.date_added
"""


def joined_statement(cid: int, query: ObjectQuery) -> tuple[str, dict[str, object]]:
    """The one statement that reads a joined page; its row is (fetched, added, bodies, newest).

    fetched: how many rows matched (up to limit + 1); added: a JSON array of
    the chosen rows' date_added, in the order their bodies were joined.
    """
    # The materialized page is sorted twice (the running total, the chosen rows):
    # carrying only the two columns they use keeps it small.
    page, params = page_sql(cid, query, sizes_only=True)
    named = {f"p{index}": value for index, value in enumerate(params)}
    page = _to_named(page, len(params))
    sql = _JOINED.format(page=page, newest=_NEWEST.replace("?", ":cid"))
    return sql, {**named, "cid": cid, "limit": query.limit, "max_bytes": query.max_bytes}


def _to_named(sql: str, count: int) -> str:
    """page_sql's positional parameters as :p0, :p1... (one statement cannot mix both)."""
    parts = sql.split("?")
    if len(parts) != count + 1:
        raise ValueError("unexpected parameter count in a page statement")
    return "".join(
        part + (f":p{index}" if index < count else "") for index, part in enumerate(parts)
    )


def read_joined(
    fetched: int, added_json: str, bodies: bytes | None
) -> tuple[JoinedBodies, bool] | None:
    """The joined page and whether more match; None if SQLite joined out of order."""
    added = orjson.loads(added_json)
    if any(later <= earlier for earlier, later in pairwise(added)):
        return None
    joined = JoinedBodies(
        bodies or b"", len(added), added[0] if added else None, added[-1] if added else None
    )
    return joined, fetched > len(added)
