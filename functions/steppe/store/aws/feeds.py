"""Feed definitions in the DynamoDB store.

A feed is its own item (FEED#<id>), read with one GetItem when it is served;
its name is a claim in the FEEDS partition (sort key: the name) holding the
id, which lists the feeds in name order with one Query. The two are written
and deleted in one transaction, the claim on the condition that no other
feed holds the name: two concurrent creations of a name cannot both succeed.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from steppe.errors import Conflict
from steppe.store.aws import table_keys as keys
from steppe.store.aws.table import Item, Table, is_condition_failure, n, s, strings
from steppe.store.port.feeds import Feed, FeedStore


class DynamoFeeds(FeedStore):
    """FeedStore methods; mixed into DynamoStore."""

    _table: Table

    def create_feed(self, feed: Feed) -> None:
        claim: Item = {"pk": s(keys.FEEDS), "sk": s(feed.name), "id": s(feed.id)}
        actions = [
            {"Put": {"Item": claim, "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Put": {"Item": _item(feed), "ConditionExpression": "attribute_not_exists(pk)"}},
        ]
        codes = self._transact_feeds(actions)
        if codes is None:
            return
        if codes[0] == "ConditionalCheckFailed":
            raise Conflict(f"a feed named '{feed.name}' already exists", where="name")
        raise Conflict(f"a feed with the id '{feed.id}' already exists", where="id")

    def get_feed(self, feed_id: str) -> Feed | None:
        item = self._table.get(keys.feed(feed_id), keys.FEED_SK)
        return None if item is None else _feed(item)

    def get_feed_by_name(self, name: str) -> Feed | None:
        claim = self._table.get(keys.FEEDS, name)
        return None if claim is None else self.get_feed(claim["id"]["S"])

    def list_feeds(self) -> list[Feed]:
        ids = [item["id"]["S"] for item in self._table.query_all(keys.FEEDS)]
        found = self._table.batch_get((keys.feed(feed_id), keys.FEED_SK) for feed_id in ids)
        feeds = (found.get((keys.feed(feed_id), keys.FEED_SK)) for feed_id in ids)
        return [_feed(item) for item in feeds if item is not None]

    def set_feed_token(self, feed_id: str, token_hash: str) -> Feed | None:
        try:
            answer = self._table.client.update_item(
                TableName=self._table.name,
                Key={"pk": s(keys.feed(feed_id)), "sk": s(keys.FEED_SK)},
                UpdateExpression="SET token_hash = :hash",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":hash": s(token_hash)},
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return None
            raise
        return _feed(answer["Attributes"])

    def delete_feed(self, feed_id: str) -> Feed | None:
        feed = self.get_feed(feed_id)
        if feed is None:
            return None
        codes = self._transact_feeds(
            [
                {"Delete": {"Key": {"pk": s(keys.feed(feed.id)), "sk": s(keys.FEED_SK)}}},
                {
                    "Delete": {
                        "Key": {"pk": s(keys.FEEDS), "sk": s(feed.name)},
                        "ConditionExpression": "id = :id",
                        "ExpressionAttributeValues": {":id": s(feed.id)},
                    }
                },
            ]
        )
        if codes is not None:
            # The name's claim is not this feed's (only a damaged table has that): the feed alone.
            self._table.delete(keys.feed(feed.id), keys.FEED_SK)
        return feed

    def _transact_feeds(self, actions: list[dict[str, Any]]) -> list[str] | None:
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
                raise Conflict("feeds are being changed by another request; try again") from None
            return codes
        return None


def _item(feed: Feed) -> Item:
    return {
        "pk": s(keys.feed(feed.id)),
        "sk": s(keys.FEED_SK),
        "id": s(feed.id),
        "name": s(feed.name),
        "format": s(feed.format),
        "collections": strings(sorted(feed.collections)),
        "tlp_clearance": n(feed.tlp_clearance),
        "types": strings(sorted(feed.types)),
        "min_score": n(feed.min_score),
        "max_entries": n(feed.max_entries),
        "token_hash": s(feed.token_hash),
        "created": n(feed.created),
    }


def _feed(item: Item) -> Feed:
    return Feed(
        id=item["id"]["S"],
        name=item["name"]["S"],
        format=item["format"]["S"],
        collections=frozenset(v["S"] for v in item["collections"]["L"]),
        tlp_clearance=int(item["tlp_clearance"]["N"]),
        types=frozenset(v["S"] for v in item["types"]["L"]),
        min_score=int(item["min_score"]["N"]),
        max_entries=int(item["max_entries"]["N"]),
        token_hash=item["token_hash"]["S"],
        created=int(item["created"]["N"]),
    )
