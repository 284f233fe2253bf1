"""The one DynamoDB table, as the adapter's modules use it.

A thin layer over the low-level client: typed attribute helpers, strongly
consistent single reads, queries, and the batch calls with their limits
(BatchWriteItem: 25 requests; BatchGetItem: 100 keys) and their retries of
unprocessed work. Independent batches run in parallel on a small thread pool:
DynamoDB latency, not CPU, bounds these calls.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError

Item = dict[str, Any]  # an item in DynamoDB's wire form: {"name": {"S": "..."}, ...}
Key = tuple[str, str]  # (pk, sk)

WRITE_BATCH = 25
GET_BATCH = 100
_MAX_ATTEMPTS = 10  # for unprocessed items and keys, with exponential backoff
_BACKOFF_BASE = 0.02
_BACKOFF_CAP = 1.0


class UnprocessedWork(RuntimeError):
    """DynamoDB kept refusing part of a batch (throttling) after every retry."""


# -- attribute values ---------------------------------------------------------


def s(value: str) -> dict[str, str]:
    return {"S": value}


def n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def b(value: bytes) -> dict[str, bytes]:
    return {"B": value}


def boolean(value: bool) -> dict[str, bool]:
    return {"BOOL": value}


def strings(values: Iterable[str]) -> dict[str, list[dict[str, str]]]:
    """A list of strings (a list, not a string set: sets cannot be empty)."""
    return {"L": [{"S": v} for v in values]}


def get_s(item: Item, name: str, default: str | None = None) -> str | None:
    value = item.get(name)
    return default if value is None else value["S"]


def get_n(item: Item, name: str, default: int | None = None) -> int | None:
    value = item.get(name)
    return default if value is None else int(value["N"])


def get_strings(item: Item, name: str) -> list[str]:
    value = item.get(name)
    return [] if value is None else [v["S"] for v in value["L"]]


def key(pk: str, sk: str) -> Item:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def key_of(item: Item) -> Key:
    return item["pk"]["S"], item["sk"]["S"]


def is_condition_failure(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _backoff(attempt: int) -> None:
    time.sleep(random.uniform(0, min(_BACKOFF_CAP, _BACKOFF_BASE * 2**attempt)))


def _chunks(values: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


class Table:
    """The table name, its client and the thread pool that runs independent batches."""

    def __init__(self, client: Any, name: str, pool: ThreadPoolExecutor) -> None:
        self.client = client
        self.name = name
        self._pool = pool

    # -- single items ----------------------------------------------------------

    def get(self, pk: str, sk: str, projection: str | None = None) -> Item | None:
        params: dict[str, Any] = {
            "TableName": self.name,
            "Key": key(pk, sk),
            "ConsistentRead": True,
        }
        if projection:
            params["ProjectionExpression"] = projection
        return self.client.get_item(**params).get("Item")

    def put(self, item: Item, condition: str | None = None) -> None:
        params: dict[str, Any] = {"TableName": self.name, "Item": item}
        if condition:
            params["ConditionExpression"] = condition
        self.client.put_item(**params)

    def delete(self, pk: str, sk: str) -> None:
        self.client.delete_item(TableName=self.name, Key=key(pk, sk))

    # -- queries ---------------------------------------------------------------

    def query_page(
        self,
        pk: str,
        *,
        between: tuple[str, str] | None = None,
        prefix: str | None = None,
        at_most: str | None = None,
        start: Item | None = None,
        limit: int | None = None,
        forward: bool = True,
        projection: str | None = None,
        names: dict[str, str] | None = None,
        where: tuple[str, dict[str, Any]] | None = None,
    ) -> tuple[list[Item], Item | None]:
        """One Query call (strongly consistent): the items and the LastEvaluatedKey.

        names: ExpressionAttributeNames for a projection naming reserved words.
        where: a FilterExpression and its values. DynamoDB applies it after
          reading: `limit` counts (and the call bills) the items read, not
          the items returned.
        """
        values: dict[str, Any] = {":pk": s(pk)}
        condition = "pk = :pk"
        if between is not None:
            condition += " AND sk BETWEEN :lo AND :hi"
            values[":lo"], values[":hi"] = s(between[0]), s(between[1])
        elif prefix is not None:
            condition += " AND begins_with(sk, :prefix)"
            values[":prefix"] = s(prefix)
        elif at_most is not None:
            condition += " AND sk <= :hi"
            values[":hi"] = s(at_most)
        params: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ConsistentRead": True,
            "ScanIndexForward": forward,
        }
        if start is not None:
            params["ExclusiveStartKey"] = start
        if names:
            params["ExpressionAttributeNames"] = names
        if limit is not None:
            params["Limit"] = limit
        if projection:
            params["ProjectionExpression"] = projection
        if where is not None:
            params["FilterExpression"] = where[0]
            values.update(where[1])
        response = self.client.query(**params)
        return response.get("Items", []), response.get("LastEvaluatedKey")

    def query_all(
        self,
        pk: str,
        *,
        prefix: str | None = None,
        projection: str | None = None,
        names: dict[str, str] | None = None,
    ) -> Iterator[Item]:
        """Every item of a partition (or of a sort-key prefix), in sort-key order."""
        start: Item | None = None
        while True:
            items, start = self.query_page(
                pk, prefix=prefix, start=start, projection=projection, names=names
            )
            yield from items
            if start is None:
                return

    # -- batches ---------------------------------------------------------------

    def batch_get(self, keys: Iterable[Key], projection: str | None = None) -> dict[Key, Item]:
        """Strongly consistent reads of many items; absent items are absent from the result."""
        unique = list(dict.fromkeys(keys))
        if not unique:
            return {}
        found: dict[Key, Item] = {}
        for items in self.map(
            lambda part: self._get_part(part, projection), _chunks(unique, GET_BATCH)
        ):
            for item in items:
                found[key_of(item)] = item
        return found

    def _get_part(self, keys: Sequence[Key], projection: str | None) -> list[Item]:
        request: dict[str, Any] = {"Keys": [key(pk, sk) for pk, sk in keys], "ConsistentRead": True}
        if projection:
            # The key attributes are always needed to match items to their keys.
            request["ProjectionExpression"] = f"pk, sk, {projection}"
        items: list[Item] = []
        for attempt in range(_MAX_ATTEMPTS):
            response = self.client.batch_get_item(RequestItems={self.name: request})
            items.extend(response.get("Responses", {}).get(self.name, []))
            unprocessed = response.get("UnprocessedKeys", {}).get(self.name)
            if not unprocessed or not unprocessed.get("Keys"):
                return items
            request = unprocessed
            _backoff(attempt)
        raise UnprocessedWork(f"DynamoDB left {len(request['Keys'])} keys unread after retries")

    def batch_write(
        self,
        puts: Iterable[Item] = (),
        deletes: Iterable[Key] = (),
        before_each: Callable[[], None] | None = None,
    ) -> None:
        """Put and delete many items (not atomically). A key appears once: the last op wins.

        `before_each` runs before every call (the collection lease checks its
        deadline there).
        """
        requests: dict[Key, dict[str, Any]] = {}
        for item in puts:
            requests[key_of(item)] = {"PutRequest": {"Item": item}}
        for pk, sk in deletes:
            requests[(pk, sk)] = {"DeleteRequest": {"Key": key(pk, sk)}}
        if not requests:
            return
        parts = _chunks(list(requests.values()), WRITE_BATCH)
        list(self.map(lambda part: self._write_part(part, before_each), parts))

    def _write_part(
        self, requests: Sequence[dict[str, Any]], before_each: Callable[[], None] | None
    ) -> None:
        pending = list(requests)
        for attempt in range(_MAX_ATTEMPTS):
            if before_each is not None:
                before_each()
            response = self.client.batch_write_item(RequestItems={self.name: pending})
            pending = response.get("UnprocessedItems", {}).get(self.name, [])
            if not pending:
                return
            _backoff(attempt)
        raise UnprocessedWork(f"DynamoDB left {len(pending)} writes unprocessed after retries")

    def map(self, function: Callable[[Any], Any], parts: list[Any]) -> Iterator[Any]:
        if len(parts) == 1:
            return iter([function(parts[0])])
        return self._pool.map(function, parts)
