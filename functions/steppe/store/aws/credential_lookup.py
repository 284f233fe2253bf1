"""The authorizer's whole need from the table: partners and their credentials.

A DynamoAccess on the one table and nothing else: no object, feed or index
modules, no S3 or SQS client, no idempotency layer. Its answers are the
store's own (the same AccessStore methods on the same items).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from steppe.store.aws.access import DynamoAccess
from steppe.store.aws.table import Table


class DynamoCredentialLookup(DynamoAccess):
    """AccessStore over the table alone: find_credential and get_partner cost one GetItem each."""

    def __init__(self, dynamodb: Any, table_name: str) -> None:
        # Only remove_credentials batches; the authorizer never calls it.
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="steppe-cred")
        self._table = Table(dynamodb, table_name, self._pool)

    def close(self) -> None:
        self._pool.shutdown(wait=False)
