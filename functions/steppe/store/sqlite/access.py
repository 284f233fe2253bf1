"""Partners and their credentials in the embedded store."""

from __future__ import annotations

from collections.abc import Iterable

import orjson

from steppe.errors import Conflict
from steppe.store.port.access import AccessStore, Partner, legacy_partner_id
from steppe.store.sqlite.database import Database

_PARTNER_COLUMNS = "name, role, tlp_clearance, can_read, can_write, created, identity_id, id"


def _partner(row: tuple) -> Partner:
    name, role, clearance, can_read, can_write, created, identity_id, partner_id = row
    return Partner(
        name=name,
        role=role,
        tlp_clearance=clearance,
        can_read=frozenset(orjson.loads(can_read)),
        can_write=frozenset(orjson.loads(can_write)),
        created=created,
        identity_id=identity_id,
        id=partner_id or legacy_partner_id(name),
    )


def _id_set(values: frozenset[str]) -> str:
    """A set of collection ids as a sorted JSON array: stable bytes for equal sets."""
    return orjson.dumps(sorted(values)).decode()


class SqliteAccess(AccessStore):
    """AccessStore methods; mixed into SqliteStore."""

    _db: Database

    def put_partner(self, partner: Partner) -> None:
        with self._db.write() as conn:
            conn.execute(
                f"INSERT OR REPLACE INTO partners ({_PARTNER_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    partner.name,
                    partner.role,
                    partner.tlp_clearance,
                    _id_set(partner.can_read),
                    _id_set(partner.can_write),
                    partner.created,
                    partner.identity_id,
                    partner.id or legacy_partner_id(partner.name),
                ),
            )

    def get_partner(self, name: str) -> Partner | None:
        row = (
            self._db.connection()
            .execute(f"SELECT {_PARTNER_COLUMNS} FROM partners WHERE name = ?", (name,))
            .fetchone()
        )
        return None if row is None else _partner(row)

    def list_partners(self) -> list[Partner]:
        rows = self._db.connection().execute(
            f"SELECT {_PARTNER_COLUMNS} FROM partners ORDER BY name"
        )
        return [_partner(row) for row in rows]

    def delete_partner(self, name: str) -> None:
        with self._db.write() as conn:
            conn.execute("DELETE FROM credentials WHERE partner = ?", (name,))
            conn.execute("DELETE FROM partners WHERE name = ?", (name,))

    def add_credential(self, key_hash: str, partner_name: str, created: int) -> None:
        with self._db.write() as conn:
            holder = conn.execute(
                "SELECT partner FROM credentials WHERE key_hash = ?", (key_hash,)
            ).fetchone()
            if holder is not None:
                if holder[0] == partner_name:
                    return
                raise Conflict("this credential is already held by another partner")
            conn.execute(
                "INSERT INTO credentials (key_hash, partner, created) VALUES (?, ?, ?)",
                (key_hash, partner_name, created),
            )

    def find_credential(self, key_hash: str) -> str | None:
        row = (
            self._db.connection()
            .execute("SELECT partner FROM credentials WHERE key_hash = ?", (key_hash,))
            .fetchone()
        )
        return None if row is None else row[0]

    def remove_credentials(self, partner_name: str, keep: Iterable[str] = ()) -> int:
        kept = orjson.dumps(sorted(set(keep))).decode()
        with self._db.write() as conn:
            return conn.execute(
                "DELETE FROM credentials WHERE partner = ? "
                "AND key_hash NOT IN (SELECT value FROM json_each(?))",
                (partner_name, kept),
            ).rowcount
