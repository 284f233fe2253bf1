"""Identity claims in the DynamoDB store: one item per claimed STIX identity.

A claim is a PutItem conditional on the item's absence; whoever loses the
race reads the winner back with a strongly consistent GetItem.
"""

from __future__ import annotations

from collections.abc import Iterable

from botocore.exceptions import ClientError

from steppe.store.aws import table_keys as keys
from steppe.store.aws.table import Table, get_s, is_condition_failure, s
from steppe.store.port.claims import IdentityClaims


class DynamoClaims(IdentityClaims):
    """IdentityClaims methods; mixed into DynamoStore."""

    _table: Table

    def claim_identity(self, identity_id: str, owner_id: str) -> str:
        item = {"pk": s(keys.claim(identity_id)), "sk": s(keys.CLAIM_SK), "owner": s(owner_id)}
        try:
            self._table.put(item, "attribute_not_exists(pk)")
            return owner_id
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
        stored = self._table.get(keys.claim(identity_id), keys.CLAIM_SK)
        if stored is None:  # claims are never removed, so a refused put always has a winner
            raise RuntimeError(f"the claim on '{identity_id}' could not be read back")
        return str(get_s(stored, "owner"))

    def identity_owners(self, identity_ids: Iterable[str]) -> dict[str, str]:
        wanted = {keys.claim(identity_id): identity_id for identity_id in identity_ids}
        found = self._table.batch_get((pk, keys.CLAIM_SK) for pk in wanted)
        return {wanted[pk]: str(get_s(item, "owner")) for (pk, _), item in found.items()}
