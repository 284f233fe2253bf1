"""The worker function driven as Lambda's SQS event source mapping drives it.

One poll: ReceiveMessage on the queue, the messages turned into the SQS event
Lambda builds, the worker invoked with it; the caller decides what becomes of
the messages that failed (the mapping deletes only those that succeeded).
Used in process (moto's mock) and against a standalone moto server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from steppe.local.invoke import invoke
from steppe.local.routes import RouteTable


@dataclass(frozen=True)
class Poll:
    received: list[dict[str, Any]]  # the messages as ReceiveMessage returned them
    failed: frozenset[str]  # the MessageIds the worker reported failed (all, if it raised)


def sqs_records(messages: list[dict[str, Any]], queue_arn: str, region: str) -> list[dict]:
    """The `Records` of the event Lambda invokes the worker with for these messages."""
    return [
        {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": m["Attributes"],
            "messageAttributes": {},
            "md5OfBody": m["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn,
            "awsRegion": region,
        }
        for m in messages
    ]


def poll_once(
    sqs: Any, queue_url: str, queue_arn: str, routes: RouteTable, batch_size: int = 1
) -> Poll:
    """Receive up to `batch_size` messages and run the worker on them; delete the successes."""
    received = sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=batch_size,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
    ).get("Messages", [])
    if not received:
        return Poll([], frozenset())
    records = sqs_records(received, queue_arn, sqs.meta.region_name)
    try:
        response = invoke(routes.sqs_trigger().function, {"Records": records})
        failed = frozenset(item["itemIdentifier"] for item in response.get("batchItemFailures", []))
    except Exception:  # Lambda: a failed invocation returns the whole batch
        failed = frozenset(m["MessageId"] for m in received)
    for message in received:
        if message["MessageId"] not in failed:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return Poll(received, failed)


def queue_depth(sqs: Any, queue_url: str) -> int:
    """Messages waiting, in flight or delayed."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    return sum(int(v) for v in attributes.values())
