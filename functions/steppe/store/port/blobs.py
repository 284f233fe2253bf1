"""Blobs: raw submissions, chunks and bundles, as opaque bytes by key."""

from __future__ import annotations

from abc import ABC, abstractmethod


class BlobStore(ABC):
    """Opaque bytes by key (S3 on AWS, a folder on the embedded shape).

    Keys are '/'-separated paths of [A-Za-z0-9._-] segments.
    A put is atomic: a reader sees the whole blob or none of it.
    """

    @abstractmethod
    def put(
        self, key: str, data: bytes, content_type: str = "application/octet-stream"
    ) -> None: ...

    @abstractmethod
    def get(self, key: str) -> bytes | None: ...

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove a blob (no-op if absent)."""
