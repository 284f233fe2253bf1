"""Identity claims in the embedded store: one row per claimed STIX identity."""

from __future__ import annotations

from collections.abc import Iterable

from steppe.store.port.claims import IdentityClaims
from steppe.store.sqlite.database import Database

# Identities per SELECT: well under SQLite's bound-parameter limit.
_BATCH = 500
_OWNER = "SELECT owner_id FROM identity_claims WHERE identity_id = ?"


class SqliteClaims(IdentityClaims):
    """IdentityClaims methods; mixed into SqliteStore."""

    _db: Database

    def claim_identity(self, identity_id: str, owner_id: str) -> str:
        # Under the write lock the first insert wins, in this process or another on the file.
        with self._db.write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO identity_claims (identity_id, owner_id) VALUES (?, ?)",
                (identity_id, owner_id),
            )
            [owner] = conn.execute(_OWNER, (identity_id,)).fetchone()
        return str(owner)

    def identity_owners(self, identity_ids: Iterable[str]) -> dict[str, str]:
        wanted = list(dict.fromkeys(identity_ids))
        owners: dict[str, str] = {}
        conn = self._db.connection()
        for start in range(0, len(wanted), _BATCH):
            batch = wanted[start : start + _BATCH]
            marks = ",".join("?" * len(batch))
            rows = conn.execute(
                f"SELECT identity_id, owner_id FROM identity_claims WHERE identity_id IN ({marks})",
                batch,
            )
            owners.update((identity_id, owner) for identity_id, owner in rows)
        return owners
