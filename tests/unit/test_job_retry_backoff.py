"""A failed job waits an exponential back-off, not the queue's whole visibility timeout."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sqs.models import sqs_backends

from steppe.jobs.retry_backoff import RETRY_BASE_SECONDS, RETRY_MAX_SECONDS, retry_delay
from steppe.local.invoke import invoke
from support.app import ROUTES, open_app


def test_the_delay_doubles_from_the_base_up_to_the_cap():
    delays = [retry_delay(attempt) for attempt in range(1, 12)]
    assert delays[:4] == [RETRY_BASE_SECONDS * k for k in (1, 2, 4, 8)]
    assert delays == sorted(delays) and max(delays) == RETRY_MAX_SECONDS
    assert retry_delay(3, base=1.0, cap=3.0) == 3.0 and retry_delay(0) == RETRY_BASE_SECONDS


def _visible_in(app, message_id: str) -> float:
    """Seconds until the moto queue hands the message out again."""
    queue = sqs_backends[DEFAULT_ACCOUNT_ID]["eu-central-1"].queues["steppe-work"]
    [message] = [m for m in queue._messages if m.id == message_id]
    return message.visible_at / 1000 - time.time()


def test_on_aws_a_failed_message_comes_back_after_the_back_off(tmp_path: Path):
    app = open_app(tmp_path / "data", "aws")
    try:
        sqs, url = app.aws.sqs, app.aws.queue_url
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "1800"})
        app.services.queue.send([{"task": "no-such-task"}])
        for attempt in (1, 2):
            [received] = sqs.receive_message(
                QueueUrl=url, AttributeNames=["All"], MaxNumberOfMessages=1
            )["Messages"]
            record = {
                "messageId": received["MessageId"],
                "receiptHandle": received["ReceiptHandle"],
                "body": received["Body"],
                "attributes": received["Attributes"],
                "messageAttributes": {},
                "md5OfBody": received["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-central-1:123456789012:steppe-work",
                "awsRegion": "eu-central-1",
            }
            # every record of the batch failed: Powertools fails the invocation, as Lambda
            # reports it to SQS
            with pytest.raises(BatchProcessingError):
                invoke(ROUTES.sqs_trigger().function, {"Records": [record]})
            wait = _visible_in(app, received["MessageId"])
            # the back-off of this attempt, not the queue's 30 minutes
            assert retry_delay(attempt) - 5 < wait <= retry_delay(attempt) + 1, (attempt, wait)
            sqs.change_message_visibility(
                QueueUrl=url, ReceiptHandle=received["ReceiptHandle"], VisibilityTimeout=0
            )
    finally:
        app.close()
