"""Push destinations and their delivery cursors in the embedded store."""

from __future__ import annotations

import sqlite3

import orjson

from steppe.errors import Conflict
from steppe.store.port.destinations import Destination, DestinationStore
from steppe.store.sqlite.database import Database

_COLUMNS = "id, name, kind, collections, tlp_clearance, types, settings, secret, created"
_PLACES = ", ".join("?" * 9)


def _destination(row: tuple) -> Destination:
    dest_id, name, kind, collections, clearance, types, settings, secret, created = row
    return Destination(
        id=dest_id,
        name=name,
        kind=kind,
        collections=frozenset(orjson.loads(collections)),
        tlp_clearance=clearance,
        types=frozenset(orjson.loads(types)),
        settings=orjson.loads(settings),
        secret=secret,
        created=created,
    )


def _json_set(values: frozenset[str]) -> str:
    return orjson.dumps(sorted(values)).decode()


class SqliteDestinations(DestinationStore):
    """DestinationStore methods; mixed into SqliteStore."""

    _db: Database

    def create_destination(self, destination: Destination) -> None:
        try:
            with self._db.write() as conn:
                conn.execute(
                    f"INSERT INTO push_destinations ({_COLUMNS}) VALUES ({_PLACES})",
                    (
                        destination.id,
                        destination.name,
                        destination.kind,
                        _json_set(destination.collections),
                        destination.tlp_clearance,
                        _json_set(destination.types),
                        orjson.dumps(dict(destination.settings)).decode(),
                        destination.secret,
                        destination.created,
                    ),
                )
        except sqlite3.IntegrityError:
            raise Conflict(
                f"a push destination named '{destination.name}' already exists", where="name"
            ) from None

    def get_destination(self, destination_id: str) -> Destination | None:
        return self._one_destination("id", destination_id)

    def get_destination_by_name(self, name: str) -> Destination | None:
        return self._one_destination("name", name)

    def list_destinations(self) -> list[Destination]:
        rows = self._db.connection().execute(
            f"SELECT {_COLUMNS} FROM push_destinations ORDER BY name"
        )
        return [_destination(row) for row in rows]

    def set_destination_secret(self, destination_id: str, secret: str) -> Destination | None:
        with self._db.write() as conn:
            row = conn.execute(
                f"UPDATE push_destinations SET secret = ? WHERE id = ? RETURNING {_COLUMNS}",
                (secret, destination_id),
            ).fetchone()
        return None if row is None else _destination(row)

    def delete_destination(self, destination_id: str) -> Destination | None:
        with self._db.write() as conn:
            row = conn.execute(
                f"DELETE FROM push_destinations WHERE id = ? RETURNING {_COLUMNS}",
                (destination_id,),
            ).fetchone()
            conn.execute("DELETE FROM push_cursors WHERE destination_id = ?", (destination_id,))
        return None if row is None else _destination(row)

    def push_cursor(self, destination_id: str, collection_id: str) -> int | None:
        row = (
            self._db.connection()
            .execute(
                "SELECT position FROM push_cursors WHERE destination_id = ? AND collection_id = ?",
                (destination_id, collection_id),
            )
            .fetchone()
        )
        return None if row is None else int(row[0])

    def set_push_cursor(self, destination_id: str, collection_id: str, position: int) -> None:
        with self._db.write() as conn:
            conn.execute(
                "INSERT INTO push_cursors (destination_id, collection_id, position) "
                "VALUES (?, ?, ?) ON CONFLICT (destination_id, collection_id) "
                "DO UPDATE SET position = excluded.position",
                (destination_id, collection_id, position),
            )

    def _one_destination(self, column: str, value: str) -> Destination | None:
        row = (
            self._db.connection()
            .execute(f"SELECT {_COLUMNS} FROM push_destinations WHERE {column} = ?", (value,))
            .fetchone()
        )
        return None if row is None else _destination(row)
