"""Server secrets in the embedded store: 32 random bytes per name, made on first use."""

from __future__ import annotations

import secrets

from steppe.store.port.server_secrets import SecretStore
from steppe.store.sqlite.database import Database

SECRET_BYTES = 32
_READ = "SELECT value FROM secrets WHERE name = ?"


class SqliteSecrets(SecretStore):
    """SecretStore methods; mixed into SqliteStore."""

    _db: Database

    def _init_secrets(self) -> None:
        # name -> value: a secret never changes once stored.
        self._secrets: dict[str, bytes] = {}

    def server_secret(self, name: str) -> bytes:
        cached = self._secrets.get(name)
        if cached is not None:
            return cached
        row = self._db.connection().execute(_READ, (name,)).fetchone()
        value = self._propose_secret(name) if row is None else bytes(row[0])
        return self._secrets.setdefault(name, value)

    def _propose_secret(self, name: str) -> bytes:
        """Store a fresh value unless one is there by now; the stored value either way.

        Under the write lock, whoever inserts first wins (in this process or
        another one on the same file), and everyone reads that value back.
        """
        with self._db.write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)",
                (name, secrets.token_bytes(SECRET_BYTES)),
            )
            [value] = conn.execute(_READ, (name,)).fetchone()
        return bytes(value)
