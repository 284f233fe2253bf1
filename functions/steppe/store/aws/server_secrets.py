"""Server secrets in the DynamoDB store: 32 random bytes per name, made on first use.

Concurrent first calls, in any number of Lambda instances, agree: each
proposes a value with a PutItem conditional on the item's absence, and all
of them then read back whichever value won with a strongly consistent
GetItem. Each store caches the values it has read.
"""

from __future__ import annotations

import secrets

from botocore.exceptions import ClientError

from steppe.store.aws import table_keys as keys
from steppe.store.aws.table import Table, b, is_condition_failure, s
from steppe.store.port.server_secrets import SecretStore

SECRET_BYTES = 32


class DynamoSecrets(SecretStore):
    """SecretStore methods; mixed into DynamoStore."""

    _table: Table
    _secrets: dict[str, bytes]

    def server_secret(self, name: str) -> bytes:
        cached = self._secrets.get(name)
        if cached is not None:
            return cached
        item = self._table.get(keys.SECRETS, name)
        value = self._propose_secret(name) if item is None else bytes(item["value"]["B"])
        return self._secrets.setdefault(name, value)

    def _propose_secret(self, name: str) -> bytes:
        """Store a fresh value unless one is there by now; the stored value either way."""
        proposal = {
            "pk": s(keys.SECRETS),
            "sk": s(name),
            "value": b(secrets.token_bytes(SECRET_BYTES)),
        }
        try:
            self._table.put(proposal, "attribute_not_exists(pk)")
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
        item = self._table.get(keys.SECRETS, name)  # strongly consistent: sees the winner
        if item is None:
            raise RuntimeError(f"the server secret '{name}' could not be stored")
        return bytes(item["value"]["B"])
