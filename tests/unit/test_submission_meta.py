"""SubmissionMeta: a typed record whose stored JSON is what the untyped dict used to be."""

from __future__ import annotations

import dataclasses
import json

from steppe.store.port import Revocation, SubmissionMeta, SubmissionProducer

# What the ingest service stored before "run" existed: a reprocessing then added
# "run" after "chunk_keys", and a revocation "revoked" after that.
LEGACY = (
    '{"raw_key": "submissions/s1/raw", "content_type": "text/csv", "params": {"kind": "ddos"}, '
    '"sha256": "ab", "producer": {"identity_id": "identity--1", "name": "steppe"}, '
    '"report": {"kind": "ddos", "tlp": "amber"}, "now": 1700000000000000, '
    '"chunk_keys": ["submissions/s1/chunks/00001"], "note": null}'
)


def test_a_stored_row_loads_and_is_written_back_byte_for_byte():
    meta = SubmissionMeta.from_dict(json.loads(LEGACY))
    assert meta.raw_key == "submissions/s1/raw"
    assert meta.producer == SubmissionProducer("identity--1", "steppe")
    assert meta.chunk_keys == ("submissions/s1/chunks/00001",)
    assert meta.run is None and meta.revoked is None
    assert meta.extra == {"note": None}
    assert json.dumps(meta.to_dict()) == LEGACY


def test_new_fields_follow_the_rows_own_keys_as_a_dict_update_placed_them():
    stored = json.loads(LEGACY)
    old_way = {**stored, "report": {"kind": "ddos"}, "now": 1, "run": "r1", "chunk_keys": []}
    old_way = {**old_way, "revoked": {"reason": "test", "analyst": "alice", "at": 2}}
    meta = dataclasses.replace(
        SubmissionMeta.from_dict(stored), report={"kind": "ddos"}, now=1, run="r1", chunk_keys=()
    )
    meta = dataclasses.replace(meta, revoked=Revocation("test", "alice", 2))
    assert json.dumps(meta.to_dict()) == json.dumps(old_way)


def test_a_new_record_is_stored_in_the_order_the_ingest_service_always_wrote():
    meta = SubmissionMeta(
        raw_key="r",
        content_type="",
        params={},
        sha256="h",
        producer=SubmissionProducer("identity--1", "steppe"),
    )
    meta = dataclasses.replace(meta, report={}, now=5, run="x", chunk_keys=("c",))
    assert list(meta.to_dict()) == [
        "raw_key",
        "content_type",
        "params",
        "sha256",
        "producer",
        "report",
        "now",
        "run",
        "chunk_keys",
    ]
    assert SubmissionMeta().to_dict() == {}


def test_it_reads_as_its_stored_json_object():
    meta = SubmissionMeta.from_dict(json.loads(LEGACY))
    assert meta == json.loads(LEGACY)
    assert meta["chunk_keys"] == ["submissions/s1/chunks/00001"]
    assert meta.get("run") is None
    assert dict(meta) == json.loads(LEGACY)
