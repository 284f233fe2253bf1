"""SqliteStore: the whole storage port on one SQLite file."""

from __future__ import annotations

from pathlib import Path

from steppe.store.port.store import Store
from steppe.store.sqlite.access import SqliteAccess
from steppe.store.sqlite.audit import SqliteAudit
from steppe.store.sqlite.catalog import SqliteCatalog
from steppe.store.sqlite.claims import SqliteClaims
from steppe.store.sqlite.database import Database
from steppe.store.sqlite.destinations import SqliteDestinations
from steppe.store.sqlite.feed_index import SqliteFeedIndex
from steppe.store.sqlite.feeds import SqliteFeeds
from steppe.store.sqlite.index import SqliteIndex
from steppe.store.sqlite.objects import SqliteObjects
from steppe.store.sqlite.recovery import SqliteRecovery
from steppe.store.sqlite.server_secrets import SqliteSecrets
from steppe.store.sqlite.sighting_tallies import SqliteSightingTallies
from steppe.store.sqlite.statuses import SqliteStatuses
from steppe.store.sqlite.submissions import SqliteSubmissions

DATABASE_NAME = "steppe.db"


class SqliteStore(
    SqliteObjects,
    SqliteCatalog,
    SqliteAccess,
    SqliteSubmissions,
    SqliteStatuses,
    SqliteRecovery,
    SqliteAudit,
    SqliteSecrets,
    SqliteIndex,
    SqliteClaims,
    SqliteFeeds,
    SqliteFeedIndex,
    SqliteDestinations,
    SqliteSightingTallies,
    Store,
):
    """The whole storage port in `<data_dir>/steppe.db`.

    Objects, catalog, access, submissions, TAXII statuses, the audit trail,
    server secrets, identity claims, feed definitions and push destinations. Safe
    to share between threads. The job
    queue and the idempotency layer live in the same file and reach it through
    `database`.
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self._db = Database(self.data_dir / DATABASE_NAME)
        self._init_objects()
        self._init_secrets()

    @property
    def database(self) -> Database:
        return self._db

    def close(self) -> None:
        self._db.close()
