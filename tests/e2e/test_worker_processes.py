"""`steppe serve` runs its queue's consumers in worker processes: they do the work, a dead one
is replaced, and none outlives the server, not even a `kill -9` of it."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from support.app import example
from support.server import RunningServer, steppe_serve

ADMIN_KEY = "stp_worker-processes-test-key-0123456789"
ENV = {
    "STEPPE_ADMIN_KEY": ADMIN_KEY,
    "STEPPE_WORKERS": "2",
    "STEPPE_SYNC_OBSERVABLES": "20",
    "STEPPE_CHUNK_OBSERVABLES": "20",
    "STEPPE_CORRELATE": "0",
}


def workers(server_pid: int) -> list[int]:
    """The server's worker processes (its multiprocessing children, not the resource tracker)."""
    found = []
    for task in Path(f"/proc/{server_pid}/task").glob("*"):
        for child in (task / "children").read_text().split():
            try:
                command = Path(f"/proc/{child}/cmdline").read_bytes()
            except OSError:
                continue
            if b"spawn_main" in command:
                found.append(int(child))
    return sorted(found)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_until(check, what: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


def submit_and_complete(server: RunningServer, count: int, first: int) -> dict:
    body = example()
    body["observables"] = [
        {"type": "ipv4-addr", "value": f"198.51.{(first + n) // 256}.{(first + n) % 256}"}
        for n in range(count)
    ]
    status, accepted = server.json(
        "POST",
        "/api/v1/observations",
        ADMIN_KEY,
        body=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert status == 202, accepted

    def complete() -> dict | None:
        _, resource = server.json("GET", accepted["links"]["self"], ADMIN_KEY)
        return resource if resource["status"] == "complete" else None

    return wait_until(complete, "the submission to complete")


def test_workers_do_the_work_a_dead_one_is_replaced_and_none_outlives_the_server(tmp_path):
    with steppe_serve(tmp_path / "data", **ENV) as server:
        started = wait_until(
            lambda: len(workers(server.process.pid)) == 2 and workers(server.process.pid),
            "two worker processes",
        )
        resource = submit_and_complete(server, 100, 0)  # 5 chunks, through the queue
        assert resource["observables"] == 100 and not resource["errors"]

        os.kill(started[0], signal.SIGKILL)  # a worker crashes
        replaced = wait_until(
            lambda: (
                (now := workers(server.process.pid))
                and len(now) == 2
                and started[0] not in now
                and now
            ),
            "a replacement worker",
        )
        resource = submit_and_complete(server, 100, 1000)
        assert resource["observables"] == 100 and not resource["errors"]

        server.process.kill()  # kill -9 of the server: its workers must not live on
        server.process.wait()
        wait_until(lambda: not any(alive(pid) for pid in replaced), "the workers to exit", 30)
