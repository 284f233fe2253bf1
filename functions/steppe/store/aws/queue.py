"""JobQueue on SQS: work for the worker function."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from steppe.store.port.queue import JobQueue

_BATCH_ENTRIES = 10  # SendMessageBatch takes at most 10 messages...
_BATCH_BYTES = 256 * 1024  # ...of at most this many bytes in all
_MAX_VISIBILITY_SECONDS = 12 * 3600  # SQS's limit


class QueueError(RuntimeError):
    """SQS did not accept every message."""


class SqsJobQueue(JobQueue):
    """Messages are JSON; sent in batches of up to 10 (and 256 KiB)."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self.queue_url = queue_url

    def send(self, messages: Sequence[dict[str, object]]) -> None:
        batch: list[str] = []
        size = 0
        for message in messages:
            body = json.dumps(message, separators=(",", ":"))
            length = len(body.encode("utf-8"))
            if batch and (len(batch) == _BATCH_ENTRIES or size + length > _BATCH_BYTES):
                self._send_batch(batch)
                batch, size = [], 0
            batch.append(body)
            size += length
        if batch:
            self._send_batch(batch)

    def retry_later(self, receipt_handle: str, seconds: float) -> None:
        self._client.change_message_visibility(
            QueueUrl=self.queue_url,
            ReceiptHandle=receipt_handle,
            VisibilityTimeout=max(0, min(_MAX_VISIBILITY_SECONDS, round(seconds))),
        )

    def _send_batch(self, bodies: list[str]) -> None:
        response = self._client.send_message_batch(
            QueueUrl=self.queue_url,
            Entries=[{"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies)],
        )
        failed = response.get("Failed") or []
        if failed:
            first = failed[0]
            raise QueueError(
                f"SQS refused {len(failed)} of {len(bodies)} messages, "
                f"e.g. entry {first.get('Id')}: "
                f"{first.get('Code')} {first.get('Message')} "
                f"({'our fault' if first.get('SenderFault') else 'service fault'})"
            )
