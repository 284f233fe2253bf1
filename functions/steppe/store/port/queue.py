"""The job queue: where work for the worker goes."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence


class JobQueue(ABC):
    """Where work for the worker goes: SQS on AWS, a durable SQLite table embedded.

    Messages are JSON-able dicts of at most 200 KB once serialised; anything
    larger travels as a blob and the message names its key.
    """

    @abstractmethod
    def send(self, messages: Sequence[dict[str, object]]) -> None:
        """Enqueue messages durably; when this returns they survive a restart."""

    @abstractmethod
    def retry_later(self, receipt_handle: str, seconds: float) -> None:
        """Make a received message that failed visible again in `seconds` (its next attempt).

        The embedded queue's worker settles failures itself, with the same delay
        (steppe.jobs.retry_backoff), so there this changes nothing.
        """
