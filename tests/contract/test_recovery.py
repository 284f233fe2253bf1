"""RecoveryStore: open work recorded with its record, leased by sweeps; idempotency key bindings."""

from __future__ import annotations

import uuid

import pytest

from steppe.errors import Conflict
from steppe.store.port import OpenWork, StatusRecord, Submission, SubmissionKey, SubmissionMeta

COLLECTION = "0b7e4a36-2f3c-4e0e-9d7a-1c5e8f2a9b44"
T = 1_700_000_000_000_000  # µs
MINUTE = 60_000_000


def submission(created: int = T, sid: str | None = None) -> Submission:
    return Submission(
        id=sid or str(uuid.uuid4()),
        collection_id=COLLECTION,
        submitter="analyst-1",
        created=created,
        chunks_total=3,
        observables=30,
        meta=SubmissionMeta(chunk_keys=("a", "b", "c")),
    )


def status(created: int = T) -> StatusRecord:
    return StatusRecord(
        id=str(uuid.uuid4()),
        owner="kg-cert",
        collection_id=COLLECTION,
        created=created,
        total=10,
        expires=created + 10**15,  # far beyond the test's clock
        meta={"parts": 2},
    )


def take(store, before=T + MINUTE, now=T + MINUTE, lease=T + 10 * MINUTE, limit=100):
    return store.take_undispatched(recorded_before=before, now=now, lease_until=lease, limit=limit)


def test_a_record_created_with_pending_dispatch_is_open_until_marked(store):
    sub, st = submission(), status(T + 1)
    store.create_submission(sub, dispatch_pending=True)
    store.create_status(st, dispatch_pending=True)
    assert take(store) == [OpenWork("submission", sub.id, T), OpenWork("status", st.id, T + 1)]
    store.mark_dispatched("submission", sub.id)
    store.mark_dispatched("status", st.id)
    store.mark_dispatched("status", st.id)  # twice: no-op
    assert take(store, now=T + 20 * MINUTE, lease=T + 30 * MINUTE) == []


def test_records_created_without_pending_dispatch_are_never_open(store):
    store.create_submission(submission())
    store.create_status(status())
    assert take(store) == []


def test_a_taken_record_is_leased_then_comes_back(store):
    sub = submission()
    store.create_submission(sub, dispatch_pending=True)
    assert [w.id for w in take(store)] == [sub.id]
    assert take(store, now=T + 2 * MINUTE) == []  # leased until T + 10 min
    again = take(store, now=T + 10 * MINUTE, lease=T + 20 * MINUTE)  # the sweep died
    assert [w.id for w in again] == [sub.id]


def test_only_records_written_before_the_cutoff_oldest_first_up_to_the_limit(store):
    subs = [submission(T + i) for i in range(5)]
    for sub in reversed(subs):
        store.create_submission(sub, dispatch_pending=True)
    young = submission(T + 2 * MINUTE)
    store.create_submission(young, dispatch_pending=True)
    first = take(store, limit=3)
    assert [w.id for w in first] == [s.id for s in subs[:3]]
    rest = take(store, limit=10)
    assert [w.id for w in rest] == [s.id for s in subs[3:]]  # not the young one


def test_a_refused_duplicate_leaves_one_open_record(store):
    sub = submission()
    store.create_submission(sub, dispatch_pending=True)
    with pytest.raises(Conflict):
        store.create_submission(sub, dispatch_pending=True)
    assert take(store) == [OpenWork("submission", sub.id, T)]


def test_an_idempotency_key_stays_bound_to_its_first_submission_until_it_expires(store):
    first = SubmissionKey("analyst-1:key:k1", "sub-1", "digest-a", T + 100)
    assert store.bind_submission_key(first, now=T) == first
    retry = SubmissionKey("analyst-1:key:k1", "sub-2", "digest-b", T + 200)
    assert store.bind_submission_key(retry, now=T + 99) == first
    other = SubmissionKey("analyst-2:key:k1", "sub-3", "digest-a", T + 100)
    assert store.bind_submission_key(other, now=T) == other
    later = SubmissionKey("analyst-1:key:k1", "sub-4", "digest-c", T + 300)
    assert store.bind_submission_key(later, now=T + 100) == later  # the first one expired
    assert store.bind_submission_key(retry, now=T + 101) == later
