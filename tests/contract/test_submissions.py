"""Submissions and their chunk results."""

from __future__ import annotations

import pytest

from steppe.errors import Conflict, NotFound
from steppe.store.port import ChunkResult, Submission, SubmissionMeta, legacy_partner_id

COLLECTION = "7d1b3c0e-5c8a-4b7e-9a51-0f2e4d6c8b10"
SUBMITTER_ID = "3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7"


def submission(sid: str, created: int, **fields) -> Submission:
    if "meta" in fields:
        fields["meta"] = SubmissionMeta.from_dict(fields["meta"])
    return Submission(
        id=sid,
        collection_id=COLLECTION,
        submitter="analyst-bishkek",
        submitter_id=fields.pop("submitter_id", SUBMITTER_ID),
        created=created,
        chunks_total=fields.pop("chunks_total", 3),
        observables=fields.pop("observables", 2_500),
        **fields,
    )


def test_the_owner_is_the_submitters_stable_id(store):
    store.create_submission(submission("s1", 10))
    assert store.get_submission("s1").submitter_id == SUBMITTER_ID
    assert [s.submitter_id for s in store.list_submissions()] == [SUBMITTER_ID]
    # written without one (before partners had ids): the submitter's legacy id, which
    # only a partner record stored without an id has, never one created since
    store.create_submission(submission("s0", 5, submitter_id=""))
    assert store.get_submission("s0").submitter_id == legacy_partner_id("analyst-bishkek")


def test_round_trip_with_meta(store):
    meta = {
        "kind": "ddos",
        "raw_key": "submissions/s1/raw.json",
        "chunk_keys": ["submissions/s1/0.json", "submissions/s1/1.json"],
        "report": {"name": "January 2009 DDoS", "tlp": "amber", "confidence": 85},
        "first_seen": "2009-01-18T00:00:00.000Z",
        "reprocess": False,
        "note": None,
        "ratio": 0.25,
    }
    s1 = submission("s1", 10, meta=meta)
    store.create_submission(s1)
    assert store.get_submission("s1") == s1
    assert store.get_submission("s2") is None
    failed = submission("s2", 11, status_override="failed")
    store.create_submission(failed)
    assert store.get_submission("s2") == failed


def test_creating_an_existing_id_conflicts(store):
    store.create_submission(submission("s1", 10))
    with pytest.raises(Conflict):
        store.create_submission(submission("s1", 20, observables=1))
    assert store.get_submission("s1").observables == 2_500


def test_status_and_meta_updates(store):
    store.create_submission(submission("s1", 10, meta={"kind": "ddos"}))
    store.set_submission_status("s1", "failed")
    assert store.get_submission("s1").status_override == "failed"
    store.set_submission_status("s1", None)
    assert store.get_submission("s1").status_override is None
    store.update_submission_meta("s1", SubmissionMeta.from_dict({"kind": "ddos", "attempt": 2}))
    assert store.get_submission("s1").meta == {"kind": "ddos", "attempt": 2}


def test_chunks_are_recorded_once_and_listed_by_number(store):
    store.create_submission(submission("s1", 10))
    second = ChunkResult(
        chunk=1,
        counts={"created": 2, "duplicate": 1, "indicator": 2, "ipv4-addr": 1},
        objects=(
            ("indicator--0c2f0f4a-8cf4-4b4a-9b1e-0b8e1f2a3c4d", "created"),
            ("ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", "duplicate"),
        ),
    )
    first = ChunkResult(chunk=0, counts={"created": 1})
    broken = ChunkResult(chunk=2, counts={}, error="row 2104: '300.1.1.1' is not an IPv4 address")
    assert store.record_chunk("s1", second) is True
    assert store.record_chunk("s1", first) is True
    assert store.record_chunk("s1", broken) is True
    # A retried job records nothing: the first result stands.
    assert store.record_chunk("s1", ChunkResult(chunk=1, counts={"created": 99})) is False
    assert store.chunk_results("s1") == [first, second, broken]
    assert store.chunk_results("nothing") == []
    # A status poll leaves the object lists out, and keeps everything else.
    assert store.chunk_results("s1", with_objects=False) == [
        first,
        ChunkResult(chunk=1, counts=second.counts),
        broken,
    ]


def test_chunks_of_one_submission_do_not_touch_another(store):
    store.create_submission(submission("s1", 10))
    store.create_submission(submission("s2", 11))
    store.record_chunk("s1", ChunkResult(chunk=0, counts={"created": 1}))
    assert store.record_chunk("s2", ChunkResult(chunk=0, counts={"created": 5})) is True
    store.clear_chunks("s1")
    assert store.chunk_results("s1") == []
    assert store.chunk_results("s2") == [ChunkResult(chunk=0, counts={"created": 5})]
    # Cleared chunks can be recorded again (reprocessing).
    assert store.record_chunk("s1", ChunkResult(chunk=0, counts={"created": 2})) is True
    assert store.chunk_results("s1") == [ChunkResult(chunk=0, counts={"created": 2})]


def test_list_newest_first(store):
    for sid, created in (("s1", 100), ("s3", 300), ("s2", 200), ("s4", 50)):
        store.create_submission(submission(sid, created))
    assert [s.id for s in store.list_submissions()] == ["s3", "s2", "s1", "s4"]
    assert [s.id for s in store.list_submissions(limit=2)] == ["s3", "s2"]


def test_updates_of_an_unknown_submission_are_not_found(store):
    with pytest.raises(NotFound):
        store.set_submission_status("missing", "failed")
    with pytest.raises(NotFound):
        store.update_submission_meta("missing", SubmissionMeta.from_dict({"kind": "ddos"}))
    with pytest.raises(NotFound):
        store.record_chunk("missing", ChunkResult(chunk=0, counts={"created": 1}))
    assert store.get_submission("missing") is None
    assert store.chunk_results("missing") == []
