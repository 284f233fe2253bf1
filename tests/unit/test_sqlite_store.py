"""The embedded store beyond the contract: the file, its schema, reopening, query plans."""

from __future__ import annotations

import sqlite3
import stat
import threading

import orjson
import pytest

from steppe.config import Settings
from steppe.stix.timestamps import now_micros
from steppe.store.port import (
    ALL_VERSIONS,
    ApiRoot,
    AuditRecord,
    ChunkResult,
    Collection,
    ObjectQuery,
    ObjectVersion,
    Partner,
    StatusPart,
    StatusRecord,
    Submission,
    SubmissionMeta,
    VersionFilter,
)
from steppe.store.sqlite import (
    FolderBlobStore,
    SqliteIdempotencyLayer,
    SqliteJobQueue,
    SqliteStore,
    object_pages,
    object_writes,
    objects,
    open_embedded,
)
from steppe.store.sqlite import audit as sqlite_audit
from steppe.store.sqlite.schema import MIGRATIONS, SCHEMA_VERSION, SchemaTooNew

COLLECTION = "9a0c8a8e-3f5e-4c1d-8d0e-6b2f7a4c1e55"
DAY = 1_232_236_800_000_000  # 2009-01-18T00:00:00Z


def version(oid: str, modified: int | None, tlp: int = 1) -> ObjectVersion:
    body = {"type": oid.split("--")[0], "spec_version": "2.1", "id": oid}
    if modified is not None:
        body["modified"] = modified
    return ObjectVersion(oid, oid.split("--")[0], modified, "2.1", tlp, orjson.dumps(body))


def test_the_file_is_wal_with_the_current_schema(tmp_path):
    store = SqliteStore(tmp_path)
    try:
        conn = store.database.connection()
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5_000
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        store.close()
    assert (tmp_path / "steppe.db").is_file()


def test_everything_survives_reopening(tmp_path):
    store = SqliteStore(tmp_path)
    [written] = store.put_objects(COLLECTION, [version("indicator--1f0e", DAY)])
    store.put_api_root(ApiRoot("steppe", "steppe"))
    store.create_collection(Collection(id=COLLECTION, api_root="steppe", title="DDoS"))
    store.put_partner(Partner(name="cert-kg", role="partner", can_read=frozenset({COLLECTION})))
    store.add_credential("sha256:kg", "cert-kg", created=1)
    meta = SubmissionMeta.from_dict({"kind": "ddos"})
    store.create_submission(Submission("s1", COLLECTION, "analyst", 1, 1, 1, meta))
    store.record_chunk("s1", ChunkResult(0, {"created": 1}))
    store.close()

    store = SqliteStore(tmp_path)
    try:
        [stored] = store.list_objects(COLLECTION, ObjectQuery()).records
        assert (stored.id, stored.date_added) == ("indicator--1f0e", written.date_added)
        assert store.get_collection(COLLECTION).title == "DDoS"
        assert store.get_partner("cert-kg").can_read == frozenset({COLLECTION})
        assert store.find_credential("sha256:kg") == "cert-kg"
        assert store.chunk_results("s1") == [ChunkResult(0, {"created": 1})]
        [later] = store.put_objects(COLLECTION, [version("indicator--2a0b", DAY)])
        assert later.date_added > written.date_added
    finally:
        store.close()


def test_a_file_from_a_newer_steppe_is_refused(tmp_path):
    SqliteStore(tmp_path).close()
    with sqlite3.connect(tmp_path / "steppe.db") as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(SchemaTooNew, match="newer"):
        SqliteStore(tmp_path)


def test_date_added_keeps_increasing_when_the_clock_steps_back(tmp_path):
    store = SqliteStore(tmp_path)
    try:
        ahead = now_micros() + 3_600_000_000  # as if the system clock was an hour ahead
        [first] = store.put_objects(COLLECTION, [version("indicator--aa", DAY)])
        with store.database.write() as conn:
            conn.execute("UPDATE clock SET value = ? WHERE name = 'date_added'", (ahead,))
        outcomes = store.put_objects(
            COLLECTION, [version("indicator--bb", DAY), version("x--c", None)]
        )
        assert [o.date_added for o in outcomes] == [ahead + 1, ahead + 2]
        assert outcomes[1].version == ahead + 2
        assert first.date_added < ahead
    finally:
        store.close()


def run_in_thread(function):
    results = []
    thread = threading.Thread(target=lambda: results.append(function()))
    thread.start()
    thread.join()
    return results[0]


def test_each_thread_has_its_own_connection_closed_when_the_thread_ends(tmp_path):
    store = SqliteStore(tmp_path)
    try:
        mine = store.database.connection()
        finished = run_in_thread(store.database.connection)
        assert finished is not mine
        # The next thread to connect closes the connection of the thread that ended.
        run_in_thread(store.database.connection)
        with pytest.raises(sqlite3.ProgrammingError):
            finished.execute("SELECT 1")
        assert mine.execute("SELECT 1").fetchone() == (1,)
    finally:
        store.close()


def test_closing_closes_every_connection(tmp_path):
    store = SqliteStore(tmp_path)
    mine = store.database.connection()
    store.close()
    with pytest.raises(sqlite3.ProgrammingError):
        mine.execute("SELECT 1")
    with pytest.raises(sqlite3.ProgrammingError):
        store.count_objects(COLLECTION)


def test_ids_sharing_an_index_key_are_told_apart(tmp_path, monkeypatch):
    """The id index holds a hash; force every id onto one key and check nothing mixes up."""
    for module in (objects, object_pages, object_writes):
        monkeypatch.setattr(module, "id_key", lambda oid: 42)
    monkeypatch.setattr(objects, "id_keys", lambda ids: dict.fromkeys(ids, 42))
    store = SqliteStore(tmp_path)
    try:
        a, b = "indicator--aaaa", "indicator--bbbb"
        outcomes = store.put_objects(
            COLLECTION, [version(a, DAY), version(b, DAY), version(b, DAY + 1)]
        )
        assert [o.outcome for o in outcomes] == ["created", "created", "updated"]
        [dup, new] = store.put_objects(COLLECTION, [version(a, DAY), version(a, DAY - 5)])
        assert (dup.outcome, new.outcome) == ("duplicate", "updated")
        only_a = store.list_objects(
            COLLECTION, ObjectQuery(ids=frozenset({a}), versions=ALL_VERSIONS)
        ).records
        assert [(r.id, r.version) for r in only_a] == [(a, DAY), (a, DAY - 5)]
        firsts = store.list_objects(COLLECTION, ObjectQuery(versions=VersionFilter(first=True)))
        assert sorted((r.id, r.version) for r in firsts.records) == [(a, DAY - 5), (b, DAY)]
        assert store.delete_object(COLLECTION, b) == 2
        assert [r.id for r in store.list_objects(COLLECTION, ObjectQuery()).records] == [a]
    finally:
        store.close()


def plan(store, query):
    sql, params = object_pages.page_sql(1, query)
    rows = store.database.connection().execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
    return " | ".join(row[3] for row in rows)


@pytest.mark.parametrize(
    ("query", "index"),
    [
        (ObjectQuery(), "objects_by_added (cid=?)"),
        (ObjectQuery(added_after=5, max_tlp=2), "objects_by_added (cid=? AND rowid>?)"),
        (ObjectQuery(types=frozenset({"indicator"}), after=5), "objects_by_type (cid=? AND type=?"),
        (
            ObjectQuery(types=frozenset({"indicator", "ipv4-addr"}), with_body=False),
            "objects_by_type (cid=? AND type=?)",
        ),
    ],
)
def test_pages_walk_an_index_in_date_added_order(tmp_path, query, index):
    """Page cost must not grow with the collection: an ordered index walk, never a sort."""
    store = SqliteStore(tmp_path)
    try:
        store.put_objects(COLLECTION, [version("indicator--aa", DAY)])
        explained = plan(store, query)
        assert index in explained
        assert "TEMP B-TREE" not in explained
        assert "SCAN objects" not in explained
    finally:
        store.close()


@pytest.mark.parametrize(
    ("query", "index"),
    [
        (ObjectQuery(with_body=False), "objects_by_added (cid=?)"),
        (ObjectQuery(after=5), "objects_by_added (cid=? AND rowid>?)"),
        (ObjectQuery(max_bytes=1_000), "objects_by_added (cid=?)"),
        (
            ObjectQuery(types=frozenset({"indicator", "ipv4-addr"}), max_bytes=1_000),
            "objects_by_type (cid=? AND type=?)",
        ),
        (ObjectQuery(ids=frozenset({"indicator--aa"}), max_bytes=1_000), "objects_by_id (cid=?"),
    ],
)
def test_a_page_statement_reads_objects_through_indexes_only(tmp_path, query, index):
    """The statement around the walk reads bodies by rowid and sorts nothing but the page.

    With max_bytes, the running total of the fetched rows' sizes sorts those
    rows (at most limit + 1): its cost follows the page, not the collection.
    """
    store = SqliteStore(tmp_path)
    try:
        store.put_objects(COLLECTION, [version("indicator--aa", DAY)])
        sql, params = object_pages.page_statement(1, query)
        rows = store.database.connection().execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
        details = {node: detail for node, _, _, detail in rows}
        children: dict[int, list[str]] = {}
        for _, parent, _, detail in rows:
            children.setdefault(parent, []).append(detail)
        assert any(index in detail for detail in details.values())
        assert not any(d.startswith(("SCAN objects", "SCAN stored")) for d in details.values())
        if query.max_bytes is not None:  # bodies are read by rowid, up to the cut
            assert "SEARCH stored USING INTEGER PRIMARY KEY (rowid=?)" in details.values()
        for _, parent, _, detail in rows:
            if "TEMP B-TREE" in detail:
                assert "SCAN page" in children[parent] or details.get(parent) == "MATERIALIZE page"
    finally:
        store.close()


def test_id_queries_use_the_id_index(tmp_path):
    store = SqliteStore(tmp_path)
    try:
        explained = plan(
            store, ObjectQuery(ids=frozenset({"indicator--aa"}), versions=ALL_VERSIONS)
        )
        assert "objects_by_id (cid=? AND id_key=?)" in explained
        assert "SCAN objects" not in explained
    finally:
        store.close()


def test_a_write_probes_the_id_index_once_per_id(tmp_path):
    """The stored versions of a batch's ids: one index probe per id, then one table read per hit."""
    store = SqliteStore(tmp_path)
    try:
        rows = store.database.connection().execute(
            "EXPLAIN QUERY PLAN " + objects._STORED, {"cid": 1, "keys": "[1, 2]"}
        )
        explained = " | ".join(row[3] for row in rows)
        assert "SCAN j" in explained
        assert "SEARCH o USING INDEX objects_by_id (cid=? AND id_key=?)" in explained
    finally:
        store.close()


def test_superseded_versions_lose_their_flags_by_rowid(tmp_path):
    store = SqliteStore(tmp_path)
    try:
        rows = store.database.connection().execute(
            "EXPLAIN QUERY PLAN " + objects._CLEAR_ENDS, {"first": "[1]", "last": "[2]"}
        )
        explained = " | ".join(row[3] for row in rows)
        assert "SEARCH objects USING INTEGER PRIMARY KEY (rowid=?)" in explained
        assert "SCAN objects" not in explained
    finally:
        store.close()


def test_open_embedded_builds_the_services_in_a_private_data_dir(tmp_path):
    data_dir = tmp_path / "state" / ".steppe"
    settings = Settings.from_env({"STEPPE_DATA_DIR": str(data_dir)})
    services = open_embedded(settings)
    try:
        assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
        assert isinstance(services.store, SqliteStore)
        assert isinstance(services.blobs, FolderBlobStore)
        assert isinstance(services.queue, SqliteJobQueue)
        assert isinstance(services.idempotency, SqliteIdempotencyLayer)
        assert (data_dir / "steppe.db").is_file()
        services.blobs.put("submissions/s1/raw.json", b"{}")
        assert (data_dir / "blobs" / "submissions" / "s1" / "raw.json").read_bytes() == b"{}"
        services.queue.send([{"submission": "s1"}])
        assert services.queue.pending() == 1
    finally:
        services.close()


# -- issue 3: the schema migration, statuses, the audit trail ----------------


def test_a_file_of_the_first_schema_migrates_and_keeps_its_data(tmp_path):
    """A file written by the issue-2 steppe (schema 1) opens, migrates and keeps everything."""
    conn = sqlite3.connect(tmp_path / "steppe.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    for statement in MIGRATIONS[0]:
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.execute(
        "INSERT INTO collections (id, api_root, title, description, alias, media_types, "
        "created, is_default) VALUES (?, 'steppe', 'DDoS', '', NULL, ?, 7, 1)",
        (COLLECTION, '["application/stix+json;version=2.1"]'),
    )
    conn.execute(
        "INSERT INTO partners (name, role, tlp_clearance, can_read, can_write, created) "
        "VALUES ('cert-kg', 'partner', 2, '[]', '[]', 1)"
    )
    conn.close()

    store = SqliteStore(tmp_path)
    try:
        conn = store.database.connection()
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        old = store.get_collection(COLLECTION)
        assert old == Collection(
            id=COLLECTION, api_root="steppe", title="DDoS", created=7, default=True
        )
        assert old.unmarked_tlp == 1  # the port's default for collections made before
        assert store.get_partner("cert-kg").role == "partner"
        store.update_collection(
            Collection(id=COLLECTION, api_root="steppe", title="DDoS", created=7, unmarked_tlp=2)
        )
        assert store.find_collection_by_title("steppe", "DDoS").unmarked_tlp == 2
        # The new tables work in the migrated file.
        now = now_micros()
        store.create_status(StatusRecord("st-1", "cert-kg", COLLECTION, now, 1, now + 10**10))
        assert store.record_status_part("st-1", StatusPart(0)) is True
        store.append_audit(AuditRecord(now, "req-1", "cert-kg", "GET", "/taxii2/", 200))
        assert [r.request_id for r in store.list_audit()] == ["req-1"]
        assert len(store.server_secret("taxii-paging")) == 32
    finally:
        store.close()


def test_creating_a_status_purges_the_expired_ones_with_their_parts(tmp_path):
    store = SqliteStore(tmp_path)
    try:
        now = now_micros()
        store.create_status(StatusRecord("old", "cert-kg", COLLECTION, now, 2, now + 10**9))
        store.record_status_part("old", StatusPart(0, successes=(("indicator--a", None, None),)))
        # Time passes: the status expires (moved here into the past, as the clock would).
        with store.database.write() as conn:
            conn.execute("UPDATE statuses SET expires = ? WHERE id = 'old'", (now - 1,))
        assert store.get_status("old") is None
        conn = store.database.connection()
        assert conn.execute("SELECT count(*) FROM status_parts").fetchone()[0] == 1
        store.create_status(StatusRecord("new", "cert-kg", COLLECTION, now, 1, now + 10**10))
        assert conn.execute("SELECT id FROM statuses").fetchall() == [("new",)]
        assert conn.execute("SELECT count(*) FROM status_parts").fetchone()[0] == 0
        purge = conn.execute(
            "EXPLAIN QUERY PLAN DELETE FROM statuses WHERE expires < ?", (now,)
        ).fetchall()
        assert "statuses_by_expiry" in " | ".join(row[3] for row in purge)
    finally:
        store.close()


@pytest.mark.parametrize(
    ("partner", "index"),
    [(None, "audit_by_time (time>? AND time<?)"), ("cert-kg", "audit_by_partner (partner=?")],
)
def test_audit_listings_walk_a_time_index_backwards_without_sorting(tmp_path, partner, index):
    """The cost of a listing follows `limit`, not the size of the trail."""
    store = SqliteStore(tmp_path)
    try:
        sql = sqlite_audit._NEWEST_ALL if partner is None else sqlite_audit._NEWEST_OF_PARTNER
        params = {"since": 0, "until": 10, "limit": 5, "partner": partner}
        if partner is None:
            del params["partner"]
        rows = store.database.connection().execute("EXPLAIN QUERY PLAN " + sql, params)
        explained = " | ".join(row[3] for row in rows)
        assert index in explained
        assert "TEMP B-TREE" not in explained
        assert "SCAN audit" not in explained
    finally:
        store.close()


def test_a_first_call_that_loses_the_race_returns_the_winners_secret(tmp_path):
    """Two processes both read no secret; the second to propose one gets the first's."""
    winner, loser = SqliteStore(tmp_path), SqliteStore(tmp_path)
    try:
        assert loser.database.connection().execute("SELECT count(*) FROM secrets").fetchone() == (
            0,
        )
        value = winner.server_secret("taxii-paging")
        assert loser._propose_secret("taxii-paging") == value  # the write after its empty read
        assert loser.server_secret("taxii-paging") == value
        stored = loser.database.connection().execute("SELECT value FROM secrets").fetchall()
        assert stored == [(value,)]
    finally:
        loser.close()
        winner.close()
