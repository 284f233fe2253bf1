"""kill -9 of `steppe serve` during a chunked submission and a queued TAXII envelope.

The real server is killed at points the test observes through the API (so many
chunks or parts done), or while a POST is being accepted, then started again
on the same data dir: each submission and envelope completes exactly once,
with what a run without a crash gives, and a retry with the same
Idempotency-Key answers with the one submission.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from support.app import example
from support.server import RunningServer, steppe_serve

ADMIN_KEY = "stp_crash-test-admin-key-0123456789"
ENV = {
    "STEPPE_ADMIN_KEY": ADMIN_KEY,
    "STEPPE_SYNC_OBSERVABLES": "40",
    "STEPPE_CHUNK_OBSERVABLES": "40",
    "STEPPE_TAXII_SYNC_OBJECTS": "10",
    "STEPPE_TAXII_PART_OBJECTS": "10",
    "STEPPE_CORRELATE": "0",
}
OBSERVABLES = 2_000  # 50 chunks
TAXII = "application/taxii+json;version=2.1"


def report() -> bytes:
    body = example()
    body["observables"] = [
        {"type": "ipv4-addr", "value": f"198.{51 + n // 65536}.{n // 256 % 256}.{n % 256}"}
        for n in range(OBSERVABLES)
    ]
    return json.dumps(body).encode()


def submit(server: RunningServer, body: bytes, key: str) -> tuple[int, dict[str, Any]]:
    return server.json(
        "POST",
        "/api/v1/observations",
        ADMIN_KEY,
        body=body,
        headers={"Content-Type": "application/json", "Idempotency-Key": key},
    )


def submit_unanswered(server: RunningServer, body: bytes) -> None:
    """A POST whose answer the kill takes away."""
    try:
        submit(server, body, "kg-2009-2")
    except OSError:  # the connection dies with the server
        return


def wait_for(check: Callable[[], Any], what: str, timeout: float = 300) -> Any:
    """Poll until check() returns something true (the timeout only keeps a broken run finite)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


def submission(server: RunningServer, submission_id: str) -> dict[str, Any]:
    status, resource = server.json("GET", f"/api/v1/submissions/{submission_id}", ADMIN_KEY)
    assert status == 200, resource
    return resource


def complete(server: RunningServer, submission_id: str) -> dict[str, Any]:
    return wait_for(
        lambda: (r := submission(server, submission_id))["status"] == "complete" and r,
        f"submission {submission_id} to complete",
    )


def outcome(resource: dict[str, Any]) -> tuple[Any, ...]:
    """What must not depend on a crash (ids derived from the submission's id differ)."""
    listed = resource["objects"] or {}
    return (
        resource["counts"],
        resource["chunks"],
        resource["errors"],
        {name: len(ids) for name, ids in listed.items()},
    )


def kill(server: RunningServer) -> None:
    server.process.kill()  # SIGKILL: no handler, no cleanup
    server.process.wait(30)


def test_a_submission_survives_kills_mid_processing_and_mid_post(tmp_path: Path):
    body = report()
    with steppe_serve(tmp_path / "clean", **ENV) as server:  # the same, never killed
        clean_ids = [submit(server, body, f"clean-{n}")[1]["id"] for n in (1, 2)]
        clean, clean_again = (outcome(complete(server, sid)) for sid in clean_ids)

    data = tmp_path / "crashing"
    with steppe_serve(data, **ENV) as server:
        status, accepted = submit(server, body, "kg-2009-1")
        assert status == 202
        submission_id = accepted["id"]
        wait_for(lambda: submission(server, submission_id)["chunks"]["done"] >= 3, "3 chunks")
        kill(server)
    with steppe_serve(data, **ENV) as server:  # killed again further on
        wait_for(lambda: submission(server, submission_id)["chunks"]["done"] >= 25, "25 chunks")
        kill(server)
    with steppe_serve(data, **ENV) as server:
        recovered = complete(server, submission_id)
        assert outcome(recovered) == clean
        status, again = submit(server, body, "kg-2009-1")  # the client never saw an answer
        assert status in (201, 202) and again["id"] == submission_id

        # Killed while the POST is being accepted: as soon as its body is archived.
        submissions = data / "blobs" / "submissions"
        before = set(submissions.iterdir())
        threading.Thread(target=submit_unanswered, args=(server, body), daemon=True).start()
        wait_for(
            lambda: any((p / "raw").exists() for p in set(submissions.iterdir()) - before),
            "the second body to be archived",
        )
        kill(server)
    with steppe_serve(data, **ENV) as server:
        status, retried = submit(server, body, "kg-2009-2")  # the client retries
        assert status in (201, 202), retried
        assert outcome(complete(server, retried["id"])) == clean_again
        status, listing = server.json("GET", "/api/v1/submissions", ADMIN_KEY)
        ids = sorted(s["id"] for s in listing["submissions"])
        assert ids == sorted([submission_id, retried["id"]])  # one per Idempotency-Key


def indicator(n: int) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.UUID(int=n + 1, version=4)}",
        "created": "2009-01-18T00:00:00.000Z",
        "modified": "2009-01-18T00:00:00.000Z",
        "pattern": f"[ipv4-addr:value = '203.0.{n // 256}.{n % 256}']",
        "pattern_type": "stix",
        "valid_from": "2009-01-18T00:00:00Z",
    }


def test_a_taxii_envelope_survives_kills_mid_processing(tmp_path: Path):
    objects = [indicator(n) for n in range(400)]  # 40 parts
    data = tmp_path / "data"
    with steppe_serve(data, **ENV) as server:
        _, discovery = server.json("GET", "/taxii2/", ADMIN_KEY, headers={"Accept": TAXII})
        root = urlparse(discovery["api_roots"][0]).path.rstrip("/")
        _, listing = server.json(
            "GET", f"{root}/collections/", ADMIN_KEY, headers={"Accept": TAXII}
        )
        collection = listing["collections"][0]["id"]
        status, accepted = server.json(
            "POST",
            f"{root}/collections/{collection}/objects/",
            ADMIN_KEY,
            body=json.dumps({"objects": objects}).encode(),
            headers={"Content-Type": TAXII, "Accept": TAXII},
        )
        assert status == 202 and accepted["status"] == "pending"
        status_path = f"{root}/status/{accepted['id']}/"

        def progress(at_least: int) -> Callable[[], bool]:
            def check() -> bool:
                _, current = server_now[0].json(
                    "GET", status_path, ADMIN_KEY, headers={"Accept": TAXII}
                )
                return current["success_count"] >= at_least

            return check

        server_now = [server]
        wait_for(progress(30), "3 parts")
        kill(server)
    with steppe_serve(data, **ENV) as server:
        server_now[0] = server
        wait_for(progress(200), "20 parts")
        kill(server)
    with steppe_serve(data, **ENV) as server:

        def done() -> dict[str, Any] | None:
            _, current = server.json("GET", status_path, ADMIN_KEY, headers={"Accept": TAXII})
            return current if current["status"] == "complete" else None

        final = wait_for(done, "the envelope to complete")
    assert final["total_count"] == len(objects)
    assert final["success_count"] == len(objects) and final["failure_count"] == 0
    succeeded = [entry["id"] for entry in final["successes"]]
    assert sorted(succeeded) == sorted(o["id"] for o in objects)  # each once
