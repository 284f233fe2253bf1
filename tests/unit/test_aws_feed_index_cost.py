"""The DynamoDB feed index reads what it returns, not what it holds (AWS shape, on moto).

Every DynamoDB request the store sends is recorded with a botocore event hook,
with the items each Query read (ScannedCount, filtered ones included), against
a collection of SIZE entries: each read stays within a few times its limit.
(One size only: moto copies the whole table for every transaction, so filling
a second, larger one would take a minute. Nothing here measures time.)
"""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from steppe.store.aws import DynamoStore
from steppe.store.aws.provision import create_bucket, create_table
from steppe.store.port import FeedIndexEntry, FeedSelection

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
TABLE = "steppe-feed-cost"
BUCKET = "steppe-feed-cost-blobs"
HOUR = 3_600_000_000
NOW = 1_767_225_600_000_000
TYPES = ("ipv4-addr", "domain-name")
SIZE = 100
LIMIT = 10


class Requests:
    """The operations a client sends and the items its Queries read.

    Requests also run one at a time: moto applies concurrent transactions
    unsafely, and the store sends independent batches in parallel.
    """

    def __init__(self, client: Any) -> None:
        self.names: list[str] = []
        self.scanned = 0
        self._serial = threading.Lock()
        client.meta.events.register("before-call.dynamodb", self._sent)
        client.meta.events.register("after-call.dynamodb", self._answered)
        client.meta.events.register("after-call-error.dynamodb", self._failed)

    def _sent(self, model: Any, **_: Any) -> None:
        self._serial.acquire()
        self.names.append(model.name)

    def _answered(self, parsed: dict[str, Any], **_: Any) -> None:
        self.scanned += parsed.get("ScannedCount", 0)
        self._serial.release()

    def _failed(self, **_: Any) -> None:
        self._serial.release()

    def clear(self) -> None:
        self.names.clear()
        self.scanned = 0


def _entries(collection_id: str, size: int, seed: int) -> list[FeedIndexEntry]:
    pick = random.Random(seed)
    entries = []
    for number in range(size):
        value = f"198.51.{100 + number // 250}.{number % 250}"
        retired = NOW - HOUR if number % 5 == 0 else None
        entries.append(
            FeedIndexEntry(
                collection_id=collection_id,
                indicator_id=f"indicator--{uuid.UUID(int=pick.getrandbits(128))}",
                type=TYPES[number % 2],
                value=value,
                key=f"{TYPES[number % 2]}:{value}",
                tlp=number % 3,
                score=pick.randint(0, 100),
                scored_at=NOW - HOUR,
                base=80,
                last_seen=NOW - HOUR,
                lifetime_us=30 * 24 * HOUR,
                decay_speed=0.5,
                threshold=20,
                expires_at=NOW + pick.randint(-3 * HOUR, 3 * HOUR),
                retired_at=retired,
                detail=b'{"confidence": 80}',
            )
        )
    return entries


@pytest.fixture(scope="module")
def filled() -> Iterator[tuple[DynamoStore, Requests, str]]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        create_table(dynamodb, TABLE, TEMPLATE)
        create_bucket(boto3.client("s3"), BUCKET)
        store = DynamoStore(dynamodb, TABLE, boto3.client("s3"), BUCKET)
        requests = Requests(dynamodb)
        collection_id = str(uuid.uuid4())
        store.put_feed_entries(_entries(collection_id, SIZE, seed=SIZE))
        try:
            yield store, requests, collection_id
        finally:
            store.close()


def test_a_feed_selection_reads_about_its_limit(filled):
    store, requests, collection_id = filled
    selection = FeedSelection(
        collections=frozenset({collection_id}), types=frozenset(TYPES), max_tlp=1
    )
    requests.clear()
    found = store.select_feed_entries(selection, NOW, LIMIT)
    assert len(found) == LIMIT
    assert set(requests.names) == {"Query"}
    # Two partitions (one per type), each read a page of its share of the limit at a
    # time. About one entry in three passes the TLP and expiry filters here, and the
    # entries they pass over are read too: about three times the limit, of SIZE.
    assert len(requests.names) <= 6
    assert requests.scanned <= 4 * LIMIT


def test_an_active_walk_page_reads_about_its_limit(filled):
    store, requests, collection_id = filled
    requests.clear()
    page = store.active_feed_entries((collection_id, ""), LIMIT)
    assert len(page) == LIMIT
    assert set(requests.names) == {"Query"}
    assert requests.scanned <= 2 * LIMIT


def test_due_entries_read_a_bounded_share_of_every_shard(filled):
    store, requests, _ = filled
    requests.clear()
    due = store.due_feed_entries(NOW, LIMIT)
    assert len(due) == LIMIT
    assert set(requests.names) == {"Query"}
    assert requests.scanned <= 4 * LIMIT + 8


def test_a_put_is_one_read_one_transaction_and_one_generation_step(filled):
    store, requests, collection_id = filled
    first = _entries(collection_id, 1, seed=SIZE)[0]
    [entry] = store.get_feed_entries(collection_id, [first.indicator_id])
    requests.clear()
    store.put_feed_entries([entry._replace(score=entry.score // 2)])
    assert requests.names[:2] == ["BatchGetItem", "TransactWriteItems"]
    assert set(requests.names[2:]) == {"UpdateItem"} and len(requests.names) <= 4
    requests.clear()
    store.feed_generations([collection_id, str(uuid.uuid4())])
    assert requests.names == ["BatchGetItem"]
