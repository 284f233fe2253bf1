"""What only the AWS adapter has to prove: bounded request counts, S3 spill, the lease.

Everything runs on moto in-process, on a table created exactly as template.yaml
declares it. DynamoDB requests are counted with a botocore event hook on the
client the store uses; nothing here measures time.
"""

from __future__ import annotations

import base64
import json
import random
import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber
from moto import mock_aws

from steppe.config import Settings
from steppe.stix.timestamps import now_micros
from steppe.store.aws import DynamoStore, S3BlobStore, SqsJobQueue, audit, open_aws, statuses
from steppe.store.aws import table_keys as keys
from steppe.store.aws.provision import create_bucket, create_table
from steppe.store.aws.queue import QueueError
from steppe.store.port import (
    ALL_VERSIONS,
    FIRST,
    AuditRecord,
    Collection,
    ObjectQuery,
    ObjectVersion,
    StatusPart,
    StatusRecord,
    VersionFilter,
)

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
TABLE = "steppe-unit"
BUCKET = "steppe-unit-blobs"
TYPES = ("indicator", "malware", "ipv4-addr")
SMALL, LARGE = 100, 1500


@pytest.fixture(scope="module")
def aws() -> Iterator[None]:
    with mock_aws():
        create_table(boto3.client("dynamodb"), TABLE, TEMPLATE)
        create_bucket(boto3.client("s3"), BUCKET)
        yield


def make_store(**options: Any) -> DynamoStore:
    """A store on its own clients, as a separate process (Lambda instance) would have."""
    return DynamoStore(boto3.client("dynamodb"), TABLE, boto3.client("s3"), BUCKET, **options)


@pytest.fixture
def store(aws: None) -> Iterator[DynamoStore]:
    created = make_store()
    yield created
    created.close()


@pytest.fixture
def collection() -> str:
    return str(uuid.uuid4())


class Requests:
    """The DynamoDB operations a client sends, in order."""

    def __init__(self, client: Any) -> None:
        self.names: list[str] = []
        client.meta.events.register("before-call.dynamodb", self._record)

    def _record(self, model: Any, **_: Any) -> None:
        self.names.append(model.name)

    def during(self, action: Any) -> list[str]:
        self.names.clear()
        action()
        return list(self.names)


def oid(kind: str, n: int) -> str:
    return f"{kind}--{uuid.UUID(int=n, version=4)}"


def version(object_id: str, modified: int | None, tlp: int = 0, body: bytes | None = None):
    kind = object_id.split("--")[0]
    if body is None:
        body = json.dumps({"type": kind, "id": object_id, "modified": modified}).encode()
    return ObjectVersion(object_id, kind, modified, "2.1", tlp, body)


def fill(store: DynamoStore, collection_id: str, size: int) -> list[str]:
    """`size` objects over three types and TLP levels; every tenth gets a second version."""
    ids = [oid(TYPES[i % 3], i) for i in range(size)]
    store.put_objects(collection_id, [version(i, 1000, tlp=n % 4) for n, i in enumerate(ids)])
    store.put_objects(collection_id, [version(i, 2000, tlp=1) for i in ids[::10]])
    return ids


def listing_count(client: Any, collection_id: str, view: str) -> int:
    """Entries in a listing (all its shards), read raw (watermark or not)."""
    return sum(
        client.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={
                ":pk": {"S": keys.listing(collection_id, view, shard=shard)}
            },
            Select="COUNT",
            ConsistentRead=True,
        )["Count"]
        for shard in range(keys.LISTING_SHARDS)
    )


# ---------------------------------------------------------------------------
# The cost of a page does not grow with the collection
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sized(aws: None) -> Iterator[tuple[DynamoStore, dict[int, tuple[str, list[str], int]]]]:
    reader = make_store()
    writer = make_store()
    collections = {}
    for size in (SMALL, LARGE):
        collection_id = str(uuid.uuid4())
        ids = fill(writer, collection_id, size)
        collections[size] = (collection_id, ids, _middle(reader, collection_id))
    writer.close()
    yield reader, collections
    reader.close()


def _middle(store: DynamoStore, collection_id: str) -> int:
    page = store.list_objects(collection_id, ObjectQuery(limit=40, versions=ALL_VERSIONS))
    return page.records[-1].date_added


PAGES = {
    "last view (the default)": lambda ids, mid: ObjectQuery(limit=50),
    "all versions": lambda ids, mid: ObjectQuery(limit=50, versions=ALL_VERSIONS),
    "first view": lambda ids, mid: ObjectQuery(limit=50, versions=FIRST),
    "one type": lambda ids, mid: ObjectQuery(limit=50, types=frozenset({"malware"})),
    "two types, all versions": lambda ids, mid: ObjectQuery(
        limit=50, types=frozenset({"malware", "indicator"}), versions=ALL_VERSIONS
    ),
    "filtered by TLP": lambda ids, mid: ObjectQuery(limit=50, max_tlp=1),
    "manifest from the middle": lambda ids, mid: ObjectQuery(
        limit=50, added_after=mid, with_body=False
    ),
    "match[id]": lambda ids, mid: ObjectQuery(ids=frozenset({ids[30]}), versions=ALL_VERSIONS),
    "first and last": lambda ids, mid: ObjectQuery(
        limit=50, versions=VersionFilter(first=True, last=True)
    ),
}


@pytest.mark.parametrize("page", PAGES)
def test_requests_per_page_are_the_same_for_100_and_1500_objects(sized, page):
    store, collections = sized
    requests = Requests(store.table.client)
    seen = {}
    for size, (collection_id, ids, middle) in collections.items():
        query = PAGES[page](ids, middle)
        pages = []
        names = requests.during(
            lambda q=query, c=collection_id, out=pages: out.append(store.list_objects(c, q))
        )
        assert pages[0].records, f"{page}: the page over {size} objects is empty"
        seen[size] = names
    assert seen[SMALL] == seen[LARGE]
    assert "Scan" not in seen[LARGE]


def test_a_page_is_one_getitem_one_query_per_shard_and_one_batchget_per_100_bodies(sized):
    store, collections = sized
    collection_id, ids, _ = collections[LARGE]
    requests = Requests(store.table.client)
    shards = ["Query"] * keys.LISTING_SHARDS
    assert requests.during(lambda: store.list_objects(collection_id, ObjectQuery(limit=100))) == [
        "GetItem",
        *shards,
        "BatchGetItem",
    ]
    assert requests.during(lambda: store.list_objects(collection_id, ObjectQuery(limit=250))) == [
        "GetItem",
        *shards,
        "BatchGetItem",
        "BatchGetItem",
        "BatchGetItem",
    ]
    assert requests.during(
        lambda: store.list_objects(collection_id, ObjectQuery(limit=100, with_body=False))
    ) == ["GetItem", *shards]
    assert requests.during(
        lambda: store.list_objects(collection_id, ObjectQuery(ids=frozenset({ids[0]})))
    ) == ["GetItem", "Query"]


def test_the_latest_versions_of_many_ids_are_two_batchgets_per_100_ids(sized):
    store, collections = sized
    collection_id, ids, _ = collections[LARGE]
    wanted = frozenset(ids[:300])
    requests = Requests(store.table.client)
    names: list[str] = []
    pages = []
    names = requests.during(
        lambda: pages.append(store.list_objects(collection_id, ObjectQuery(ids=wanted, limit=300)))
    )
    assert names == ["GetItem"] + ["BatchGetItem"] * 6
    by_query = {
        oid: store.list_objects(collection_id, ObjectQuery(ids=frozenset({oid}))).records
        for oid in sorted(wanted)[:20]
    }
    assert {r.id for r in pages[0].records} == wanted
    for record in pages[0].records:
        if record.id in by_query:
            assert [record] == by_query[record.id]
    # Every tenth object has a second version: the batched read returns that one.
    assert {r.version for r in pages[0].records if r.id in set(ids[:300:10])} == {2000}


def test_a_collection_s_listing_is_spread_over_its_shards(sized):
    store, collections = sized
    collection_id, _, _ = collections[LARGE]
    per_shard = [
        store.table.client.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={
                ":pk": {"S": keys.listing(collection_id, "all", shard=shard)}
            },
            Select="COUNT",
            ConsistentRead=True,
        )["Count"]
        for shard in range(keys.LISTING_SHARDS)
    ]
    assert sum(per_shard) == LARGE + LARGE // 10
    assert min(per_shard) > (LARGE // keys.LISTING_SHARDS) // 2


def test_type_filter_reads_only_that_type(sized):
    store, collections = sized
    collection_id, _, _ = collections[LARGE]
    page = store.list_objects(
        collection_id, ObjectQuery(limit=1000, types=frozenset({"ipv4-addr"}))
    )
    assert len(page.records) == LARGE // 3
    assert {r.type for r in page.records} == {"ipv4-addr"}
    assert page.more is False


# ---------------------------------------------------------------------------
# Bodies too large for an item
# ---------------------------------------------------------------------------


def test_big_bodies_spill_to_s3_and_read_back(store, collection):
    big_id, small_id = oid("report", 1), oid("report", 2)
    big = json.dumps({"type": "report", "id": big_id, "padding": "x" * 400_000}).encode()
    store.put_objects(collection, [version(big_id, 1000, body=big), version(small_id, 1000)])

    s3 = boto3.client("s3")
    spilled = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"objects/{collection}/")
    assert [o["Key"] for o in spilled.get("Contents", [])] == [
        keys.spilled_body(collection, big_id, 1000)
    ]
    item = store.table.get(keys.obj(collection, big_id), keys.version_sk(1000))
    assert item is not None and "b" not in item and int(item["z"]["N"]) == len(big)

    page = store.list_objects(collection, ObjectQuery())
    assert {r.id: r.body for r in page.records}[big_id] == big
    by_id = store.list_objects(collection, ObjectQuery(ids=frozenset({big_id})))
    assert [r.body for r in by_id.records] == [big]

    assert store.delete_object(collection, big_id) == 1
    after = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"objects/{collection}/")
    assert after.get("KeyCount", 0) == 0


def test_max_bytes_cuts_a_page_by_stored_sizes(store, collection):
    ids = [oid("note", n) for n in range(5)]
    store.put_objects(collection, [version(i, 1000, body=b"x" * 100) for i in ids])
    page = store.list_objects(collection, ObjectQuery(max_bytes=250))
    assert [r.id for r in page.records] == ids[:2]
    assert page.more is True and page.last_position == page.records[-1].date_added


# ---------------------------------------------------------------------------
# The watermark and the lease
# ---------------------------------------------------------------------------


def test_readers_do_not_see_a_write_before_its_commit(aws, collection):
    writer, reader = make_store(), make_store()
    earlier = [version(oid("indicator", n), 1000) for n in range(3)]
    writer.put_objects(collection, earlier)
    later = [version(oid("indicator", n), 1000) for n in range(3, 8)]
    observed: dict[str, Any] = {}

    def before_commit(params: dict[str, Any], **_: Any) -> None:
        if "#committed" in params.get("UpdateExpression", "") and not observed:
            observed["page"] = reader.list_objects(collection, ObjectQuery(versions=ALL_VERSIONS))
            observed["count"] = reader.count_objects(collection)
            observed["written"] = listing_count(reader.table.client, collection, "all")

    writer.table.client.meta.events.register(
        "before-parameter-build.dynamodb.UpdateItem", before_commit
    )
    writer.put_objects(collection, later)

    # The new entries were in the table, but above the watermark: invisible.
    assert observed["written"] == 8
    assert [r.id for r in observed["page"].records] == [o.id for o in earlier]
    assert observed["count"] == 3
    visible = reader.list_objects(collection, ObjectQuery(versions=ALL_VERSIONS))
    assert [r.id for r in visible.records] == [o.id for o in earlier + later]


class Crash:
    """Makes a store's client fail every DynamoDB call once a given call has gone through.

    That is what a writer that dies (or loses the network) leaves behind.
    """

    def __init__(self, store: DynamoStore, when: Any) -> None:
        self.dead = False
        self._when = when
        self._armed = False
        events = store.table.client.meta.events
        events.register("before-parameter-build.dynamodb", self._arm)
        events.register("before-call.dynamodb", self._refuse)
        events.register("after-call.dynamodb", self._fire)

    def _arm(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if self._when(model.name, params):
            self._armed = True

    def _refuse(self, **_: Any) -> None:
        if self.dead:
            raise EndpointConnectionError(endpoint_url="https://dynamodb.invalid")

    def _fire(self, **_: Any) -> None:
        if self._armed:
            self.dead = True


def _raw_entries_above_watermark(store: DynamoStore, collection_id: str) -> int:
    state = store.table.get(keys.collection(collection_id), keys.STATE)
    assert state is not None
    watermark = int(state["watermark"]["N"])
    above = 0
    for shard in range(keys.LISTING_SHARDS):
        items, _ = store.table.query_page(keys.listing(collection_id, "all", shard=shard))
        above += sum(1 for item in items if keys.unpad(item["sk"]["S"]) > watermark)
    return above


def test_a_writer_that_dies_before_its_commit_is_undone_by_the_next(aws, collection):
    setup = make_store()
    kept = version(oid("indicator", 1), 1000)
    setup.put_objects(collection, [kept])

    dying = make_store(lease_seconds=1.5)
    crash = Crash(dying, when=lambda name, params: name == "BatchWriteItem")
    doomed = [version(oid("indicator", 1), 2000)] + [
        version(oid("indicator", n), 1000) for n in range(2, 12)
    ]
    with pytest.raises(EndpointConnectionError):
        dying.put_objects(collection, doomed)
    assert crash.dead
    assert _raw_entries_above_watermark(setup, collection) > 0  # half-written, invisible

    # The next writer waits for the lease to expire, undoes the dead one, writes.
    survivor = make_store()
    fresh = version(oid("malware", 99), 1000)
    outcomes = survivor.put_objects(collection, [fresh])
    assert [o.outcome for o in outcomes] == ["created"]
    assert _raw_entries_above_watermark(survivor, collection) == 0
    last = survivor.list_objects(collection, ObjectQuery())
    assert [(r.id, r.version) for r in last.records] == [(kept.id, 1000), (fresh.id, 1000)]
    assert survivor.count_objects(collection) == 2
    assert listing_count(survivor.table.client, collection, "all") == 2

    # The dead writer's work can be done again, as if for the first time.
    retried = survivor.put_objects(collection, doomed)
    assert [o.outcome for o in retried] == ["updated"] + ["created"] * 10
    assert survivor.count_objects(collection) == 13


def test_a_writer_that_dies_after_its_commit_is_finished_by_the_next(aws, collection):
    setup = make_store()
    updated = oid("indicator", 1)
    setup.put_objects(collection, [version(updated, 1000)])

    dying = make_store(lease_seconds=1.5)
    crash = Crash(
        dying,
        when=lambda name, params: "#committed" in params.get("UpdateExpression", ""),
    )
    with pytest.raises(EndpointConnectionError):
        dying.put_objects(collection, [version(updated, 2000)])
    assert crash.dead

    # Committed: the new version is visible; the superseded "last" entry is not yet gone.
    reader = make_store()  # its own lease is the default one; the dead one expires sooner
    stale = reader.list_objects(collection, ObjectQuery())
    assert [(r.id, r.version) for r in stale.records] == [(updated, 1000), (updated, 2000)]

    reader.put_objects(collection, [version(oid("malware", 7), 1000)])  # waits, takes over
    last = reader.list_objects(collection, ObjectQuery())
    assert [(r.id, r.version) for r in last.records] == [(updated, 2000), (oid("malware", 7), 1000)]
    assert reader.count_objects(collection) == 3


# ---------------------------------------------------------------------------
# S3 blobs, the SQS queue, the assembled services
# ---------------------------------------------------------------------------


def test_s3_blob_store_round_trip(aws):
    blobs = S3BlobStore(boto3.client("s3"), BUCKET)
    key = f"submissions/{uuid.uuid4()}/raw"
    assert blobs.get(key) is None
    assert blobs.exists(key) is False
    blobs.put(key, b"ip\n198.51.100.7\n", "text/csv")
    assert blobs.get(key) == b"ip\n198.51.100.7\n"
    assert blobs.exists(key) is True
    head = boto3.client("s3").head_object(Bucket=BUCKET, Key=key)
    assert head["ContentType"] == "text/csv"
    blobs.delete(key)
    blobs.delete(key)  # absent: no error
    assert blobs.get(key) is None


def _drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    bodies = []
    while True:
        response = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
        messages = response.get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_sqs_queue_sends_every_message_in_batches(aws):
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName=f"work-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue = SqsJobQueue(sqs, url)
    batches: list[list[int]] = []
    sqs.meta.events.register(
        "before-parameter-build.sqs.SendMessageBatch",
        lambda params, **_: batches.append(
            [len(entry["MessageBody"].encode()) for entry in params["Entries"]]
        ),
    )
    # 23 small jobs and 4 of 100 KB: a batch holds at most 10 messages and 256 KiB.
    messages: list[dict[str, object]] = [
        {"task": "process_chunk", "submission_id": "s-1", "chunk": n} for n in range(1, 24)
    ]
    messages += [{"task": "note", "padding": "p" * 100_000, "n": n} for n in range(4)]
    queue.send(messages)

    assert sum(len(batch) for batch in batches) == len(messages)
    assert all(len(batch) <= 10 and sum(batch) <= 256 * 1024 for batch in batches)
    assert len(batches) > 3  # 27 messages, but the large ones do not fit three batches
    received = _drain(sqs, url)
    key = json.dumps
    assert sorted(map(key, received)) == sorted(map(key, messages))


def test_sqs_queue_fails_loudly_when_entries_are_refused(aws):
    sqs = boto3.client("sqs")
    queue = SqsJobQueue(sqs, "https://sqs.eu-central-1.amazonaws.com/123456789012/work")
    with Stubber(sqs) as stub:
        stub.add_response(
            "send_message_batch",
            {
                "Successful": [{"Id": "0", "MessageId": "m0", "MD5OfMessageBody": "x"}],
                "Failed": [
                    {
                        "Id": "1",
                        "SenderFault": False,
                        "Code": "InternalError",
                        "Message": "try again",
                    }
                ],
            },
        )
        with pytest.raises(QueueError, match=r"refused 1 of 2 messages.*InternalError"):
            queue.send([{"chunk": 1}, {"chunk": 2}])


# ---------------------------------------------------------------------------
# Issue 3: TAXII statuses, the audit trail, server secrets, unmarked TLP
# ---------------------------------------------------------------------------

HOUR = 3_600_000_000
DAY = 24 * HOUR
JAN_2009 = 1_230_768_000_000_000  # 2009-01-01T00:00:00Z: days no other test writes to


def test_a_status_and_its_parts_carry_the_ttl_a_day_past_expires(store):
    now = now_micros()
    record = StatusRecord(str(uuid.uuid4()), "kg-cert", str(uuid.uuid4()), now, 1, now + DAY + 1)
    store.create_status(record)
    store.record_status_part(
        record.id, StatusPart(0, successes=((oid("indicator", 1), None, None),))
    )
    items = boto3.client("dynamodb").query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": keys.status(record.id)}},
    )["Items"]
    # Epoch seconds (TTL ignores anything else), rounded up, plus a day.
    expected = (now + DAY + 1) // 1_000_000 + 1 + 86_400
    assert [(i["sk"]["S"], int(i["expires_at"]["N"])) for i in items] == [
        (keys.status_part_sk(0), expected),
        (keys.STATUS_SK, expected),
    ]
    assert statuses.expires_at(record.expires) == expected


def test_an_expired_status_that_ttl_has_not_deleted_yet_is_hidden(store):
    """TTL deletes days late: until then the item is there, and reads must ignore it."""
    now = now_micros()
    record = StatusRecord(str(uuid.uuid4()), "kg-cert", str(uuid.uuid4()), now - DAY, 1, now - 1)
    store.create_status(record)
    store.table.put(
        {
            "pk": {"S": keys.status(record.id)},
            "sk": {"S": keys.status_part_sk(0)},
            "outcomes": {"B": b"unread"},
            "expires_at": {"N": "1"},
        }
    )
    assert store.table.get(keys.status(record.id), keys.STATUS_SK) is not None
    assert store.get_status(record.id) is None
    assert store.status_parts(record.id) == []


def test_a_part_too_large_for_an_item_spills_to_s3_and_a_retry_keeps_the_first(store):
    now = now_micros()
    record = StatusRecord(str(uuid.uuid4()), "kg-cert", str(uuid.uuid4()), now, 1_000, now + DAY)
    store.create_status(record)
    # Random messages barely compress: 500 KB of them.
    noise = [base64.b64encode(random.randbytes(375)).decode() for _ in range(1_000)]
    part = StatusPart(
        3, failures=tuple((oid("indicator", i), None, noise[i]) for i in range(1_000))
    )
    assert store.record_status_part(record.id, part) is True
    item = store.table.get(keys.status(record.id), keys.status_part_sk(3))
    assert "outcomes" not in item and item["outcomes_blob"]["S"].startswith(
        f"statuses/{record.id}/parts/3-"
    )
    retried = StatusPart(3, failures=tuple((f, v, m + "!") for f, v, m in part.failures))
    assert store.record_status_part(record.id, retried) is False
    assert store.status_parts(record.id) == [part]
    s3 = boto3.client("s3")
    spilled = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"statuses/{record.id}/")
    assert [o["Key"] for o in spilled["Contents"]] == [item["outcomes_blob"]["S"]]


def test_an_audit_append_is_one_putitem_in_its_day_with_a_year_of_ttl(store):
    requests = Requests(store.table.client)
    time = JAN_2009 + 17 * DAY + 6 * HOUR  # 2009-01-18T06:00:00Z
    record = AuditRecord(time, "req-kg-1", "kg-cert", "GET", "/taxii2/", 200)
    assert requests.during(lambda: store.append_audit(record)) == ["PutItem"]
    item = store.table.get("AUDIT#2009-01-18", keys.audit_sk(time, "req-kg-1"))
    assert int(item["expires_at"]["N"]) == time // 1_000_000 + 366 * 86_400
    assert "partner" in item and "collection_id" not in item


@pytest.fixture
def own_table(aws: None) -> Iterator[DynamoStore]:
    """A store on a fresh table of its own.

    moto's Query reads every item of the table, and this module's table holds
    thousands: tests that make many Queries run on a small one.
    """
    table = f"steppe-audit-{uuid.uuid4().hex[:8]}"
    dynamodb = boto3.client("dynamodb")
    create_table(dynamodb, table, TEMPLATE)
    created = DynamoStore(dynamodb, table, boto3.client("s3"), BUCKET)
    yield created
    created.close()
    dynamodb.delete_table(TableName=table)


def test_an_audit_listing_walks_a_bounded_number_of_days(own_table):
    store = own_table
    requests = Requests(store.table.client)
    base = JAN_2009 + 100 * DAY
    for day in range(3):
        for hour in range(4):
            store.append_audit(
                AuditRecord(
                    base + day * DAY + hour * HOUR, f"r-{day}-{hour}", "kg-cert", "GET", "/", 200
                )
            )
    until = base + 3 * DAY
    # Enough records in the newest day: one Query.
    listed = requests.during(lambda: store.list_audit(until=until, limit=3))
    assert listed == ["Query"]
    # Two days and a bit: three day partitions, each read once.
    assert requests.during(lambda: store.list_audit(until=until, limit=9)) == ["Query"] * 3
    # `since` bounds the walk; without it, the walk stops a retention period back.
    assert (
        requests.during(lambda: store.list_audit(since=base - 5 * DAY, until=until)).count("Query")
        == 8
    )
    walk = requests.during(lambda: store.list_audit(until=base - 10 * DAY))
    assert walk == ["Query"] * (audit.RETENTION_DAYS + audit.TTL_LAG_DAYS + 1)


def test_a_server_secret_is_read_once_per_store(store):
    requests = Requests(store.table.client)
    name = f"secret-{uuid.uuid4()}"
    first = requests.during(lambda: store.server_secret(name))
    assert first == ["GetItem", "PutItem", "GetItem"]
    assert requests.during(lambda: store.server_secret(name)) == []
    other = make_store()
    try:
        assert Requests(other.table.client).during(lambda: other.server_secret(name)) == ["GetItem"]
        assert other.server_secret(name) == store.server_secret(name)
    finally:
        other.close()


def test_first_calls_that_all_read_nothing_agree_on_one_secret(aws):
    """The worst interleaving, forced: every racer has read no secret before any proposes one.

    Each racer is a store on its own client (a Lambda instance). A botocore
    hook holds every PutItem until all racers have reached theirs, then lets
    one request at a time through (DynamoDB applies each request atomically).
    """
    racers = 4
    stores = [make_store() for _ in range(racers)]
    proposing = threading.Barrier(racers, timeout=60)
    one_at_a_time = threading.Lock()

    def hold(model: Any, context: dict[str, Any], **_: Any) -> None:
        if model.name == "PutItem":
            proposing.wait()
        one_at_a_time.acquire()
        context["held"] = True

    def release(context: dict[str, Any], **_: Any) -> None:
        if context.pop("held", False):
            one_at_a_time.release()

    requests = []
    for racer in stores:
        client = racer.table.client
        client.meta.events.register("before-call.dynamodb", hold)
        client.meta.events.register("after-call.dynamodb", release)
        client.meta.events.register("after-call-error.dynamodb", release)
        requests.append(Requests(client))
    seen: list[bytes] = []
    threads = [
        threading.Thread(target=lambda r=racer: seen.append(r.server_secret("race")))
        for racer in stores
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for racer in stores:
        racer.close()
    assert all(r.names == ["GetItem", "PutItem", "GetItem"] for r in requests)
    assert len(seen) == racers and len(set(seen)) == 1


def test_a_collection_stored_before_unmarked_tlp_existed_reads_the_default(own_table):
    """Items written by the issue-2 steppe have no unmarked_tlp: they read the port's default."""
    store = own_table
    collection = Collection(str(uuid.uuid4()), "steppe", "Kyrgyzstan DDoS", unmarked_tlp=3)
    store.create_collection(collection)
    for pk, sk in (
        (keys.coll(collection.id), keys.COLLECTION_SK),
        (keys.root_collections("steppe"), keys.root_collection_sk(0, collection.id)),
    ):
        store.table.client.update_item(
            TableName=store.table.name,
            Key={"pk": {"S": pk}, "sk": {"S": sk}},
            UpdateExpression="REMOVE unmarked_tlp",
            ConditionExpression="attribute_exists(unmarked_tlp)",
        )
    assert store.get_collection(collection.id) == replace(collection, unmarked_tlp=1)
    assert store.list_collections("steppe") == [replace(collection, unmarked_tlp=1)]
    assert store.find_collection_by_title("steppe", "Kyrgyzstan DDoS").unmarked_tlp == 1


@pytest.mark.filterwarnings("ignore:Couldn't determine the remaining time left")
def test_open_aws_builds_the_services_on_one_table(aws):
    from aws_lambda_powertools.utilities.idempotency import (
        IdempotencyConfig,
        idempotent_function,
    )

    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName=f"work-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    settings = Settings.from_env(
        {
            "STEPPE_BACKEND": "aws",
            "STEPPE_TABLE": TABLE,
            "STEPPE_BUCKET": BUCKET,
            "STEPPE_QUEUE_URL": url,
        }
    )
    services = open_aws(settings)
    try:
        assert isinstance(services.store, DynamoStore)
        services.queue.send([{"task": "ping"}])
        assert _drain(sqs, url) == [{"task": "ping"}]
        services.blobs.put("probe/one", b"1")
        assert services.blobs.get("probe/one") == b"1"

        # The idempotency records live in the same table, under their own partition.
        calls = []

        @idempotent_function(
            data_keyword_argument="request",
            persistence_store=services.idempotency,
            config=IdempotencyConfig(),
        )
        def submit(request: dict[str, Any]) -> dict[str, Any]:
            calls.append(request)
            return {"accepted": request["n"]}

        assert submit(request={"n": 1}) == {"accepted": 1}
        assert submit(request={"n": 1}) == {"accepted": 1}
        assert calls == [{"n": 1}]
        records = boto3.client("dynamodb").query(
            TableName=TABLE,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "IDEMPOTENCY"}},
        )["Items"]
        assert len(records) == 1 and "expires_at" in records[0]
    finally:
        services.close()
