"""One SQLite file shared by many threads: a connection per thread, serialized writes.

Every thread gets its own connection (sqlite3 connections must not be used by
two threads at once). The file is in WAL mode, so readers never wait for the
writer and see a consistent snapshot; writers take the write lock up front with
BEGIN IMMEDIATE, so two writers queue on busy_timeout instead of failing on a
lock upgrade half way through a transaction. Writers of different processes
(the server, its worker processes, the CLI) first queue on an advisory lock
on a file beside the database: the hand-over is then immediate, where
SQLite's busy handler polls with sleeps of up to 100 ms.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from steppe.store.sqlite.schema import migrate

BUSY_TIMEOUT_SECONDS = 30.0
# Page cache per connection, in KiB (negative cache_size); pages are allocated
# only as they are used. Enough for the id index of a few million versions; a
# larger cache measured no faster at 400,000, and every thread has one.
# STEPPE_SQLITE_CACHE_KIB overrides it (the embedded worker processes use less).
CACHE_KIB = 32768
# The WAL is copied into the database by a background thread (PASSIVE
# checkpoints: they never block readers or writers), not inside the COMMIT of
# whichever writer crossed the threshold: bulk ingest would otherwise pay the
# copy and its fsync under the write lock. Writers still checkpoint themselves
# if the WAL grows past WAL_CHECKPOINT_PAGES (the thread could not keep up).
CHECKPOINT_INTERVAL_SECONDS = 0.2
WAL_CHECKPOINT_PAGES = 65536


class Database:
    """The SQLite file, its per-thread connections and the transaction helpers."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._write_mutex = threading.Lock()
        # Opened once per process; flock is per open file, and the mutex above
        # already keeps this process's threads apart.
        self._writer_lock = os.open(f"{self.path}.writer-lock", os.O_RDWR | os.O_CREAT, 0o600)
        # Every connection opened, with the thread it belongs to.
        self._connections: list[tuple[threading.Thread, sqlite3.Connection]] = []
        self._closed = False
        first = self.connection()
        first.execute("PRAGMA journal_mode=WAL")
        migrate(first)
        self._stop_checkpoints = threading.Event()
        self._checkpointer = threading.Thread(
            target=self._checkpoint_loop, name="steppe-sqlite-checkpoint", daemon=True
        )
        self._checkpointer.start()

    def _checkpoint_loop(self) -> None:
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        try:
            while not self._stop_checkpoints.wait(CHECKPOINT_INTERVAL_SECONDS):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error:
                    continue  # busy or closing: the next round tries again
        finally:
            conn.close()

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
        cache_kib = int(os.environ.get("STEPPE_SQLITE_CACHE_KIB") or CACHE_KIB)
        conn.execute(f"PRAGMA cache_size=-{cache_kib}")
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
        """A write transaction: BEGIN IMMEDIATE, COMMIT on success, ROLLBACK on any error.

        Writers of this process queue on a mutex first, then on the writer lock
        file with the other processes' (see the module's docstring).
        """
        conn = self.connection()
        with self._write_mutex, self._other_processes_waiting():
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    @contextmanager
    def _other_processes_waiting(self) -> Iterator[None]:
        """Hold the cross-process writer lock (released by the kernel if the process dies)."""
        fcntl.flock(self._writer_lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._writer_lock, fcntl.LOCK_UN)

    def write_one(self, sql: str, params: Sequence[object] | dict[str, object] = ()) -> int:
        """One write statement in its own (implicit) transaction; returns its rowcount.

        A single sqlite3 step where write() takes three (BEGIN, the statement,
        COMMIT): for small writes on a hot path, such as the audit trail.
        """
        conn = self.connection()
        with self._write_mutex, self._other_processes_waiting():
            return conn.execute(sql, params).rowcount

    def close(self) -> None:
        self._stop_checkpoints.set()
        self._checkpointer.join()
        with self._lock:
            self._closed = True
            connections, self._connections = self._connections, []
        for _, conn in connections:
            conn.close()
        self._local = threading.local()
        if self._writer_lock >= 0:
            os.close(self._writer_lock)
            self._writer_lock = -1
