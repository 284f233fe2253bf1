"""Feed definitions in the embedded store."""

from __future__ import annotations

import sqlite3

import orjson

from steppe.errors import Conflict
from steppe.store.port.feeds import Feed, FeedStore
from steppe.store.sqlite.database import Database

_COLUMNS = (
    "id, name, format, collections, tlp_clearance, types, min_score, max_entries, "
    "token_hash, created"
)


def _feed(row: tuple) -> Feed:
    feed_id, name, fmt, collections, clearance, types, min_score, max_entries, token, created = row
    return Feed(
        id=feed_id,
        name=name,
        format=fmt,
        collections=frozenset(orjson.loads(collections)),
        tlp_clearance=clearance,
        types=frozenset(orjson.loads(types)),
        min_score=min_score,
        max_entries=max_entries,
        token_hash=token,
        created=created,
    )


def _json_set(values: frozenset[str]) -> str:
    return orjson.dumps(sorted(values)).decode()


class SqliteFeeds(FeedStore):
    """FeedStore methods; mixed into SqliteStore."""

    _db: Database

    def create_feed(self, feed: Feed) -> None:
        try:
            with self._db.write() as conn:
                conn.execute(
                    f"INSERT INTO feeds ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        feed.id,
                        feed.name,
                        feed.format,
                        _json_set(feed.collections),
                        feed.tlp_clearance,
                        _json_set(feed.types),
                        feed.min_score,
                        feed.max_entries,
                        feed.token_hash,
                        feed.created,
                    ),
                )
        except sqlite3.IntegrityError:
            raise Conflict(f"a feed named '{feed.name}' already exists", where="name") from None

    def get_feed(self, feed_id: str) -> Feed | None:
        return self._one("id", feed_id)

    def get_feed_by_name(self, name: str) -> Feed | None:
        return self._one("name", name)

    def list_feeds(self) -> list[Feed]:
        rows = self._db.connection().execute(f"SELECT {_COLUMNS} FROM feeds ORDER BY name")
        return [_feed(row) for row in rows]

    def set_feed_token(self, feed_id: str, token_hash: str) -> Feed | None:
        with self._db.write() as conn:
            row = conn.execute(
                f"UPDATE feeds SET token_hash = ? WHERE id = ? RETURNING {_COLUMNS}",
                (token_hash, feed_id),
            ).fetchone()
        return None if row is None else _feed(row)

    def delete_feed(self, feed_id: str) -> Feed | None:
        with self._db.write() as conn:
            row = conn.execute(
                f"DELETE FROM feeds WHERE id = ? RETURNING {_COLUMNS}", (feed_id,)
            ).fetchone()
        return None if row is None else _feed(row)

    def _one(self, column: str, value: str) -> Feed | None:
        row = (
            self._db.connection()
            .execute(f"SELECT {_COLUMNS} FROM feeds WHERE {column} = ?", (value,))
            .fetchone()
        )
        return None if row is None else _feed(row)
