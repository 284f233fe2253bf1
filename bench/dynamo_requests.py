"""DynamoDB requests of one 1,000-observable chunk (issue 11), counted on moto in process.

The STIX objects the converter makes of a 1,000-observable chunk are written
with put_objects, their latest versions are read back by id the way the one
write path reads them (steppe.store.latest), and one 1,000-object TAXII page
is read. Each figure is a count of requests by operation (botocore event hook
on the store's client), next to the same work on a store with the layout and
read path of before issue 11 (one listing partition per view, one Query per id
read by id), measured in the same run. The whole worker task's count (index,
feed index, submission records included) is tests/unit/test_aws_chunk_requests.py.
"""

from __future__ import annotations

import json
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
# Ids read back by id: moto answers a Query by reading the whole table, so the
# baseline's one Query per id is read for a sample (the count is per id either way).
READ_BACK = 300
NOW = 1_767_225_600_000_000


def chunk_versions() -> list[ObjectVersion]:
    """The versions one 1,000-observable chunk stores (header objects included)."""
    request = parse_json(json.dumps(submission(OBSERVABLES)).encode())
    converter = Converter(TemplateRegistry.load())
    ctx = ConversionContext(
        submission_id="bench",
        producer=Producer(derived_id("identity", "bench"), "bench"),
        now=NOW,
        parts_total=1,
        id_secret=bytes(32),
    )
    objects = converter.header_objects(request.report, ctx)
    objects += converter.chunk_objects(request.report, request.observables, 1, ctx)
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


def measure(versions: list[ObjectVersion], **options: Any) -> dict[str, Counter[str]]:
    store = DynamoStore(
        boto3.client("dynamodb"), "steppe-bench", boto3.client("s3"), "steppe-bench", **options
    )
    client = store.table.client
    collection = str(uuid.uuid4())
    ids = [v.id for v in versions][:READ_BACK]
    try:
        return {
            "write the chunk's objects": counted(
                client, lambda: store.put_objects(collection, versions)
            ),
            f"read {READ_BACK} of their latest versions by id": counted(
                client, lambda: latest_versions(store, collection, ids)
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


def _fast_moto_transactions() -> None:
    """moto copies the whole table per transaction; the tests' patch copies what it touches."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from support import moto_transactions  # type: ignore[import-not-found]

    moto_transactions.install()


def run() -> None:
    _fast_moto_transactions()
    heading("DynamoDB requests of a 1,000-observable chunk (target: 5x fewer), moto in process")
    versions = chunk_versions()
    with mock_aws():
        create_table(boto3.client("dynamodb"), "steppe-bench", TEMPLATE)
        create_bucket(boto3.client("s3"), "steppe-bench")
        now = measure(versions)
        before = measure(versions, listing_shards=1, batched_heads=False)
    print(f"  {len(versions):,} STIX objects; listing shards {keys.LISTING_SHARDS} (before: 1)")
    for label in now:
        after, base = now[label], before[label]
        ratio = sum(base.values()) / max(1, sum(after.values()))
        row(label, f"{sum(after.values()):,} requests", f"before {show(base)}", f"{ratio:.1f}x")
        print(f"    now: {show(after)}")


if __name__ == "__main__":
    run()
