"""SqliteJobQueue: the embedded job queue (claims, retries, dead letters, restarts)."""

from __future__ import annotations

import json
import threading

import pytest

from steppe.store.sqlite import SqliteJobQueue, SqliteStore


@pytest.fixture
def store(tmp_path):
    opened = SqliteStore(tmp_path)
    yield opened
    opened.close()


@pytest.fixture
def queue(store):
    return SqliteJobQueue(store, max_attempts=3)


def chunk(n: int) -> dict[str, object]:
    return {"kind": "chunk", "submission": "s1", "chunk": n, "key": f"submissions/s1/{n}.json"}


def test_send_claim_ack(queue):
    queue.send([chunk(0), chunk(1)])
    assert queue.pending() == 2
    [job] = queue.claim()
    assert json.loads(job.body) == chunk(0)
    assert job.attempts == 1
    assert queue.pending() == 2  # claimed still counts
    queue.ack(job.id)
    assert queue.pending() == 1
    [other] = queue.claim(limit=5)
    assert json.loads(other.body) == chunk(1)
    assert other.id != job.id
    assert queue.claim() == []


def test_claims_come_oldest_first_up_to_the_limit(queue):
    queue.send([chunk(n) for n in range(5)])
    jobs = queue.claim(limit=3)
    assert [json.loads(j.body)["chunk"] for j in jobs] == [0, 1, 2]
    assert jobs[0].created <= jobs[2].created


def test_send_wakes_the_worker(queue):
    assert not queue.wakeup.is_set()
    queue.send([chunk(0)])
    assert queue.wakeup.is_set()


def test_a_claimed_job_is_invisible_until_its_timeout(queue):
    queue.send([chunk(0)])
    [job] = queue.claim(visibility_timeout=3600)
    assert queue.claim() == []
    queue.send([chunk(1)])
    [expired] = queue.claim(visibility_timeout=0)
    assert json.loads(expired.body) == chunk(1)
    # Timed out: it comes back, and the claim counts as another attempt.
    [again] = queue.claim()
    assert (again.id, again.attempts) == (expired.id, 2)
    assert job.id != again.id


def test_failed_jobs_come_back_after_retry_in(queue):
    queue.send([chunk(0)])
    [job] = queue.claim()
    assert queue.fail(job.id, "store busy", retry_in=3600) is False
    assert queue.claim() == []
    assert queue.pending() == 1
    queue.send([chunk(1)])
    [fresh] = queue.claim()
    assert queue.fail(fresh.id, "store busy", retry_in=0) is False
    [retried] = queue.claim()
    assert (retried.id, retried.attempts) == (fresh.id, 2)


def test_dead_letter_after_max_attempts_and_redrive(queue):
    queue.send([chunk(7)])
    for attempt in (1, 2):
        [job] = queue.claim()
        assert job.attempts == attempt
        assert queue.fail(job.id, f"attempt {attempt} failed", retry_in=0) is False
    [job] = queue.claim()
    assert job.attempts == 3
    assert queue.fail(job.id, "row 12: '300.1.1.1' is not an IPv4 address", retry_in=0) is True
    assert queue.claim() == []
    assert queue.pending() == 0
    [dead] = queue.dead_letters()
    assert (dead.id, dead.attempts, json.loads(dead.body)) == (job.id, 3, chunk(7))
    assert queue.last_error(job.id) == "row 12: '300.1.1.1' is not an IPv4 address"
    assert queue.redrive(job.id) == 1
    assert queue.dead_letters() == []
    [back] = queue.claim()
    assert (back.id, back.attempts) == (job.id, 1)


def test_a_job_whose_claims_all_timed_out_is_dead_lettered(queue):
    queue.send([chunk(0)])
    for _ in range(3):
        [job] = queue.claim(visibility_timeout=0)
    assert queue.claim() == []
    [dead] = queue.dead_letters()
    assert (dead.id, dead.attempts) == (job.id, 3)
    assert "3 times" in queue.last_error(job.id)


def test_redrive_everything(queue):
    queue.send([chunk(0), chunk(1)])
    for _ in range(3):
        assert len(queue.claim(limit=2, visibility_timeout=0)) == 2
    assert queue.claim(limit=2) == []
    assert len(queue.dead_letters()) == 2
    assert queue.redrive() == 2
    assert queue.pending() == 2
    assert queue.redrive() == 0


def test_jobs_survive_a_restart_and_claims_are_released(tmp_path):
    store = SqliteStore(tmp_path)
    queue = SqliteJobQueue(store)
    queue.send([chunk(0), chunk(1), chunk(2)])
    [abandoned] = queue.claim(visibility_timeout=3600)  # the process dies holding it
    store.close()

    store = SqliteStore(tmp_path)
    try:
        queue = SqliteJobQueue(store)
        assert queue.pending() == 3
        assert [json.loads(j.body)["chunk"] for j in queue.claim(limit=5)] == [1, 2]
        assert queue.release_claimed() == 3
        jobs = queue.claim(limit=5)
        assert abandoned.id in {j.id for j in jobs}
        assert {j.id: j.attempts for j in jobs}[abandoned.id] == 2
    finally:
        store.close()


def test_concurrent_claimers_never_share_a_job(queue):
    queue.send([chunk(n) for n in range(60)])
    claimed = []
    lock = threading.Lock()
    gate = threading.Barrier(4)

    def work():
        gate.wait()
        while jobs := queue.claim(limit=3):
            with lock:
                claimed.extend(job.id for job in jobs)
            for job in jobs:
                queue.ack(job.id)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(claimed) == len(set(claimed)) == 60
    assert queue.pending() == 0


def test_messages_over_the_size_limit_are_refused(queue):
    with pytest.raises(ValueError, match="blob"):
        queue.send([{"rows": "x" * 210_000}])
    assert queue.pending() == 0


def test_unknown_jobs(queue):
    assert queue.fail("no-such-job", "gone") is False
    queue.ack("no-such-job")
    assert queue.redrive("no-such-job") == 0
    assert queue.last_error("no-such-job") is None
