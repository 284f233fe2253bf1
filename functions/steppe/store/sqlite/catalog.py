"""API roots and collections in the embedded store."""

from __future__ import annotations

import sqlite3

import orjson

from steppe.errors import Conflict, NotFound
from steppe.store.port.catalog import ApiRoot, CatalogStore, Collection
from steppe.store.sqlite.database import Database

_COLLECTION_COLUMNS = (
    "id, api_root, title, description, alias, media_types, created, is_default, unmarked_tlp, "
    "active_only"
)


def _collection(row: tuple) -> Collection:
    cid, api_root, title, description, alias, media_types, created, is_default = row[:8]
    unmarked, active = row[8:]
    return Collection(
        id=cid,
        api_root=api_root,
        title=title,
        description=description,
        alias=alias,
        media_types=tuple(orjson.loads(media_types)),
        created=created,
        default=bool(is_default),
        unmarked_tlp=unmarked,
        active_only=bool(active),
    )


def _collection_params(collection: Collection) -> tuple:
    return (
        collection.id,
        collection.api_root,
        collection.title,
        collection.description,
        collection.alias,
        orjson.dumps(list(collection.media_types)).decode(),
        collection.created,
        int(collection.default),
        collection.unmarked_tlp,
        int(collection.active_only),
    )


def _title_taken(
    conn: sqlite3.Connection, api_root: str, title: str, other_than: str | None = None
) -> bool:
    row = conn.execute(
        "SELECT id FROM collections WHERE api_root = ? AND title = ?", (api_root, title)
    ).fetchone()
    return row is not None and row[0] != other_than


class SqliteCatalog(CatalogStore):
    """CatalogStore methods; mixed into SqliteStore."""

    _db: Database

    def put_api_root(self, root: ApiRoot) -> None:
        with self._db.write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO api_roots (id, title, description, created) "
                "VALUES (?, ?, ?, ?)",
                (root.id, root.title, root.description, root.created),
            )

    def get_api_root(self, root_id: str) -> ApiRoot | None:
        row = (
            self._db.connection()
            .execute(
                "SELECT id, title, description, created FROM api_roots WHERE id = ?", (root_id,)
            )
            .fetchone()
        )
        return None if row is None else ApiRoot(*row)

    def list_api_roots(self) -> list[ApiRoot]:
        rows = self._db.connection().execute(
            "SELECT id, title, description, created FROM api_roots ORDER BY id"
        )
        return [ApiRoot(*row) for row in rows]

    def create_collection(self, collection: Collection) -> None:
        # The write lock makes check-then-insert atomic; the UNIQUE constraints
        # back it up and turn any race into the same Conflict.
        try:
            with self._db.write() as conn:
                if conn.execute(
                    "SELECT 1 FROM collections WHERE id = ?", (collection.id,)
                ).fetchone():
                    raise Conflict(
                        f"a collection with id '{collection.id}' already exists", where="id"
                    )
                if _title_taken(conn, collection.api_root, collection.title):
                    raise Conflict(_title_message(collection), where="title")
                conn.execute(
                    f"INSERT INTO collections ({_COLLECTION_COLUMNS}) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    _collection_params(collection),
                )
        except sqlite3.IntegrityError as exc:
            raise Conflict(_title_message(collection), where="title") from exc

    def update_collection(self, collection: Collection) -> None:
        try:
            with self._db.write() as conn:
                row = conn.execute(
                    "SELECT api_root FROM collections WHERE id = ?", (collection.id,)
                ).fetchone()
                if row is None:
                    raise NotFound(f"there is no collection with id '{collection.id}'")
                if row[0] != collection.api_root:
                    raise Conflict(
                        f"collection '{collection.id}' belongs to API root '{row[0]}'; "
                        "it cannot move to another one"
                    )
                if _title_taken(conn, collection.api_root, collection.title, collection.id):
                    raise Conflict(_title_message(collection), where="title")
                conn.execute(
                    "UPDATE collections SET title = ?, description = ?, alias = ?, "
                    "media_types = ?, created = ?, is_default = ?, unmarked_tlp = ?, "
                    "active_only = ? WHERE id = ?",
                    (*_collection_params(collection)[2:], collection.id),
                )
        except sqlite3.IntegrityError as exc:
            raise Conflict(_title_message(collection), where="title") from exc

    def get_collection(self, collection_id: str) -> Collection | None:
        row = (
            self._db.connection()
            .execute(
                f"SELECT {_COLLECTION_COLUMNS} FROM collections WHERE id = ?", (collection_id,)
            )
            .fetchone()
        )
        return None if row is None else _collection(row)

    def find_collection_by_title(self, api_root: str, title: str) -> Collection | None:
        row = (
            self._db.connection()
            .execute(
                f"SELECT {_COLLECTION_COLUMNS} FROM collections WHERE api_root = ? AND title = ?",
                (api_root, title),
            )
            .fetchone()
        )
        return None if row is None else _collection(row)

    def list_collections(self, api_root: str) -> list[Collection]:
        rows = self._db.connection().execute(
            f"SELECT {_COLLECTION_COLUMNS} FROM collections WHERE api_root = ? "
            "ORDER BY created, id",
            (api_root,),
        )
        return [_collection(row) for row in rows]


def _title_message(collection: Collection) -> str:
    return f"API root '{collection.api_root}' already has a collection titled '{collection.title}'"
