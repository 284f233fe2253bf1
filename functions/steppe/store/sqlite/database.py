"""One SQLite file shared by many threads: a connection per thread, serialized writes.

Every thread gets its own connection (sqlite3 connections must not be used by
two threads at once). The file is in WAL mode, so readers never wait for the
writer and see a consistent snapshot; writers take the write lock up front with
BEGIN IMMEDIATE, so two writers queue on busy_timeout instead of failing on a
lock upgrade half way through a transaction.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from steppe.store.sqlite.schema import migrate

BUSY_TIMEOUT_SECONDS = 30.0
# Page cache per connection, in KiB (negative cache_size); pages are allocated
# only as they are used. Enough for the id index of a few million versions; a
# larger cache measured no faster at 400,000, and every thread has one.
CACHE_KIB = 32768
# Checkpoint the WAL into the database every this many pages (4 KiB each) rather
# than SQLite's 1,000: bulk ingest rewrites the same index pages commit after
# commit, and a checkpoint copies each page once however often it changed.
WAL_CHECKPOINT_PAGES = 8192


class Database:
    """The SQLite file, its per-thread connections and the transaction helpers."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._lock = threading.Lock()
        # Every connection opened, with the thread it belongs to.
        self._connections: list[tuple[threading.Thread, sqlite3.Connection]] = []
        self._closed = False
        first = self.connection()
        first.execute("PRAGMA journal_mode=WAL")
        migrate(first)

    def connection(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        with self._lock:
            if self._closed:
                raise sqlite3.ProgrammingError(f"the database {self.path} is closed")
            conn = sqlite3.connect(
                self.path,
                timeout=BUSY_TIMEOUT_SECONDS,
                isolation_level=None,  # transactions are explicit
                check_same_thread=False,  # only so that close() may run on any thread
                cached_statements=256,
            )
            self._close_orphans()
            self._connections.append((threading.current_thread(), conn))
        conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
        conn.execute(f"PRAGMA journal_size_limit={64 << 20}")
        self._local.conn = conn
        return conn

    def _close_orphans(self) -> None:
        """Close the connections of threads that have ended (called with the lock held)."""
        alive = []
        for thread, conn in self._connections:
            if thread.is_alive():
                alive.append((thread, conn))
            else:
                conn.close()
        self._connections = alive

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: BEGIN IMMEDIATE, COMMIT on success, ROLLBACK on any error."""
        conn = self.connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        with self._lock:
            self._closed = True
            connections, self._connections = self._connections, []
        for _, conn in connections:
            conn.close()
        self._local = threading.local()
