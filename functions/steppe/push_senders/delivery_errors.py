"""What a sender raises when a destination did not take a batch."""

from __future__ import annotations

from typing import Protocol


class DeliveryFailed(Exception):
    """The destination did not take the batch.

    retry_after: seconds the destination asked to wait (HTTP 429/503 Retry-After), if any.
    permanent: retrying the same batch cannot succeed (bad credentials, refused request).
    """

    def __init__(
        self, message: str, *, retry_after: float | None = None, permanent: bool = False
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent


class Sender(Protocol):
    def send(self, objects: list[dict]) -> None:
        """Deliver the STIX objects (in order) or raise DeliveryFailed."""
