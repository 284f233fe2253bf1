"""The adapters the contract suite runs against.

Each entry opens a fresh, empty store rooted in the given temporary folder
and closes it afterwards. The suite (conftest.py) parametrizes its `store`
and `blobs` fixtures over these dicts, so a new adapter joins every contract
test by adding one entry here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from steppe.store.port import BlobStore, Store
from steppe.store.sqlite import FolderBlobStore, SqliteStore


@contextmanager
def sqlite_store(root: Path) -> Iterator[Store]:
    store = SqliteStore(root)
    try:
        yield store
    finally:
        store.close()


@contextmanager
def folder_blobs(root: Path) -> Iterator[BlobStore]:
    yield FolderBlobStore(root / "blobs")


# -- aws: DynamoDB + S3 on moto, in process ------------------------------------

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
AWS_TABLE = "steppe-contract"
AWS_BUCKET = "steppe-contract-blobs"


_MOTO_SERIAL = threading.Lock()


def _atomic_requests(client: Any) -> None:
    """Give moto DynamoDB's atomicity: one request at a time per client.

    moto checks a condition and applies the write in separate steps, so two
    threads can both pass the same conditional write; DynamoDB applies each
    request atomically. Serialising the requests restores that (and changes
    nothing else: DynamoStore already runs its batches in parallel). The lock
    is shared by every client, as the table is (see `reopened`).
    """
    serial = _MOTO_SERIAL

    def enter(context: dict[str, Any], **_: Any) -> None:
        serial.acquire()
        context["steppe_serial"] = True

    def leave(context: dict[str, Any], **_: Any) -> None:
        if context.pop("steppe_serial", False):
            serial.release()

    client.meta.events.register("before-call.dynamodb", enter)
    client.meta.events.register("after-call.dynamodb", leave)
    client.meta.events.register("after-call-error.dynamodb", leave)


@contextmanager
def aws_store(root: Path) -> Iterator[Store]:
    """A DynamoStore on a table created exactly as template.yaml declares it."""
    import boto3
    from moto import mock_aws

    from steppe.store.aws import DynamoStore
    from steppe.store.aws.provision import create_bucket, create_table

    with mock_aws():
        dynamodb, s3 = boto3.client("dynamodb"), boto3.client("s3")
        create_table(dynamodb, AWS_TABLE, TEMPLATE)
        create_bucket(s3, AWS_BUCKET)
        _atomic_requests(dynamodb)
        store = DynamoStore(dynamodb, AWS_TABLE, s3, AWS_BUCKET)
        try:
            yield store
        finally:
            store.close()


@contextmanager
def reopened(store: Store) -> Iterator[Store]:
    """A second store on the same data, as another process would open it.

    sqlite: another SqliteStore on the same folder; aws: another DynamoStore
    on the same table and bucket, with clients of its own (inside the first
    store's mock_aws).
    """
    from steppe.store.aws import DynamoStore

    if isinstance(store, SqliteStore):
        second: Store = SqliteStore(store.data_dir)
    elif isinstance(store, DynamoStore):
        import boto3

        dynamodb = boto3.client("dynamodb")
        _atomic_requests(dynamodb)
        second = DynamoStore(dynamodb, AWS_TABLE, boto3.client("s3"), AWS_BUCKET)
    else:
        raise TypeError(f"no way to reopen a {type(store).__name__}")
    try:
        yield second
    finally:
        second.close()


@contextmanager
def s3_blobs(root: Path) -> Iterator[BlobStore]:
    import boto3
    from moto import mock_aws

    from steppe.store.aws import S3BlobStore
    from steppe.store.aws.provision import create_bucket

    with mock_aws():
        s3 = boto3.client("s3")
        create_bucket(s3, AWS_BUCKET)
        yield S3BlobStore(s3, AWS_BUCKET)


ADAPTERS: dict[str, Callable[[Path], AbstractContextManager[Store]]] = {
    "sqlite": sqlite_store,
    "aws": aws_store,
}

BLOB_ADAPTERS: dict[str, Callable[[Path], AbstractContextManager[BlobStore]]] = {
    "folder": folder_blobs,
    "s3": s3_blobs,
}
