"""Server secrets: random values the store keeps for the whole deployment."""

from __future__ import annotations

from abc import ABC, abstractmethod


class SecretStore(ABC):
    @abstractmethod
    def server_secret(self, name: str) -> bytes:
        """A random 32-byte secret kept by the store, created on first use.

        Concurrent first calls agree on one value (it signs TAXII paging tokens,
        which any process of the deployment must be able to verify).
        """
