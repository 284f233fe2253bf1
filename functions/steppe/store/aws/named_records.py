"""Records with a unique name (feeds, push destinations): one layout, written once.

A record is its own item (<PREFIX>#<id> / <SK>), read with one GetItem; its
name is a claim in a listing partition (sort key: the name) holding the id,
which lists the records in name order with one Query. The two are written and
deleted in one transaction, the claim on the condition that no other record
holds the name: two concurrent creations of a name cannot both succeed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from steppe.errors import Conflict
from steppe.store.aws.table import Item, Table, is_condition_failure, s


@dataclass(frozen=True, slots=True)
class NamedRecords:
    """The records of one kind: `what` names them in messages ("feed", "push destination")."""

    table: Table
    what: str
    listing: str  # the partition of the name claims
    record_pk: Callable[[str], str]  # id -> the record's partition key
    record_sk: str

    def create(self, record_id: str, name: str, item: Item) -> None:
        """Store the record and its name's claim; Conflict (where "name") if the name is taken."""
        claim: Item = {"pk": s(self.listing), "sk": s(name), "id": s(record_id)}
        codes = self._transact(
            [
                {"Put": {"Item": claim, "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Put": {"Item": item, "ConditionExpression": "attribute_not_exists(pk)"}},
            ]
        )
        if codes is None:
            return
        if codes[0] == "ConditionalCheckFailed":
            raise Conflict(f"a {self.what} named '{name}' already exists", where="name")
        raise Conflict(f"a {self.what} with the id '{record_id}' already exists", where="id")

    def get(self, record_id: str) -> Item | None:
        return self.table.get(self.record_pk(record_id), self.record_sk)

    def get_by_name(self, name: str) -> Item | None:
        claim = self.table.get(self.listing, name)
        return None if claim is None else self.get(claim["id"]["S"])

    def list(self) -> list[Item]:
        """Every record, in name order."""
        ids = [item["id"]["S"] for item in self.table.query_all(self.listing)]
        found = self.table.batch_get((self.record_pk(i), self.record_sk) for i in ids)
        items = (found.get((self.record_pk(i), self.record_sk)) for i in ids)
        return [item for item in items if item is not None]

    def update(self, record_id: str, expression: str, values: dict[str, Any]) -> Item | None:
        """Apply the update to an existing record; the record after it, or None if none."""
        try:
            answer = self.table.client.update_item(
                TableName=self.table.name,
                Key={"pk": s(self.record_pk(record_id)), "sk": s(self.record_sk)},
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return None
            raise
        return answer["Attributes"]

    def delete(self, record_id: str, name: str) -> None:
        """Remove the record and its name's claim (the claim only if it is this record's)."""
        pk = self.record_pk(record_id)
        codes = self._transact(
            [
                {"Delete": {"Key": {"pk": s(pk), "sk": s(self.record_sk)}}},
                {
                    "Delete": {
                        "Key": {"pk": s(self.listing), "sk": s(name)},
                        "ConditionExpression": "id = :id",
                        "ExpressionAttributeValues": {":id": s(record_id)},
                    }
                },
            ]
        )
        if codes is not None:
            # The name's claim is not this record's (only a damaged table has that).
            self.table.delete(pk, self.record_sk)

    def _transact(self, actions: list[dict[str, Any]]) -> list[str] | None:
        """Run a transaction; None on success, else each action's cancellation code."""
        for action in actions:
            next(iter(action.values()))["TableName"] = self.table.name
        try:
            self.table.client.transact_write_items(TransactItems=actions)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            codes = [
                reason.get("Code", "None")
                for reason in exc.response.get("CancellationReasons") or []
            ]
            if "TransactionConflict" in codes or not codes:
                raise Conflict(
                    f"{self.what}s are being changed by another request; try again"
                ) from None
            return codes
        return None
