"""Push destinations and their delivery cursors in the DynamoDB store.

Laid out as feeds are (store/aws/feeds.py): a destination is its own item
(PUSH#<id> / PUSH), its name a claim in the PUSHES partition holding the
id, the two written and deleted in one transaction so that two concurrent
creations of one name cannot both succeed. Its cursors sit in its
partition (PUSH#<id> / CURSOR#<collection>), one item per collection.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from steppe.errors import Conflict
from steppe.store.aws import table_keys as keys
from steppe.store.aws.table import Item, Table, is_condition_failure, n, s, strings
from steppe.store.port.destinations import Destination, DestinationStore


class DynamoDestinations(DestinationStore):
    """DestinationStore methods; mixed into DynamoStore."""

    _table: Table

    def create_destination(self, destination: Destination) -> None:
        claim: Item = {"pk": s(keys.PUSHES), "sk": s(destination.name), "id": s(destination.id)}
        codes = self._transact_destinations(
            [
                {"Put": {"Item": claim, "ConditionExpression": "attribute_not_exists(pk)"}},
                {
                    "Put": {
                        "Item": _item(destination),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
        if codes is None:
            return
        if codes[0] == "ConditionalCheckFailed":
            raise Conflict(
                f"a push destination named '{destination.name}' already exists", where="name"
            )
        raise Conflict(f"a push destination with the id '{destination.id}' already exists")

    def get_destination(self, destination_id: str) -> Destination | None:
        item = self._table.get(keys.push(destination_id), keys.PUSH_SK)
        return None if item is None else _destination(item)

    def get_destination_by_name(self, name: str) -> Destination | None:
        claim = self._table.get(keys.PUSHES, name)
        return None if claim is None else self.get_destination(claim["id"]["S"])

    def list_destinations(self) -> list[Destination]:
        ids = [item["id"]["S"] for item in self._table.query_all(keys.PUSHES)]
        found = self._table.batch_get((keys.push(i), keys.PUSH_SK) for i in ids)
        items = (found.get((keys.push(i), keys.PUSH_SK)) for i in ids)
        return [_destination(item) for item in items if item is not None]

    def set_destination_secret(self, destination_id: str, secret: str) -> Destination | None:
        try:
            answer = self._table.client.update_item(
                TableName=self._table.name,
                Key={"pk": s(keys.push(destination_id)), "sk": s(keys.PUSH_SK)},
                UpdateExpression="SET secret = :secret",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":secret": s(secret)},
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return None
            raise
        return _destination(answer["Attributes"])

    def delete_destination(self, destination_id: str) -> Destination | None:
        destination = self.get_destination(destination_id)
        if destination is None:
            return None
        codes = self._transact_destinations(
            [
                {"Delete": {"Key": {"pk": s(keys.push(destination.id)), "sk": s(keys.PUSH_SK)}}},
                {
                    "Delete": {
                        "Key": {"pk": s(keys.PUSHES), "sk": s(destination.name)},
                        "ConditionExpression": "id = :id",
                        "ExpressionAttributeValues": {":id": s(destination.id)},
                    }
                },
            ]
        )
        if codes is not None:
            # The name's claim is not this destination's (only a damaged table has that).
            self._table.delete(keys.push(destination.id), keys.PUSH_SK)
        partition = keys.push(destination.id)
        for cursor in list(self._table.query_all(partition, prefix=keys.PUSH_CURSOR_PREFIX)):
            self._table.delete(partition, cursor["sk"]["S"])
        return destination

    def push_cursor(self, destination_id: str, collection_id: str) -> int | None:
        item = self._table.get(keys.push(destination_id), keys.PUSH_CURSOR_PREFIX + collection_id)
        return None if item is None else int(item["position"]["N"])

    def set_push_cursor(self, destination_id: str, collection_id: str, position: int) -> None:
        self._table.put(
            {
                "pk": s(keys.push(destination_id)),
                "sk": s(keys.PUSH_CURSOR_PREFIX + collection_id),
                "position": n(position),
            }
        )

    def _transact_destinations(self, actions: list[dict[str, Any]]) -> list[str] | None:
        """Run a transaction; None on success, else each action's cancellation code."""
        for action in actions:
            next(iter(action.values()))["TableName"] = self._table.name
        try:
            self._table.client.transact_write_items(TransactItems=actions)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            codes = [
                reason.get("Code", "None")
                for reason in exc.response.get("CancellationReasons") or []
            ]
            if "TransactionConflict" in codes or not codes:
                raise Conflict(
                    "push destinations are being changed by another request; try again"
                ) from None
            return codes
        return None


def _item(destination: Destination) -> Item:
    return {
        "pk": s(keys.push(destination.id)),
        "sk": s(keys.PUSH_SK),
        "id": s(destination.id),
        "name": s(destination.name),
        "kind": s(destination.kind),
        "collections": strings(sorted(destination.collections)),
        "tlp_clearance": n(destination.tlp_clearance),
        "types": strings(sorted(destination.types)),
        "settings": {"M": {key: s(value) for key, value in destination.settings.items()}},
        "secret": s(destination.secret),
        "created": n(destination.created),
    }


def _destination(item: Item) -> Destination:
    return Destination(
        id=item["id"]["S"],
        name=item["name"]["S"],
        kind=item["kind"]["S"],
        collections=frozenset(v["S"] for v in item["collections"]["L"]),
        tlp_clearance=int(item["tlp_clearance"]["N"]),
        types=frozenset(v["S"] for v in item["types"]["L"]),
        settings={key: value["S"] for key, value in item["settings"]["M"].items()},
        secret=item["secret"]["S"],
        created=int(item["created"]["N"]),
    )
