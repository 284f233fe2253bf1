"""SqliteIdempotencyLayer: Powertools idempotency over the embedded SQLite file."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from steppe.store.sqlite import SqliteIdempotencyLayer, SqliteStore

# Powertools warns that it cannot see a Lambda context's remaining time; expected here.
pytestmark = pytest.mark.filterwarnings("ignore:Couldn't determine the remaining time left")

SUBMISSION = {"submission": "s-2009-01-18", "chunk": 3, "rows": ["85.255.112.7", "212.42.224.1"]}


@pytest.fixture
def store(tmp_path):
    opened = SqliteStore(tmp_path)
    yield opened
    opened.close()


@pytest.fixture
def layer(store):
    return SqliteIdempotencyLayer(store)


def now() -> int:
    return int(dt.datetime.now().timestamp())


def record(key: str, status: str, expiry: int, in_progress_expiry: int | None = None) -> DataRecord:
    return DataRecord(
        idempotency_key=key,
        status=status,
        expiry_timestamp=expiry,
        in_progress_expiry_timestamp=in_progress_expiry,
    )


def test_a_decorated_function_runs_once_per_payload(layer):
    runs = []

    @idempotent_function(data_keyword_argument="job", persistence_store=layer)
    def process(job: dict) -> dict:
        runs.append(job["chunk"])
        return {"chunk": job["chunk"], "created": len(job["rows"]), "run": len(runs)}

    first = process(job=SUBMISSION)
    second = process(job=dict(SUBMISSION))
    assert first == second == {"chunk": 3, "created": 2, "run": 1}
    assert runs == [3]
    other = process(job={**SUBMISSION, "chunk": 4})
    assert other == {"chunk": 4, "created": 2, "run": 2}
    assert runs == [3, 4]


def test_a_failure_clears_the_record_so_a_retry_runs(layer):
    attempts = []

    @idempotent_function(data_keyword_argument="job", persistence_store=layer)
    def flaky(job: dict) -> dict:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("store busy")
        return {"ok": True}

    with pytest.raises(RuntimeError, match="store busy"):
        flaky(job=SUBMISSION)
    assert flaky(job=SUBMISSION) == {"ok": True}
    assert flaky(job=SUBMISSION) == {"ok": True}
    assert len(attempts) == 2


def test_completed_records_survive_reopening(tmp_path):
    runs = []

    def build(store):
        @idempotent_function(
            data_keyword_argument="job", persistence_store=SqliteIdempotencyLayer(store)
        )
        def process(job: dict) -> dict:
            runs.append(1)
            return {"created": 2}

        return process

    store = SqliteStore(tmp_path)
    assert build(store)(job=SUBMISSION) == {"created": 2}
    store.close()
    store = SqliteStore(tmp_path)
    try:
        assert build(store)(job=SUBMISSION) == {"created": 2}
    finally:
        store.close()
    assert runs == [1]


def test_put_conditions_match_the_dynamodb_layer(layer):
    layer._put_record(record("k-new", "INPROGRESS", now() + 60))
    # A live record, completed or in progress, blocks a put and comes back with the error.
    with pytest.raises(IdempotencyItemAlreadyExistsError) as blocked:
        layer._put_record(record("k-new", "INPROGRESS", now() + 60))
    assert blocked.value.old_data_record.idempotency_key == "k-new"
    assert blocked.value.old_data_record.status == "INPROGRESS"
    # Expired: overwritten.
    layer._put_record(record("k-expired", "COMPLETED", now() - 5))
    layer._put_record(record("k-expired", "INPROGRESS", now() + 60))
    assert layer._get_record("k-expired").status == "INPROGRESS"
    # In progress, but its in-progress expiry (ms) has passed: overwritten.
    past_ms = (now() - 5) * 1000
    layer._put_record(record("k-stale", "INPROGRESS", now() + 60, past_ms))
    layer._put_record(record("k-stale", "INPROGRESS", now() + 60))
    # In progress with a future in-progress expiry: blocked.
    future_ms = (now() + 60) * 1000
    layer._put_record(record("k-busy", "INPROGRESS", now() + 60, future_ms))
    with pytest.raises(IdempotencyItemAlreadyExistsError):
        layer._put_record(record("k-busy", "INPROGRESS", now() + 60))


def test_update_get_and_delete(layer):
    layer._put_record(record("k", "INPROGRESS", now() + 60))
    done = DataRecord(
        idempotency_key="k",
        status="COMPLETED",
        expiry_timestamp=now() + 3600,
        response_data='{"created": 2}',
    )
    layer._update_record(done)
    stored = layer._get_record("k")
    assert (stored.status, stored.response_json_as_dict()) == ("COMPLETED", {"created": 2})
    # A completed record that has not expired blocks a put too.
    with pytest.raises(IdempotencyItemAlreadyExistsError):
        layer._put_record(record("k", "INPROGRESS", now() + 60))
    layer._delete_record(DataRecord(idempotency_key="k"))
    with pytest.raises(IdempotencyItemNotFoundError):
        layer._get_record("k")


def test_concurrent_puts_of_one_key_have_one_winner(tmp_path):
    store = SqliteStore(tmp_path)
    try:
        racers = 8
        gate = threading.Barrier(racers)
        results = []

        def put():
            layer = SqliteIdempotencyLayer(store)
            gate.wait()
            try:
                layer._put_record(record("race", "INPROGRESS", now() + 60))
                results.append("won")
            except IdempotencyItemAlreadyExistsError:
                results.append("lost")

        threads = [threading.Thread(target=put) for _ in range(racers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == ["lost"] * (racers - 1) + ["won"]
    finally:
        store.close()


def test_payload_validation(layer):
    config = IdempotencyConfig(event_key_jmespath="submission", payload_validation_jmespath="rows")

    @idempotent_function(data_keyword_argument="job", persistence_store=layer, config=config)
    def process(job: dict) -> dict:
        return {"rows": len(job["rows"])}

    assert process(job=SUBMISSION) == {"rows": 2}
    with pytest.raises(IdempotencyValidationError):
        process(job={**SUBMISSION, "rows": ["10.0.0.1"]})


def test_purge_expired(layer):
    layer._put_record(record("old", "COMPLETED", now() - 10))
    layer._put_record(record("live", "COMPLETED", now() + 60))
    assert layer.purge_expired() == 1
    with pytest.raises(IdempotencyItemNotFoundError):
        layer._get_record("old")
    assert layer._get_record("live").status == "COMPLETED"
