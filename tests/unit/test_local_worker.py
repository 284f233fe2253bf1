"""The local worker: Lambda's SQS event source over the embedded job queue."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aws_lambda_powertools.utilities.parser.models import SqsModel
from local_fixtures import handlers
from local_fixtures.support import (
    fixture_routes,
    post_job,
    start_serve_process,
    wait_for_file,
)

from steppe.config import Settings
from steppe.local.account import region
from steppe.local.job_thread import BatchResponseError, LocalWorker, drain, failed_message_ids
from steppe.store.sqlite import SqliteJobQueue, SqliteStore, open_embedded


@pytest.fixture(autouse=True)
def _fresh_records():
    handlers.reset()
    yield
    handlers.BLOCKING["release"].set()  # never leave a worker thread blocked


@pytest.fixture
def store(tmp_path) -> Iterator[SqliteStore]:
    store = SqliteStore(tmp_path)
    yield store
    store.close()


@pytest.fixture
def queue(store) -> SqliteJobQueue:
    return SqliteJobQueue(store, max_attempts=3)  # the fixture queue's maxReceiveCount


@pytest.fixture
def make_worker(queue):
    workers: list[LocalWorker] = []

    def make(**options) -> LocalWorker:
        options.setdefault("retry_base", 0.0)
        options.setdefault("idle_wait", 0.05)
        worker = LocalWorker(queue, fixture_routes(), **options)
        workers.append(worker)
        return worker

    yield make
    for worker in workers:
        worker.stop(timeout=30)


def run_until_settled(worker: LocalWorker, rounds: int = 20) -> None:
    for _ in range(rounds):
        if not worker.run_once() and worker.queue.pending() == 0:
            return
    raise AssertionError("the queue did not settle")


SQS_RECORD_FIELDS = {
    "messageId",
    "receiptHandle",
    "body",
    "attributes",
    "messageAttributes",
    "md5OfBody",
    "eventSource",
    "eventSourceARN",
    "awsRegion",
}


def test_the_function_gets_the_sqs_event_lambda_sends(queue, make_worker):
    sent_ms = time.time_ns() // 1_000_000
    queue.send([{"mode": "ok", "submission": "kg-2009", "chunk": n} for n in range(3)])
    worker = make_worker()

    assert worker.run_once() == 2  # BatchSize: 2 in the template
    [event] = handlers.SQS_EVENTS
    assert set(event) == {"Records"}
    SqsModel.model_validate(event)  # Powertools' model of the SQS event
    first = event["Records"][0]
    assert set(first) == SQS_RECORD_FIELDS
    assert json.loads(first["body"]) == {"mode": "ok", "submission": "kg-2009", "chunk": 0}
    assert first["md5OfBody"] == hashlib.md5(first["body"].encode()).hexdigest()
    assert first["eventSource"] == "aws:sqs"
    assert first["eventSourceARN"] == f"arn:aws:sqs:{region()}:000000000000:FixtureQueue"
    assert first["awsRegion"] == region()
    assert first["messageAttributes"] == {}
    attributes = first["attributes"]
    assert attributes["ApproximateReceiveCount"] == "1"
    assert all(isinstance(value, str) for value in attributes.values())
    assert sent_ms <= int(attributes["SentTimestamp"])  # epoch milliseconds, like SQS
    assert int(attributes["SentTimestamp"]) <= int(attributes["ApproximateFirstReceiveTimestamp"])
    assert int(attributes["ApproximateFirstReceiveTimestamp"]) <= time.time_ns() // 1_000_000
    assert first["messageId"] != event["Records"][1]["messageId"]

    assert worker.run_once() == 1
    assert queue.pending() == 0
    assert worker.run_once() == 0


def test_only_the_records_reported_as_failures_are_retried(queue, make_worker):
    queue.send([{"mode": "ok"}, {"mode": "fail-until-3"}])
    worker = make_worker()
    run_until_settled(worker)

    by_body = {}
    for message_id, body, count in handlers.PROCESSED:
        by_body.setdefault(json.loads(body)["mode"], []).append((message_id, count))
    assert [count for _, count in by_body["ok"]] == ["1"]
    assert [count for _, count in by_body["fail-until-3"]] == ["1", "2", "3"]
    assert len({message_id for message_id, _ in by_body["fail-until-3"]}) == 1
    assert queue.dead_letters() == []
    assert queue.pending() == 0


def test_a_message_that_keeps_failing_is_dead_lettered(queue, make_worker, caplog):
    queue.send([{"mode": "fail", "chunk": 7}])
    worker = make_worker()
    run_until_settled(worker)

    [dead] = queue.dead_letters()
    assert (json.loads(dead.body), dead.attempts) == ({"mode": "fail", "chunk": 7}, 3)
    assert queue.last_error(dead.id) == "WorkerFunction reported the message in batchItemFailures"
    assert [count for _, _, count in handlers.PROCESSED] == ["1", "2", "3"]
    assert queue.pending() == 0
    assert any("dead-lettered after 3 attempts" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("mode", ["raise", "bad-response"])
def test_an_exception_or_unreadable_response_fails_the_whole_batch(queue, make_worker, mode):
    queue.send([{"mode": "ok"}])
    queue.send([{"mode": mode}])
    worker = make_worker()

    assert worker.run_once() == 2
    assert queue.pending() == 2  # the good record is retried too, as Lambda does
    first_ids = [message_id for message_id, _, _ in handlers.PROCESSED]
    for message_id in first_ids:
        error = queue.last_error(message_id)
        assert error.startswith("RuntimeError" if mode == "raise" else "unreadable batch")
    handlers.reset()
    assert worker.run_once() == 2
    assert [count for _, _, count in handlers.PROCESSED][:1] == ["2"]


def test_the_worker_thread_starts_on_send_and_drains(queue, make_worker):
    worker = make_worker(idle_wait=60.0)  # only the wake-up can start the work in time
    worker.start()
    time.sleep(0.05)  # let it go idle
    queue.send([{"mode": "ok", "n": n} for n in range(5)])
    assert worker.drain(timeout=30)
    assert sorted(json.loads(body)["n"] for _, body, _ in handlers.PROCESSED) == [0, 1, 2, 3, 4]


def test_jobs_survive_a_restart_and_a_claimed_one_is_released(tmp_path):
    """Jobs sent, and one claimed, by a process that then died: the next process does them."""
    first = SqliteStore(tmp_path)
    crashed = SqliteJobQueue(first, max_attempts=3)
    crashed.send([{"mode": "ok", "n": 1}, {"mode": "ok", "n": 2}])
    [abandoned] = crashed.claim(limit=1, visibility_timeout=3600)  # the process died here
    first.close()

    second = SqliteStore(tmp_path)
    try:
        restarted = SqliteJobQueue(second, max_attempts=3)
        assert restarted.pending() == 2
        worker = LocalWorker(restarted, fixture_routes(), retry_base=0.0, idle_wait=0.05)
        worker.start()
        try:
            assert drain(restarted, timeout=30)
        finally:
            worker.stop(timeout=30)
        seen = {
            json.loads(body)["n"]: (message_id, count)
            for message_id, body, count in handlers.PROCESSED
        }
        assert seen == {1: (abandoned.id, "2"), 2: (seen[2][0], "1")}
        assert restarted.dead_letters() == []
    finally:
        second.close()


def test_a_job_in_hand_when_the_process_is_killed_is_done_after_a_restart(tmp_path):
    """kill -9 in the middle of a job: the next start of the runtime does the job again."""
    data = tmp_path / "data"
    marker = tmp_path / "job"
    serving = start_serve_process(data, tmp_path / "stderr.log")
    try:
        message = {"mode": "slow", "seconds": 60, "first_only": True, "marker": str(marker)}
        post_job(serving.port, message)
        assert wait_for_file(Path(f"{marker}.started")), serving.log.read_text()
    finally:
        serving.process.kill()
        serving.process.wait(30)
    assert not Path(f"{marker}.finished").exists()

    services = open_embedded(Settings.from_env({"STEPPE_DATA_DIR": str(data)}))
    try:
        assert services.queue.pending() == 1  # claimed by the dead process, still there
        worker = LocalWorker(services.queue, fixture_routes(), retry_base=0.0, idle_wait=0.05)
        worker.start()
        try:
            assert worker.drain(timeout=30)
        finally:
            worker.stop(timeout=30)
        [(_, body, receive_count)] = handlers.PROCESSED
        assert (json.loads(body), receive_count) == (message, "2")
        assert Path(f"{marker}.finished").exists()
        assert services.queue.dead_letters() == []
    finally:
        services.close()


def test_stop_lets_the_current_job_finish(queue, make_worker):
    queue.send([{"mode": "block"}])
    worker = make_worker()
    worker.start()
    assert handlers.BLOCKING["entered"].wait(30)

    stopper = threading.Thread(target=worker.stop)
    stopper.start()
    stopper.join(0.2)
    assert stopper.is_alive()  # stop() waits for the job in hand
    handlers.BLOCKING["release"].set()
    stopper.join(30)
    assert not stopper.is_alive()
    assert queue.pending() == 0  # the job was settled (acknowledged), not abandoned


def test_drain_gives_up_after_its_timeout(queue):
    queue.send([{"mode": "ok"}])
    assert drain(queue, timeout=0.05) is False
    assert queue.pending() == 1


def test_retry_delays_back_off_up_to_a_ceiling(make_worker):
    worker = make_worker(retry_base=5.0, retry_max=60.0)
    assert [worker.retry_delay(n) for n in (1, 2, 3, 4, 5, 6)] == [5, 10, 20, 40, 60, 60]


def test_batch_responses_are_read_with_report_batch_item_failures_semantics():
    ids = {"m1", "m2"}
    for success in (None, {}, {"batchItemFailures": []}, {"batchItemFailures": None}):
        assert failed_message_ids(success, ids, report_failures=True) == set()
    assert failed_message_ids(
        {"batchItemFailures": [{"itemIdentifier": "m2"}]}, ids, report_failures=True
    ) == {"m2"}
    # Without ReportBatchItemFailures whatever the function returns is a success.
    assert failed_message_ids("anything", ids, report_failures=False) == set()
    for broken in (
        "ok",
        {"batchItemFailures": "m1"},
        {"batchItemFailures": [{"itemIdentifier": ""}]},
        {"batchItemFailures": [{"itemIdentifier": None}]},
        {"batchItemFailures": [{"id": "m1"}]},
        {"batchItemFailures": [{"itemIdentifier": "m3"}]},
    ):
        with pytest.raises(BatchResponseError):
            failed_message_ids(broken, ids, report_failures=True)
