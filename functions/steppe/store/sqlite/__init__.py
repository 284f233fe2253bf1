"""The embedded storage adapter: one SQLite file and a blob folder under the data dir."""

from __future__ import annotations

from steppe.config import Settings
from steppe.stix.timestamps import now_micros
from steppe.store.port.backend import Backend
from steppe.store.sqlite.blobs import FolderBlobStore
from steppe.store.sqlite.idempotency import SqliteIdempotencyLayer
from steppe.store.sqlite.jobs import Job, SqliteJobQueue
from steppe.store.sqlite.store import DATABASE_NAME, SqliteStore

BLOB_FOLDER = "blobs"


def open_embedded(settings: Settings) -> Backend:
    """Open (creating if needed) the embedded shape's store, blobs, job queue and idempotency."""
    data_dir = settings.data_dir
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    store = SqliteStore(data_dir)
    idempotency = SqliteIdempotencyLayer(store)
    idempotency.purge_expired()
    store.purge_submission_keys(now_micros())
    return Backend(
        store=store,
        blobs=FolderBlobStore(data_dir / BLOB_FOLDER),
        queue=SqliteJobQueue(store),
        idempotency=idempotency,
    )


__all__ = [
    "BLOB_FOLDER",
    "DATABASE_NAME",
    "FolderBlobStore",
    "Job",
    "SqliteIdempotencyLayer",
    "SqliteJobQueue",
    "SqliteStore",
    "open_embedded",
]
