"""False-positive sighting tallies in the DynamoDB store: one item per value key.

    pk                    sk       item
    SIGHTFP#<value key>   TALLY    count, organisations (list), notes (list)

A report reads the item and writes it back conditioned on the count it read
(or on its absence): two reports at once each count once, the loser retrying.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from steppe.store.aws.table import Item, Table, get_n, is_condition_failure, n, s
from steppe.store.port.sighting_tallies import SightingTallies, SightingTally, tallied

_SK = "TALLY"
_ATTEMPTS = 20


def _pk(key: str) -> str:
    return f"SIGHTFP#{key}"


def _strings(item: Item, name: str) -> tuple[str, ...]:
    return tuple(str(entry["S"]) for entry in item.get(name, {}).get("L", ()))


def _tally(key: str, item: Item | None) -> SightingTally | None:
    if item is None:
        return None
    return SightingTally(
        key, int(get_n(item, "count", 0) or 0), _strings(item, "orgs"), _strings(item, "notes")
    )


class DynamoSightingTallies(SightingTallies):
    """SightingTallies methods; mixed into DynamoStore."""

    _table: Table

    def count_false_positive_sighting(
        self, key: str, organisation: str, note: str | None
    ) -> SightingTally:
        for _ in range(_ATTEMPTS):
            before = self.get_sighting_tally(key)
            after = tallied(before, key, organisation, note)
            item = {
                "pk": s(_pk(key)),
                "sk": s(_SK),
                "count": n(after.count),
                "orgs": {"L": [s(o) for o in after.organisations]},
                "notes": {"L": [s(o) for o in after.notes]},
            }
            try:
                self._put(item, None if before is None else before.count)
                return after
            except ClientError as exc:
                if not is_condition_failure(exc):
                    raise
        raise RuntimeError(f"the sighting tally of '{key}' kept changing; try again")

    def get_sighting_tally(self, key: str) -> SightingTally | None:
        return _tally(key, self._table.get(_pk(key), _SK))

    def _put(self, item: Item, count: int | None) -> None:
        """Put the item if it is still absent (count None) or still has `count`."""
        params: dict[str, object] = {
            "TableName": self._table.name,
            "Item": item,
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        if count is not None:
            params["ConditionExpression"] = "#count = :count"
            params["ExpressionAttributeNames"] = {"#count": "count"}
            params["ExpressionAttributeValues"] = {":count": n(count)}
        self._table.client.put_item(**params)
