"""The feed index in the embedded store: one row per indicator entry, read by partial indexes."""

from __future__ import annotations

import heapq
import sqlite3
from collections.abc import Iterator, Sequence
from itertools import islice

from steppe.stix.timestamps import now_micros
from steppe.store.port.feed_index import FeedIndex, FeedIndexEntry, FeedSelection, Generation
from steppe.store.sqlite.database import Database

_COLUMNS = (
    "collection_id, indicator_id, type, value, key, tlp, score, scored_at, base, last_seen, "
    "lifetime_us, decay_speed, threshold, expires_at, retired_at, detail"
)
_PLACES = ", ".join("?" * 16)
_BATCH = 500  # ids per IN (...): far below SQLite's variable limit


def _entry(row: tuple) -> FeedIndexEntry:
    return FeedIndexEntry(*row)


class SqliteFeedIndex(FeedIndex):
    """FeedIndex methods; mixed into SqliteStore."""

    _db: Database

    def put_feed_entries(self, entries: Sequence[FeedIndexEntry]) -> None:
        if not entries:
            return
        now = now_micros()
        collections = sorted({entry.collection_id for entry in entries})
        with self._db.write() as conn:
            conn.executemany(
                f"INSERT OR REPLACE INTO feed_entries ({_COLUMNS}) VALUES ({_PLACES})", entries
            )
            conn.executemany(
                "INSERT INTO feed_generations (collection_id, counter, changed_at) "
                "VALUES (?, 1, ?) "
                "ON CONFLICT (collection_id) DO UPDATE SET counter = counter + 1, "
                "changed_at = max(changed_at + 1, excluded.changed_at)",
                [(collection_id, now) for collection_id in collections],
            )

    def get_feed_entries(
        self, collection_id: str, indicator_ids: Sequence[str]
    ) -> list[FeedIndexEntry]:
        conn = self._db.connection()
        found: list[FeedIndexEntry] = []
        ids = sorted(set(indicator_ids))
        for start in range(0, len(ids), _BATCH):
            part = ids[start : start + _BATCH]
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM feed_entries WHERE collection_id = ? "
                f"AND indicator_id IN ({', '.join('?' * len(part))})",
                (collection_id, *part),
            )
            found.extend(_entry(row) for row in rows)
        return found

    def select_feed_entries(
        self, selection: FeedSelection, now: int, limit: int
    ) -> list[FeedIndexEntry]:
        # One ordered cursor per (collection, type), each walking the score index,
        # merged lazily: only as many rows are read as the limit (and the rows the
        # TLP and expiry filters pass over) need, never the whole collection.
        conn = self._db.connection()
        pairs = [(c, t) for c in sorted(selection.collections) for t in sorted(selection.types)]
        if len(pairs) == 1:  # one ordered cursor: nothing to merge
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM feed_entries INDEXED BY feed_entries_by_score "
                "WHERE collection_id = ? AND type = ? AND retired_at IS NULL AND score >= ? "
                "AND tlp <= ? AND expires_at > ? ORDER BY score DESC, indicator_id LIMIT ?",
                (*pairs[0], selection.min_score, selection.max_tlp, now, limit),
            )
            return [FeedIndexEntry(*row) for row in rows]
        streams = [
            self._stream(
                conn,
                "SELECT -score, indicator_id, "
                + _COLUMNS
                + " FROM feed_entries INDEXED BY feed_entries_by_score "
                "WHERE collection_id = ? AND type = ? AND retired_at IS NULL AND score >= ? "
                "AND tlp <= ? AND expires_at > ? ORDER BY score DESC, indicator_id",
                (collection_id, stix_type, selection.min_score, selection.max_tlp, now),
            )
            for collection_id in sorted(selection.collections)
            for stix_type in sorted(selection.types)
        ]
        merged = heapq.merge(*streams)
        return [_entry(row[2:]) for row in islice(merged, limit)]

    def retired_feed_entries(
        self, selection: FeedSelection, since: int, limit: int
    ) -> list[FeedIndexEntry]:
        conn = self._db.connection()
        streams = [
            self._stream(
                conn,
                "SELECT -retired_at, indicator_id, "
                + _COLUMNS
                + " FROM feed_entries INDEXED BY feed_entries_retired "
                "WHERE collection_id = ? AND type = ? AND retired_at IS NOT NULL "
                "AND retired_at >= ? AND tlp <= ? ORDER BY retired_at DESC, indicator_id",
                (collection_id, stix_type, since, selection.max_tlp),
            )
            for collection_id in sorted(selection.collections)
            for stix_type in sorted(selection.types)
        ]
        return [_entry(row[2:]) for row in islice(heapq.merge(*streams), limit)]

    def due_feed_entries(self, now: int, limit: int) -> list[FeedIndexEntry]:
        rows = self._db.connection().execute(
            f"SELECT {_COLUMNS} FROM feed_entries INDEXED BY feed_entries_due "
            "WHERE retired_at IS NULL AND expires_at <= ? ORDER BY expires_at LIMIT ?",
            (now, limit),
        )
        return [_entry(row) for row in rows]

    def active_feed_entries(
        self, after: tuple[str, str] | None, limit: int
    ) -> list[FeedIndexEntry]:
        collection_id, indicator_id = after or ("", "")
        rows = self._db.connection().execute(
            f"SELECT {_COLUMNS} FROM feed_entries WHERE (collection_id, indicator_id) > (?, ?) "
            "AND retired_at IS NULL ORDER BY collection_id, indicator_id LIMIT ?",
            (collection_id, indicator_id, limit),
        )
        return [_entry(row) for row in rows]

    def feed_generations(self, collection_ids: Sequence[str]) -> dict[str, Generation]:
        wanted = sorted(set(collection_ids))
        found = {collection_id: Generation(0, 0) for collection_id in wanted}
        if wanted:
            rows = self._db.connection().execute(
                "SELECT collection_id, counter, changed_at FROM feed_generations "
                f"WHERE collection_id IN ({', '.join('?' * len(wanted))})",
                wanted,
            )
            for collection_id, counter, changed_at in rows:
                found[collection_id] = Generation(counter, changed_at)
        return found

    def purge_feed_entries(self, retired_before: int, limit: int) -> int:
        with self._db.write() as conn:
            return conn.execute(
                "DELETE FROM feed_entries WHERE (collection_id, indicator_id) IN "
                "(SELECT collection_id, indicator_id "
                "FROM feed_entries WHERE retired_at IS NOT NULL AND retired_at < ? LIMIT ?)",
                (retired_before, limit),
            ).rowcount

    @staticmethod
    def _stream(conn: sqlite3.Connection, sql: str, params: tuple) -> Iterator[tuple]:
        # A cursor of its own per stream: heapq.merge interleaves them.
        yield from conn.cursor().execute(sql, params)
