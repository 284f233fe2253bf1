"""SqliteStore: the whole storage port on one SQLite file."""

from __future__ import annotations

from pathlib import Path

from steppe.store.port import Store
from steppe.store.sqlite.access import SqliteAccess
from steppe.store.sqlite.catalog import SqliteCatalog
from steppe.store.sqlite.database import Database
from steppe.store.sqlite.objects import SqliteObjects
from steppe.store.sqlite.submissions import SqliteSubmissions

DATABASE_NAME = "steppe.db"


class SqliteStore(SqliteObjects, SqliteCatalog, SqliteAccess, SqliteSubmissions, Store):
    """Objects, catalog, access and submissions in `<data_dir>/steppe.db`.

    Safe to share between threads. The job queue and the idempotency layer
    live in the same file and reach it through `database`.
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self._db = Database(self.data_dir / DATABASE_NAME)
        self._init_objects()

    @property
    def database(self) -> Database:
        return self._db

    def close(self) -> None:
        self._db.close()
