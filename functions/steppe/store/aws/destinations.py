"""Push destinations and their delivery cursors in the DynamoDB store.

Named records as feeds are (store/aws/named_records.py): a destination is its
own item (PUSH#<id> / PUSH), its name a claim in the PUSHES partition. Its
cursors sit in its partition (PUSH#<id> / CURSOR#<collection>), one item per
collection.
"""

from __future__ import annotations

from steppe.store.aws import table_keys as keys
from steppe.store.aws.named_records import NamedRecords
from steppe.store.aws.table import Item, Table, n, s, strings
from steppe.store.port.destinations import Destination, DestinationStore


class DynamoDestinations(DestinationStore):
    """DestinationStore methods; mixed into DynamoStore."""

    _table: Table

    @property
    def _destination_records(self) -> NamedRecords:
        return NamedRecords(self._table, "push destination", keys.PUSHES, keys.push, keys.PUSH_SK)

    def create_destination(self, destination: Destination) -> None:
        self._destination_records.create(destination.id, destination.name, _item(destination))

    def get_destination(self, destination_id: str) -> Destination | None:
        item = self._destination_records.get(destination_id)
        return None if item is None else _destination(item)

    def get_destination_by_name(self, name: str) -> Destination | None:
        item = self._destination_records.get_by_name(name)
        return None if item is None else _destination(item)

    def list_destinations(self) -> list[Destination]:
        return [_destination(item) for item in self._destination_records.list()]

    def set_destination_secret(self, destination_id: str, secret: str) -> Destination | None:
        item = self._destination_records.update(
            destination_id, "SET secret = :secret", {":secret": s(secret)}
        )
        return None if item is None else _destination(item)

    def delete_destination(self, destination_id: str) -> Destination | None:
        destination = self.get_destination(destination_id)
        if destination is None:
            return None
        self._destination_records.delete(destination.id, destination.name)
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
