"""Concurrent writers and a reader paging while they write (the TAXII paging guarantee)."""

from __future__ import annotations

import threading

from steppe.store.port import ALL_VERSIONS, ObjectQuery

from .stix import indicator, ipv4, stamp

WRITERS = 4
CALLS = 8
PER_CALL = 10
SHARED = [indicator().id for _ in range(8)]


def writer_batches(writer: int):
    """Each writer adds its own objects, new versions of shared ids (distinct per writer)
    and versions every writer also writes (duplicates racing each other)."""
    for call in range(CALLS):
        batch = [
            indicator(modified=stamp(writer * 1_000_000 + call * 1_000 + n))
            for n in range(PER_CALL)
        ]
        shared = SHARED[call % len(SHARED)]
        batch.append(indicator(shared, modified=stamp(10_000_000 + writer * 100 + call)))
        batch.append(indicator(shared, modified=stamp(20_000_000 + call)))  # every writer
        batch.append(ipv4(f"10.0.{call}.1"))  # every writer, unversioned
        yield batch


def test_concurrent_writers_lose_nothing_and_store_nothing_twice(store, collection):
    outcomes = []
    errors = []
    lock = threading.Lock()
    gate = threading.Barrier(WRITERS)

    def write(writer):
        try:
            gate.wait()
            for batch in writer_batches(writer):
                result = store.put_objects(collection, batch)
                with lock:
                    outcomes.extend(zip(batch, result, strict=True))
        except Exception as exc:  # reported below, with the failing thread's error
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []

    stored = store.list_objects(
        collection, ObjectQuery(versions=ALL_VERSIONS, limit=10_000, with_body=False)
    ).records
    stored_keys = [(r.id, r.version) for r in stored]
    assert len(stored_keys) == len(set(stored_keys)), "no version stored twice"
    assert len({r.date_added for r in stored}) == len(stored)
    assert store.count_objects(collection) == len(stored)

    # Exactly one writer stored each distinct version; everyone else saw a duplicate.
    stored_by_key = {(r.id, r.version): r.date_added for r in stored}
    new = [(o.id, o.version) for _, o in outcomes if o.outcome != "duplicate"]
    assert sorted(new) == sorted(stored_by_key)
    for written, outcome in outcomes:
        assert stored_by_key[(outcome.id, outcome.version)] == outcome.date_added
        if written.version is not None:
            assert outcome.version == written.version
    expected_versioned = WRITERS * CALLS * (PER_CALL + 1) + CALLS
    unversioned = CALLS
    assert len(stored) == expected_versioned + unversioned

    # Shared ids: last is the highest version, whoever wrote it.
    latest = store.list_objects(collection, ObjectQuery(ids=frozenset(SHARED))).records
    for record in latest:
        mine = [v for (oid, v) in stored_by_key if oid == record.id]
        assert record.version == max(mine)


def test_a_reader_paging_by_added_after_sees_every_version_once(store, collection):
    done = threading.Event()
    errors = []
    seen = []

    def write(writer):
        try:
            for batch in writer_batches(writer):
                store.put_objects(collection, batch)
        except Exception as exc:
            errors.append(exc)

    def read():
        # The TAXII client's loop: added_after = the last date_added it received.
        mark = None
        try:
            while True:
                finished = done.is_set()  # read before the page: one more pass after the end
                page = store.list_objects(
                    collection,
                    ObjectQuery(versions=ALL_VERSIONS, added_after=mark, limit=25, with_body=False),
                )
                seen.extend(page.records)
                if page.records:
                    mark = page.records[-1].date_added
                if finished and not page.more:
                    return
        except Exception as exc:
            errors.append(exc)

    reader = threading.Thread(target=read)
    writers = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
    reader.start()
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    done.set()
    reader.join()
    assert errors == []

    dates = [r.date_added for r in seen]
    assert dates == sorted(set(dates)), "strictly increasing: nothing repeated"
    stored = store.list_objects(
        collection, ObjectQuery(versions=ALL_VERSIONS, limit=10_000, with_body=False)
    ).records
    assert [(r.id, r.version, r.date_added) for r in seen] == [
        (r.id, r.version, r.date_added) for r in stored
    ], "nothing missed"
