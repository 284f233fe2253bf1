"""steppe.jobs.crash_recovery on both shapes, from the states a crash leaves behind.

Each state is built through the port exactly as the interrupted request or
job left it (a record written with its open-work mark and no job; objects
stored and no chunk result; an idempotency record left in progress), then
the real recovery, worker and HTTP path finish it; the outcome is compared
with a run that was never interrupted.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from steppe.jobs import crash_recovery
from steppe.local.job_thread import recover_on_start
from steppe.runtime import ingest_service, job_recovery
from steppe.stix.timestamps import now_micros
from steppe.store.port import Collection, StatusRecord, SubmissionMeta
from steppe.taxii.adding import part_key
from support.app import App, example, open_app

BACKENDS = ["sqlite", "aws"]
TAXII = "application/taxii+json;version=2.1"


@pytest.fixture(params=BACKENDS)
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[App]:
    opened = open_app(
        tmp_path / "data",
        request.param,
        STEPPE_SYNC_OBSERVABLES="8",
        STEPPE_CHUNK_OBSERVABLES="8",
        STEPPE_TAXII_SYNC_OBJECTS="4",
        STEPPE_TAXII_PART_OBJECTS="3",
        STEPPE_CORRELATE="0",
    )
    yield opened
    opened.close()


def report(count: int) -> dict[str, Any]:
    body = example()
    body["observables"] = [
        {"type": "ipv4-addr", "value": f"198.51.100.{n}", "role": "source"} for n in range(count)
    ]
    return body


def fresh_collection(app: App, title: str) -> str:
    collection_id = str(uuid.uuid4())
    app.services.store.create_collection(
        Collection(id=collection_id, api_root=app.settings.api_root, title=title)
    )
    return collection_id


def clean_run(app: App, count: int) -> dict[str, Any]:
    resource = app.submit(report(count)).json()
    app.drain()
    return app.request("GET", resource["links"]["self"]).json()


def crashed_before_queueing(app: App, done: dict[str, Any], collection_id: str, **meta: Any):
    """The state `submit` leaves when it dies after writing the record, before queueing.

    The same report as `done` (its archived body and chunk blobs, its
    processing time), recorded anew for a fresh collection, with no job.
    """
    original = app.services.store.get_submission(done["id"])
    crashed = dataclasses.replace(
        original,
        id=str(uuid.uuid4()),
        collection_id=collection_id,
        meta=SubmissionMeta.from_dict({**original.meta, "run": uuid.uuid4().hex, **meta}),
        chunks_total=meta.get("chunks_total", original.chunks_total),
    )
    app.services.store.create_submission(crashed, dispatch_pending=True)
    return crashed


def same_outcome(recovered: dict[str, Any], clean: dict[str, Any]) -> None:
    assert recovered["status"] == "complete"
    assert recovered["counts"] == clean["counts"]
    assert recovered["chunks"] == clean["chunks"]
    # (ids derived from the submission's own id, such as its report's, differ)
    assert {k: len(v) for k, v in recovered["objects"].items()} == {
        k: len(v) for k, v in clean["objects"].items()
    }


def test_a_submission_recorded_without_its_jobs_is_queued_once_and_completes(app: App):
    clean = clean_run(app, 20)
    crashed = crashed_before_queueing(app, clean, fresh_collection(app, "after the crash"))
    assert app.pending_jobs() == 0  # nothing would ever process it

    first = job_recovery(app.services).recover(recorded_before=now_micros() + 1)
    assert first == crash_recovery.Recovered(submissions=1, statuses=0, jobs=3)
    again = job_recovery(app.services).recover(recorded_before=now_micros() + 1)
    assert again == crash_recovery.Recovered()  # its mark is cleared: never queued twice
    assert app.drain() == 3
    same_outcome(app.request("GET", f"/api/v1/submissions/{crashed.id}").json(), clean)


def test_only_the_chunks_without_a_result_are_queued(app: App):
    clean = clean_run(app, 20)
    crashed = crashed_before_queueing(app, clean, fresh_collection(app, "half done"))
    ingest_service(app.services).process_chunk(crashed.id, 2)
    assert job_recovery(app.services).recover(recorded_before=now_micros() + 1).jobs == 2
    assert app.drain() == 2
    same_outcome(app.request("GET", f"/api/v1/submissions/{crashed.id}").json(), clean)


def test_a_young_record_is_left_to_the_request_still_writing_it(app: App):
    clean = clean_run(app, 20)
    crashed = crashed_before_queueing(app, clean, fresh_collection(app, "in flight"))
    swept = job_recovery(app.services).recover(
        recorded_before=crashed.created
    )  # the AWS sweep's grace
    assert swept == crash_recovery.Recovered() and app.pending_jobs() == 0


def test_an_inline_submission_interrupted_before_its_answer_is_processed_from_its_archive(
    app: App,
):
    clean = app.submit(report(6)).json()
    assert clean["status"] == "complete"
    crashed = crashed_before_queueing(
        app, clean, fresh_collection(app, "inline"), chunk_keys=[], chunks_total=1
    )
    assert job_recovery(app.services).recover(recorded_before=now_micros() + 1).submissions == 1
    same_outcome(app.request("GET", f"/api/v1/submissions/{crashed.id}").json(), clean)


def test_a_chunk_stored_but_not_recorded_is_recorded_as_its_first_attempt_saw_it(app: App):
    clean = clean_run(app, 20)
    crashed = crashed_before_queueing(app, clean, fresh_collection(app, "died mid-chunk"))
    ingest = ingest_service(app.services)
    # Chunk 1 ran up to its last step: its objects are stored, its result is not,
    # and the note of when it started is still there.
    started = now_micros()
    ingest.process_chunk(crashed.id, 1)
    app.services.store.clear_chunks(crashed.id)
    note = crash_recovery.started_key(crashed.id, crashed.meta["run"], 1)
    app.services.blobs.put(note, str(started).encode())
    job_recovery(app.services).recover(recorded_before=now_micros() + 1)
    app.drain()
    same_outcome(app.request("GET", f"/api/v1/submissions/{crashed.id}").json(), clean)


def test_an_envelope_recorded_without_its_jobs_completes_with_every_object_once(app: App):
    collection_id = fresh_collection(app, "envelopes")
    indicators = [
        {
            "type": "indicator",
            "spec_version": "2.1",
            "id": f"indicator--{uuid.UUID(int=n + 1, version=4)}",
            "created": "2009-01-18T00:00:00.000Z",
            "modified": "2009-01-18T00:00:00.000Z",
            "pattern": f"[ipv4-addr:value = '203.0.113.{n}']",
            "pattern_type": "stix",
            "valid_from": "2009-01-18T00:00:00Z",
        }
        for n in range(10)
    ]
    # What accept() writes before it dies: the parts, then the status; no job.
    admin = app.services.store.get_partner("admin")
    assert admin is not None
    record = StatusRecord(
        id=str(uuid.uuid4()),
        owner=admin.id,  # statuses belong to the stable partner id
        collection_id=collection_id,
        created=now_micros(),
        total=len(indicators),
        expires=now_micros() + 3 * 86_400_000_000,
        meta={"parts": 4},
    )
    for number in range(1, 5):
        part = indicators[(number - 1) * 3 : number * 3]
        app.services.blobs.put(part_key(record.id, number), orjson.dumps(part))
    app.services.store.create_status(record, dispatch_pending=True)

    assert job_recovery(app.services).recover(recorded_before=now_micros() + 1).jobs == 4
    assert app.drain() == 4
    status = app.request(
        "GET",
        f"/taxii2/{app.settings.api_root}/status/{record.id}/",
        headers={"Accept": TAXII},
    ).json()
    assert status["status"] == "complete"
    assert status["success_count"] == 10 and status["failure_count"] == 0
    assert sorted(s["id"] for s in status["successes"]) == sorted(i["id"] for i in indicators)


def test_on_start_the_embedded_server_does_not_queue_what_is_already_queued(tmp_path: Path):
    app = open_app(
        tmp_path / "data", "sqlite", STEPPE_SYNC_OBSERVABLES="8", STEPPE_CHUNK_OBSERVABLES="8"
    )
    try:
        clean = clean_run(app, 20)
        crashed = crashed_before_queueing(app, clean, fresh_collection(app, "queued already"))
        # The process died after queueing chunk 1 (claimed, never settled) and before the rest.
        app.services.queue.send(
            [{"task": "process_chunk", "submission_id": crashed.id, "chunk": 1}]
        )
        app.services.queue.claim()
        recovered = recover_on_start(app.services, app.services.queue)
        assert recovered.jobs == 2
        assert app.services.queue.release_claimed() == 1
        assert app.drain() == 3 + 3  # the chunks, then their correlation
        same_outcome(app.request("GET", f"/api/v1/submissions/{crashed.id}").json(), clean)
    finally:
        app.close()


# -- idempotency across a crash ---------------------------------------------------


def left_in_progress(app: App) -> None:
    """What a POST that died after recording its submission leaves, once its time has run out.

    Powertools' record of the request is still in progress, with an
    in-progress expiry in the past (the API function's 29 s are over).
    """
    past_ms = (now_micros() // 1000) - 60_000
    if app.backend == "sqlite":
        with app.services.store.database.write() as conn:
            changed = conn.execute(
                "UPDATE idempotency SET status = 'INPROGRESS', in_progress_expiry = ?, data = NULL",
                (past_ms,),
            ).rowcount
        assert changed == 1
        return
    table = app.services.store.table
    items = table.client.query(
        TableName=table.name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "IDEMPOTENCY"}},
    )["Items"]
    assert len(items) == 1
    table.client.update_item(
        TableName=table.name,
        Key={"pk": items[0]["pk"], "sk": items[0]["sk"]},
        UpdateExpression="SET #s = :p, in_progress_expiration = :t REMOVE #d",
        ExpressionAttributeNames={"#s": "status", "#d": "data"},
        ExpressionAttributeValues={":p": {"S": "INPROGRESS"}, ":t": {"N": str(past_ms)}},
    )


@pytest.mark.parametrize("size", [6, 20])  # answered inline (201), queued (202)
def test_a_retry_after_a_crash_returns_the_one_submission(app: App, size: int):
    headers = {"Idempotency-Key": "kg-2009-upload-7"}
    first = app.submit(report(size), headers=headers)
    assert first.status in (201, 202)
    left_in_progress(app)
    retry = app.submit(report(size), headers=headers)
    assert retry.status in (201, 202), retry.body
    assert retry.json()["id"] == first.json()["id"]
    assert len(app.services.store.list_submissions()) == 1
    other_body = app.submit(report(size + 1), headers=headers)
    assert other_body.status == 400
    assert other_body.json()["where"] == "header Idempotency-Key"
    assert len(app.services.store.list_submissions()) == 1


def test_a_retry_after_a_crash_without_a_key_header_returns_the_one_submission(app: App):
    first = app.submit(report(20)).json()  # keyed by the request itself
    left_in_progress(app)
    assert app.submit(report(20)).json()["id"] == first["id"]
    assert len(app.services.store.list_submissions()) == 1


def test_a_retry_after_a_crash_before_the_record_creates_it_under_the_bound_id(app: App):
    from steppe.handlers.api import idempotency_key, request_digest

    body = orjson.dumps(report(20))
    digest = request_digest("application/json", {}, body)
    admin = app.services.store.get_partner("admin")
    assert admin is not None
    key = idempotency_key(admin.id, "kg-2009-upload-8", digest)
    bound, found = crash_recovery.bind_submission(
        app.services.store, key, digest, str(uuid.uuid4())
    )
    assert found is None  # the process died here: the key is bound, nothing else written
    retry = app.request(
        "POST",
        "/api/v1/observations",
        body=body,
        content_type="application/json",
        headers={"Idempotency-Key": "kg-2009-upload-8"},
    )
    assert retry.status == 202, retry.body
    assert retry.json()["id"] == bound
    assert [s.id for s in app.services.store.list_submissions()] == [bound]


def test_the_scheduled_sweep_of_the_worker_finishes_what_is_old_enough(app: App):
    from steppe.local.invoke import invoke
    from steppe.local.routes import RouteTable

    routes = RouteTable.from_template()
    schedule = load_template_schedule()
    assert schedule["Input"] == '{"task": "recover"}'
    clean = clean_run(app, 20)
    old = now_micros() - crash_recovery.SWEEP_GRACE_MICROS - 60_000_000
    crashed = crashed_before_queueing(app, clean, fresh_collection(app, "swept"))
    young = crashed_before_queueing(app, clean, fresh_collection(app, "still being written"))
    # Written before the grace period by a request that died (created is its record time).
    app.services.store.mark_dispatched("submission", crashed.id)
    stale = dataclasses.replace(crashed, id=str(uuid.uuid4()), created=old)
    app.services.store.create_submission(stale, dispatch_pending=True)

    swept = invoke(routes.sqs_trigger().function, orjson.loads(schedule["Input"]))
    assert swept == {"submissions": 1, "statuses": 0, "jobs": 3, "push_jobs": 0}
    assert app.drain() == 3
    assert app.request("GET", f"/api/v1/submissions/{stale.id}").json()["status"] == "complete"
    assert app.request("GET", f"/api/v1/submissions/{young.id}").json()["status"] == "pending"


def load_template_schedule() -> dict[str, Any]:
    from steppe.local.routes import load_template
    from support.app import TEMPLATE

    events = load_template(TEMPLATE)["Resources"]["WorkerFunction"]["Properties"]["Events"]
    return events["Recover"]["Properties"]
