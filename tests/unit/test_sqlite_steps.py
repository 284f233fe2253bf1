"""The embedded store's hot paths take a fixed number of sqlite3 steps, whatever the row count.

Python's sqlite3 releases the GIL around every step, and executemany or a
cursor takes one step per row: while another thread computes, each step can
wait for the GIL for up to the switch interval. These tests trace the SQL each
call executes (set_trace_callback sees every execution, including each row of
an executemany) and prove, without timing anything, that a call runs the same
statements for 10 rows as for 2,000, and that each of them is one step: a
write without RETURNING finishes in one step, and a read returns at most one
row (re-run here to count its rows).
"""

from __future__ import annotations

from collections.abc import Callable

import orjson
import pytest

from steppe.stix.timestamps import now_micros
from steppe.store.port import (
    AuditRecord,
    ChunkResult,
    ObjectQuery,
    ObjectVersion,
    StatusPart,
    StatusRecord,
    Submission,
)
from steppe.store.sqlite import SqliteStore, object_pages

COLLECTION = "5d0b2a58-9f0e-4d47-bb8e-3c1a6f2e9d10"
DAY = 1_232_236_800_000_000  # 2009-01-18T00:00:00Z
SMALL, LARGE = 10, 2_000


@pytest.fixture
def store(tmp_path):
    opened = SqliteStore(tmp_path)
    # The first write to a collection also creates its key: not the steady state measured here.
    opened.put_objects(COLLECTION, [WARM_UP])
    yield opened
    opened.close()


def indicator(oid: str, modified: int) -> ObjectVersion:
    body = {"type": "indicator", "spec_version": "2.1", "id": oid, "modified": modified}
    return ObjectVersion(oid, "indicator", modified, "2.1", 1, orjson.dumps(body))


WARM_UP = indicator("indicator--warm-up", DAY)


def fresh(prefix: str, count: int) -> list[ObjectVersion]:
    return [indicator(f"indicator--{prefix}-{n}", DAY + n) for n in range(count)]


def kind(sql: str) -> str:
    """What a statement does: SELECT, INSERT, UPDATE, BEGIN IMMEDIATE, COMMIT..."""
    first, *rest = sql.split(None, 2)
    verb = first.upper()
    if verb == "WITH":  # common table expressions ahead of the verb
        return "INSERT" if "INSERT INTO" in sql else "SELECT"
    if verb == "BEGIN":
        return " ".join([verb, *rest[:1]]).upper()
    return verb


def traced(store: SqliteStore, call: Callable[[], object]) -> list[str]:
    """The SQL statements `call` executes on this thread's connection, with their values."""
    conn = store.database.connection()
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        call()
    finally:
        conn.set_trace_callback(None)
    return statements


def assert_single_steps(store: SqliteStore, statements: list[str]) -> None:
    conn = store.database.connection()
    for sql in statements:
        if kind(sql) == "SELECT":
            rows = conn.execute(sql).fetchmany(2)
            assert len(rows) <= 1, f"a read that returns rows one step each: {sql[:200]}"
        else:
            assert "RETURNING" not in sql.upper(), sql[:200]


def assert_same_statements(store, small_call, large_call) -> list[str]:
    """Both calls run the same statements, each one step; returns their kinds."""
    small, large = traced(store, small_call), traced(store, large_call)
    assert [kind(sql) for sql in small] == [kind(sql) for sql in large]
    assert_single_steps(store, small)
    assert_single_steps(store, large)
    return [kind(sql) for sql in large]


def test_a_batch_of_new_objects_is_six_statements_whatever_its_size(store):
    kinds = assert_same_statements(
        store,
        lambda: store.put_objects(COLLECTION, fresh("small", SMALL)),
        lambda: store.put_objects(COLLECTION, fresh("large", LARGE)),
    )
    # The read the batch is planned against, before the write lock; then the write.
    assert kinds == [
        "SELECT",
        "BEGIN IMMEDIATE",
        "SELECT",
        "INSERT",
        "UPDATE",
        "UPDATE",
        "COMMIT",
    ]
    assert store.count_objects(COLLECTION) == 1 + SMALL + LARGE


def test_new_versions_of_stored_objects_add_one_statement_for_the_flags(store):
    small, large = fresh("small", SMALL), fresh("large", LARGE)
    store.put_objects(COLLECTION, small + large)

    def newer(batch):
        return [indicator(v.id, v.version + 1_000_000) for v in batch]

    kinds = assert_same_statements(
        store,
        lambda: store.put_objects(COLLECTION, newer(small)),
        lambda: store.put_objects(COLLECTION, newer(large)),
    )
    assert kinds == [
        "SELECT",
        "BEGIN IMMEDIATE",
        "SELECT",
        "UPDATE",  # first/last flags of the superseded versions
        "INSERT",
        "UPDATE",
        "UPDATE",
        "COMMIT",
    ]
    page = store.list_objects(COLLECTION, ObjectQuery(limit=10_000, with_body=False))
    assert len(page.records) == 1 + SMALL + LARGE
    assert all(r.version > DAY + 999_999 for r in page.records if "warm-up" not in r.id)


def test_duplicates_only_is_one_read_and_nothing_else(store):
    small, large = fresh("small", SMALL), fresh("large", LARGE)
    store.put_objects(COLLECTION, small + large)
    kinds = assert_same_statements(
        store,
        lambda: store.put_objects(COLLECTION, small),
        lambda: store.put_objects(COLLECTION, large),
    )
    assert kinds == ["SELECT"]  # no write transaction at all


@pytest.mark.parametrize(
    "query",
    [
        {"with_body": False},
        {},
        {"max_bytes": 10_000_000},  # everything fits
        {"max_bytes": 20_000},  # the bytes end the page before the limit does
        {"types": frozenset({"indicator", "malware"})},
        {"ids": "each"},
    ],
    ids=["manifest", "bodies", "max-bytes-fits", "max-bytes-cuts", "types", "ids"],
)
def test_a_page_is_one_statement_whatever_its_size(store, query):
    batch = fresh("page", LARGE + 1)
    store.put_objects(COLLECTION, batch)
    if query.get("ids") == "each":
        query = {"ids": frozenset(v.id for v in batch)}
    pages = {}

    def read(limit):
        pages[limit] = store.list_objects(COLLECTION, ObjectQuery(limit=limit, **query))

    kinds = assert_same_statements(store, lambda: read(SMALL), lambda: read(LARGE))
    assert kinds == ["SELECT"]
    assert pages[SMALL].more and pages[LARGE].more
    assert len(pages[SMALL].records) == SMALL
    if query.get("max_bytes") == 20_000:
        # The longest run of stored bodies (warm-up first) whose total stays within it.
        total, fitting = 0, 0
        for body in [WARM_UP.body, *(v.body for v in batch)]:
            total += len(body)
            if total > 20_000:
                break
            fitting += 1
        assert 1 < fitting < LARGE  # the case really is cut by bytes, not by the limit
        assert len(pages[LARGE].records) == fitting
    else:
        assert len(pages[LARGE].records) == LARGE


def test_submission_reads_are_one_statement_whatever_the_chunk_count(store):
    for sid, chunks in (("few", 2), ("many", 60)):
        store.create_submission(Submission(sid, COLLECTION, "analyst", 1, chunks, chunks))
        for n in range(chunks):
            pairs = tuple((f"indicator--{sid}-{n}-{k}", "created") for k in range(3))
            store.record_chunk(sid, ChunkResult(n, {"created": 3}, pairs))
    for with_objects in (True, False):
        kinds = assert_same_statements(
            store,
            lambda w=with_objects: store.chunk_results("few", with_objects=w),
            lambda w=with_objects: store.chunk_results("many", with_objects=w),
        )
        assert kinds == ["SELECT"]
    kinds = assert_same_statements(
        store, lambda: store.list_submissions(limit=1), lambda: store.list_submissions()
    )
    assert kinds == ["SELECT"]


def test_bodies_are_kept_byte_for_byte_even_when_not_text(store):
    """Bodies travel concatenated in one BLOB each way: NULs, invalid UTF-8 and empty survive."""
    bodies = [b"\x00", b"", b"\xff\xfe\x00{", b'{"a":"\xd0\x91"}', b"", b"\x00" * 3]
    batch = [
        ObjectVersion(f"x-raw--{n}", "x-raw", DAY, "2.1", 0, body) for n, body in enumerate(bodies)
    ]
    store.put_objects(COLLECTION, batch)
    raw = frozenset({"x-raw"})
    for query in (ObjectQuery(types=raw), ObjectQuery(types=raw, max_bytes=1_000)):
        page = store.list_objects(COLLECTION, query)
        assert [r.body for r in page.records] == bodies
        assert all(type(r.body) is bytes for r in page.records)


def test_a_page_cut_by_max_bytes_reads_no_body_past_the_cut(store):
    batch = fresh("cut", 50)
    store.put_objects(COLLECTION, batch)
    sizes = [len(v.body) for v in batch]
    # The warm-up indicator comes first, then the batch: room for nearly four bodies.
    query = ObjectQuery(max_bytes=len(WARM_UP.body) + sizes[0] + sizes[1] + sizes[2] - 1)
    page = store.list_objects(COLLECTION, query)
    assert [r.id for r in page.records[1:]] == [v.id for v in batch[:2]]
    assert page.more
    conn = store.database.connection()
    [cid] = conn.execute("SELECT cid FROM object_collections").fetchone()
    records, bodies, cut, _ = conn.execute(*object_pages.page_statement(cid, query)).fetchone()
    assert len(orjson.loads(records)) == 51  # every matching row's metadata (limit is 1,000)
    assert len(bodies) == sum(len(r.body) for r in page.records)  # but only the page's bodies
    assert cut == page.records[-1].date_added


def test_an_audit_append_is_one_statement_and_a_listing_one_more(store):
    """The trail is written on every TAXII request: one INSERT, no BEGIN, no COMMIT."""
    now = now_micros()

    def append(n: int) -> None:
        store.append_audit(AuditRecord(now + n, f"req-{n}", "cert-kg", "GET", "/taxii2/", 200))

    assert [kind(sql) for sql in traced(store, lambda: append(0))] == ["INSERT"]
    for n in range(1, 300):
        append(n)
    for partner in (None, "cert-kg"):
        kinds = assert_same_statements(
            store,
            lambda p=partner: store.list_audit(partner=p, limit=SMALL),
            lambda p=partner: store.list_audit(partner=p, limit=300),
        )
        assert kinds == ["SELECT"]
    assert len(store.list_audit(limit=300)) == 300


def test_status_parts_are_read_in_one_statement_whatever_their_count(store):
    now = now_micros()
    for sid, parts in (("few", 2), ("many", 60)):
        store.create_status(StatusRecord(sid, "cert-kg", COLLECTION, now, parts, now + 10**10))
        for n in range(parts):
            outcomes = tuple((f"indicator--{sid}-{n}-{k}", None, None) for k in range(20))
            store.record_status_part(sid, StatusPart(n, successes=outcomes))
    kinds = assert_same_statements(
        store, lambda: store.status_parts("few"), lambda: store.status_parts("many")
    )
    assert kinds == ["SELECT"]
    assert len(store.status_parts("many")) == 60
