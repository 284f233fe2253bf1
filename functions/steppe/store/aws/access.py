"""Partners and their credentials in the DynamoDB store.

A credential is an item keyed by the hash of its key, so the authorizer finds
the partner with one GetItem; each partner also has a partition listing its
credential hashes, for revocation. The authorizer's IAM policy can therefore
be limited to the PARTNERS and CRED#* partitions.
"""

from __future__ import annotations

from collections.abc import Iterable

from botocore.exceptions import ClientError

from steppe.errors import Conflict
from steppe.store.aws import table_keys as keys
from steppe.store.aws.table import Item, Table, get_s, n, s, strings
from steppe.store.port.access import AccessStore, Partner, legacy_partner_id

_ATTEMPTS = 3


class DynamoAccess(AccessStore):
    """AccessStore methods; mixed into DynamoStore."""

    _table: Table

    def put_partner(self, partner: Partner) -> None:
        item: Item = {
            "pk": s(keys.PARTNERS),
            "sk": s(partner.name),
            "role": s(partner.role),
            "tlp_clearance": n(partner.tlp_clearance),
            "can_read": strings(sorted(partner.can_read)),
            "can_write": strings(sorted(partner.can_write)),
            "created": n(partner.created),
            "id": s(partner.id or legacy_partner_id(partner.name)),
        }
        if partner.identity_id is not None:
            item["identity_id"] = s(partner.identity_id)
        self._table.put(item)

    def get_partner(self, name: str) -> Partner | None:
        item = self._table.get(keys.PARTNERS, name)
        return None if item is None else _partner(item)

    def list_partners(self) -> list[Partner]:
        return [_partner(item) for item in self._table.query_all(keys.PARTNERS)]

    def delete_partner(self, name: str) -> None:
        self.remove_credentials(name)
        self._table.delete(keys.PARTNERS, name)

    def add_credential(self, key_hash: str, partner_name: str, created: int) -> None:
        credential: Item = {
            "pk": s(keys.credential(key_hash)),
            "sk": s(keys.CREDENTIAL_SK),
            "partner": s(partner_name),
            "created": n(created),
        }
        index: Item = {
            "pk": s(keys.partner_credentials(partner_name)),
            "sk": s(key_hash),
            "created": n(created),
        }
        for _ in range(_ATTEMPTS):
            try:
                self._table.client.transact_write_items(
                    TransactItems=[
                        {
                            "Put": {
                                "TableName": self._table.name,
                                "Item": credential,
                                "ConditionExpression": "attribute_not_exists(pk)",
                            }
                        },
                        {"Put": {"TableName": self._table.name, "Item": index}},
                    ]
                )
                return
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise
            holder = self.find_credential(key_hash)
            if holder == partner_name:
                return
            if holder is not None:
                raise Conflict("this credential is already held by another partner")
            # Cancelled by a concurrent transaction on the same items: try again.
        raise Conflict("this credential is being added by another request; try again")

    def find_credential(self, key_hash: str) -> str | None:
        item = self._table.get(keys.credential(key_hash), keys.CREDENTIAL_SK)
        return None if item is None else item["partner"]["S"]

    def remove_credentials(self, partner_name: str, keep: Iterable[str] = ()) -> int:
        kept = set(keep)
        index = keys.partner_credentials(partner_name)
        hashes = [
            item["sk"]["S"] for item in self._table.query_all(index) if item["sk"]["S"] not in kept
        ]
        if not hashes:
            return 0
        # The credential first: once it is gone the key no longer authenticates.
        self._table.batch_write(deletes=[(keys.credential(h), keys.CREDENTIAL_SK) for h in hashes])
        self._table.batch_write(deletes=[(index, h) for h in hashes])
        return len(hashes)


def _partner(item: Item) -> Partner:
    return Partner(
        name=item["sk"]["S"],
        role=item["role"]["S"],  # type: ignore[arg-type]
        tlp_clearance=int(item["tlp_clearance"]["N"]),
        can_read=frozenset(v["S"] for v in item["can_read"]["L"]),
        can_write=frozenset(v["S"] for v in item["can_write"]["L"]),
        created=int(item["created"]["N"]),
        identity_id=get_s(item, "identity_id"),
        id=get_s(item, "id") or legacy_partner_id(item["sk"]["S"]),
    )
