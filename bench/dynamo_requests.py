"""DynamoDB requests of one 1,000-observable chunk (issue 11), counted on moto in process.

The STIX objects the converter makes of a 1,000-observable chunk are handled
as the write path handles them: their latest versions read by id
(steppe.store.latest), then the versions written with put_objects; once into a
collection that already holds a small chunk of the same report (a fresh
chunk: an empty collection would answer the reads by id from its STATE item
alone), then again (a re-sighting: every object already stored, nothing new
written); then one 1,000-object TAXII page is
read. Each figure is a count of requests by operation (botocore event hook on
the store's client), next to the same work on a store with the layout and
read path of before issue 11 (one listing partition per view, one Query per id
read by id), measured in the same run. The whole worker task's count (index,
feed index, submission records included) is tests/unit/test_aws_chunk_requests.py.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from bench.common import heading, row
from bench.ingest import submission
from steppe.conversion.converter import ConversionContext, Converter, Producer
from steppe.observables.report_json import parse_json
from steppe.stix.ids import derived_id
from steppe.store.aws import DynamoStore
from steppe.store.aws import table_keys as keys
from steppe.store.aws.provision import create_bucket, create_table
from steppe.store.latest import latest_versions
from steppe.store.port import ObjectQuery, ObjectVersion
from steppe.store.write_path import candidate
from steppe.templates.registry import TemplateRegistry

TEMPLATE = Path(__file__).resolve().parents[1] / "template.yaml"
OBSERVABLES = 1_000
SEED = 50  # observables of the chunk already in the collection
NOW = 1_767_225_600_000_000


def chunk_versions(first: int, size: int) -> list[ObjectVersion]:
    """The versions a chunk of a report's observables first..first+size stores (header
    objects included: every chunk of a report carries them)."""
    request = parse_json(json.dumps(submission(first + size)).encode())
    converter = Converter(TemplateRegistry.load())
    ctx = ConversionContext(
        submission_id="bench",
        producer=Producer(derived_id("identity", "bench"), "bench"),
        now=NOW,
        parts_total=1,
        id_secret=bytes(32),
    )
    objects = converter.header_objects(request.report, ctx)
    objects += converter.chunk_objects(request.report, request.observables[first:], 1, ctx)
    return [candidate(obj, 2).version for obj in objects]


def counted(client: Any, work: Callable[[], object]) -> Counter[str]:
    counts: Counter[str] = Counter()

    def sent(model: Any, **_: Any) -> None:
        counts[model.name] += 1

    client.meta.events.register("before-call.dynamodb", sent)
    try:
        work()
    finally:
        client.meta.events.unregister("before-call.dynamodb", sent)
    return counts


def chunk_work(store: DynamoStore, collection: str, versions: list[ObjectVersion]) -> None:
    """What the write path asks of the store for one chunk: its latest versions by id, then the
    versions written (duplicates are recognised and not written again)."""
    latest_versions(store, collection, list(dict.fromkeys(v.id for v in versions)))
    store.put_objects(collection, versions)


def measure(
    seed: list[ObjectVersion], versions: list[ObjectVersion], **options: Any
) -> dict[str, Counter[str]]:
    store = DynamoStore(
        boto3.client("dynamodb"), "steppe-bench", boto3.client("s3"), "steppe-bench", **options
    )
    client = store.table.client
    collection = str(uuid.uuid4())
    try:
        chunk_work(store, collection, seed)  # the collection is not empty
        return {
            "a fresh chunk": counted(client, lambda: chunk_work(store, collection, versions)),
            "the same chunk again (re-sighting)": counted(
                client, lambda: chunk_work(store, collection, versions)
            ),
            "a 1,000-object TAXII page": counted(
                client, lambda: store.list_objects(collection, ObjectQuery(limit=1000))
            ),
        }
    finally:
        store.close()


def show(counts: Counter[str]) -> str:
    return (
        f"{sum(counts.values()):,} ("
        + ", ".join(f"{name} {count:,}" for name, count in sorted(counts.items()))
        + ")"
    )


def _fast_moto() -> None:
    """The tests' two moto patches (tests/support): a transaction copies the items it touches,
    not the whole table, and a Query reads its partition, not the whole table (without this,
    the baseline's one Query per id made the run quadratic in the chunk's size)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from support import moto_queries, moto_transactions  # type: ignore[import-not-found]

    moto_transactions.install()
    moto_queries.install()


def run() -> None:
    for name, value in (
        ("AWS_DEFAULT_REGION", "eu-central-1"),
        ("AWS_ACCESS_KEY_ID", "bench"),
        ("AWS_SECRET_ACCESS_KEY", "bench"),
    ):
        os.environ.setdefault(name, value)
    _fast_moto()
    heading("DynamoDB requests of a 1,000-observable chunk (target: 5x fewer), moto in process")
    seed, versions = chunk_versions(0, SEED), chunk_versions(SEED, OBSERVABLES)
    with mock_aws():
        create_table(boto3.client("dynamodb"), "steppe-bench", TEMPLATE)
        create_bucket(boto3.client("s3"), "steppe-bench")
        now = measure(seed, versions)
        before = measure(seed, versions, listing_shards=1, batched_heads=False)
    print(
        f"  {len(versions):,} STIX objects, into a collection holding a {SEED}-observable chunk;"
        f" listing shards {keys.LISTING_SHARDS} (before: 1)"
    )
    for label in now:
        after, base = now[label], before[label]
        ratio = sum(base.values()) / max(1, sum(after.values()))
        row(label, f"{sum(after.values()):,} requests", f"before {show(base)}", f"{ratio:.1f}x")
        print(f"    now: {show(after)}")


if __name__ == "__main__":
    run()
