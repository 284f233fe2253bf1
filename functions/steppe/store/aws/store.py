"""DynamoStore: the whole storage port on one DynamoDB table (plus S3 for big values)."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from steppe.store.aws import table_keys as keys
from steppe.store.aws.access import DynamoAccess
from steppe.store.aws.audit import DynamoAudit
from steppe.store.aws.blobs import S3BlobStore
from steppe.store.aws.catalog import DynamoCatalog
from steppe.store.aws.claims import DynamoClaims
from steppe.store.aws.destinations import DynamoDestinations
from steppe.store.aws.feed_index import DynamoFeedIndex
from steppe.store.aws.feeds import DynamoFeeds
from steppe.store.aws.index import DynamoIndex
from steppe.store.aws.lease import LEASE_SECONDS, Leases
from steppe.store.aws.objects import HEADS_FROM, DynamoObjects
from steppe.store.aws.recovery import DynamoRecovery
from steppe.store.aws.server_secrets import DynamoSecrets
from steppe.store.aws.sighting_tallies import DynamoSightingTallies
from steppe.store.aws.statuses import DynamoStatuses
from steppe.store.aws.submissions import DynamoSubmissions
from steppe.store.aws.table import Table
from steppe.store.port.store import Store

_THREADS = 8  # concurrent batch calls of one store operation


class DynamoStore(
    DynamoObjects,
    DynamoCatalog,
    DynamoAccess,
    DynamoSubmissions,
    DynamoStatuses,
    DynamoRecovery,
    DynamoAudit,
    DynamoSecrets,
    DynamoIndex,
    DynamoClaims,
    DynamoFeeds,
    DynamoDestinations,
    DynamoFeedIndex,
    DynamoSightingTallies,
    Store,
):
    """The whole storage port in `table_name`; large values in `bucket`.

    `dynamodb` and `s3` are boto3 clients, created once per process by
    open_aws (or by tests). Safe to share between threads.
    """

    def __init__(
        self,
        dynamodb: Any,
        table_name: str,
        s3: Any,
        bucket: str,
        *,
        lease_seconds: float = LEASE_SECONDS,
        listing_shards: int = keys.LISTING_SHARDS,
        batched_heads: bool = True,
    ) -> None:
        """listing_shards and batched_heads=False (one Query per id read) are the layout
        and read path before issue 11, for bench/dynamo_requests.py's baseline."""
        if listing_shards < 1:
            raise ValueError("a store needs at least one listing shard")
        self._listing_shards = listing_shards
        self._heads_from = HEADS_FROM if batched_heads else sys.maxsize
        self._pool = ThreadPoolExecutor(max_workers=_THREADS, thread_name_prefix="steppe-ddb")
        self._table = Table(dynamodb, table_name, self._pool)
        self._blobs = S3BlobStore(s3, bucket)
        self._leases = Leases(self._table, self._blobs.delete_many, lease_seconds=lease_seconds)
        self._secrets: dict[str, bytes] = {}  # server secrets read so far (they never change)

    @property
    def table(self) -> Table:
        return self._table

    def _put_blob(self, key: str, data: bytes) -> None:
        self._blobs.put(key, data, "application/json")

    def _get_blob(self, key: str) -> bytes | None:
        return self._blobs.get(key)

    def _delete_blob(self, key: str) -> None:
        self._blobs.delete(key)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
