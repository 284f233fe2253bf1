"""The AWS adapter: DynamoDB (one table) + S3 + SQS. The only code that imports boto3.

open_aws opens the process's ports (a Backend) from the settings; clients are created
once per process (a Lambda cold start) and reused by every invocation.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from steppe.config import Settings
from steppe.store.port.backend import Backend

if TYPE_CHECKING:
    from steppe.store.aws.blobs import S3BlobStore
    from steppe.store.aws.credential_lookup import DynamoCredentialLookup
    from steppe.store.aws.queue import SqsJobQueue
    from steppe.store.aws.store import DynamoStore
    from steppe.store.aws.usage_plan_keys import ApiGatewayUsagePlans

__all__ = [
    "DynamoStore",
    "S3BlobStore",
    "SqsJobQueue",
    "client_config",
    "open_aws",
    "open_credential_lookup",
    "open_usage_plans",
]

# Loaded when first named: the authorizer imports this package for its
# credential lookup alone, and must not load the whole store to do it.
_LAZY = {
    "DynamoStore": "steppe.store.aws.store",
    "S3BlobStore": "steppe.store.aws.blobs",
    "SqsJobQueue": "steppe.store.aws.queue",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


IDEMPOTENCY_PK = "IDEMPOTENCY"


def client_config() -> Config:
    """Bounded timeouts and retries: the collection lease relies on them (see lease.py).

    With these, a DynamoDB call issued inside a writer's 20-second window
    lands (or fails) within about 25 seconds, before its 60-second lease
    can be taken over.
    """
    return Config(
        connect_timeout=2,
        read_timeout=5,
        retries={"mode": "standard", "total_max_attempts": 3},
        max_pool_connections=16,
    )


# A boto3 session must not create two clients at once.
_creating = threading.Lock()


class _LazyClient:
    """A boto3 client made on first use: the authorizer, for one, never touches S3 or SQS."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        self._factory = factory
        self._client: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._client is None:
            with _creating:
                if self._client is None:
                    self._client = self._factory()
        return getattr(self._client, name)


def open_aws(settings: Settings) -> Backend:
    """The AWS shape's store (one table plus S3), blobs, SQS job queue and idempotency."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    from steppe.store.aws.blobs import S3BlobStore
    from steppe.store.aws.queue import SqsJobQueue
    from steppe.store.aws.store import DynamoStore

    session = boto3.session.Session()
    config = client_config()
    dynamodb = session.client("dynamodb", config=config)
    s3 = _LazyClient(lambda: session.client("s3", config=config))
    sqs = _LazyClient(lambda: session.client("sqs", config=config))
    idempotency = DynamoDBPersistenceLayer(
        table_name=settings.table_name,
        key_attr="pk",
        sort_key_attr="sk",
        static_pk_value=IDEMPOTENCY_PK,
        expiry_attr="expires_at",
        boto3_client=dynamodb,
    )
    return Backend(
        store=DynamoStore(dynamodb, settings.table_name, s3, settings.bucket_name),
        blobs=S3BlobStore(s3, settings.bucket_name),
        queue=SqsJobQueue(sqs, settings.queue_url),
        idempotency=idempotency,
    )


def open_credential_lookup(settings: Settings) -> DynamoCredentialLookup:
    """Partners and credentials on the table, with one DynamoDB client: the authorizer's store."""
    from steppe.store.aws.credential_lookup import DynamoCredentialLookup

    dynamodb = boto3.session.Session().client("dynamodb", config=client_config())
    return DynamoCredentialLookup(dynamodb, settings.table_name)


def open_usage_plans(settings: Settings) -> ApiGatewayUsagePlans:
    """The partner usage plan the settings name, on API Gateway."""
    from steppe.store.aws.usage_plan_keys import ApiGatewayUsagePlans

    apigateway = boto3.session.Session().client("apigateway", config=client_config())
    return ApiGatewayUsagePlans(apigateway, settings.usage_plan_name)
