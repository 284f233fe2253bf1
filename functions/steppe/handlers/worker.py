"""The worker (WorkerFunction): one SQS message, one bounded job.

Messages are {"task": "process_chunk", "submission_id": ..., "chunk": n}. A job
that fails is retried by the queue; on its last attempt the failure is also
recorded on the submission, so its status says "failed" instead of staying
pending (the raw body is archived: `steppe reprocess` runs it again).
"""

from __future__ import annotations

from typing import Any

import orjson
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from steppe.handlers.common import per_services
from steppe.ingest.service import IngestService

logger = Logger()
processor = BatchProcessor(event_type=EventType.SQS)
# Matches maxReceiveCount of the queue's redrive policy in template.yaml.
MAX_RECEIVES = 5


ingest = per_services(IngestService)


def handle_record(record: SQSRecord) -> None:
    message = orjson.loads(record.body)
    task = message.get("task")
    if task != "process_chunk":
        raise ValueError(f"unknown task '{task}'")
    submission_id, chunk = str(message["submission_id"]), int(message["chunk"])
    try:
        result = ingest().process_chunk(submission_id, chunk)
    except Exception as error:
        receives = int(record.attributes.approximate_receive_count or "1")
        if receives >= MAX_RECEIVES:
            logger.exception("chunk failed for good", extra={"submission": submission_id})
            ingest().record_failure(submission_id, chunk, f"{type(error).__name__}: {error}")
        raise
    logger.info(
        "chunk processed",
        extra={"submission": submission_id, "chunk": chunk, "counts": result.counts},
    )


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=handle_record, processor=processor, context=context
    )
