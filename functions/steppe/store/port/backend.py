"""What an adapter opens for the composition root: every port of one storage engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from steppe.store.port.blobs import BlobStore
from steppe.store.port.queue import JobQueue
from steppe.store.port.store import Store


@dataclass(frozen=True, slots=True)
class Backend:
    """The ports of one shape, as store.sqlite.open_embedded or store.aws.open_aws open them.

    steppe.runtime composes the process's services from it; nothing else
    needs to know which engine is behind the ports.
    """

    store: Store
    blobs: BlobStore
    queue: JobQueue
    # A Powertools idempotency persistence layer (BasePersistenceLayer): the
    # embedded shape's keeps its records in the SQLite file, the AWS one in the table.
    idempotency: Any

    def close(self) -> None:
        self.store.close()
