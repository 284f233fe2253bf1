"""Feed definitions in the DynamoDB store: named records (store/aws/named_records.py).

A feed is its own item (FEED#<id> / FEED), read with one GetItem when it is
served; its name is a claim in the FEEDS partition.
"""

from __future__ import annotations

from steppe.store.aws import table_keys as keys
from steppe.store.aws.named_records import NamedRecords
from steppe.store.aws.table import Item, Table, n, s, strings
from steppe.store.port.feeds import Feed, FeedStore


class DynamoFeeds(FeedStore):
    """FeedStore methods; mixed into DynamoStore."""

    _table: Table

    @property
    def _feed_records(self) -> NamedRecords:
        return NamedRecords(self._table, "feed", keys.FEEDS, keys.feed, keys.FEED_SK)

    def create_feed(self, feed: Feed) -> None:
        self._feed_records.create(feed.id, feed.name, _item(feed))

    def get_feed(self, feed_id: str) -> Feed | None:
        item = self._feed_records.get(feed_id)
        return None if item is None else _feed(item)

    def get_feed_by_name(self, name: str) -> Feed | None:
        item = self._feed_records.get_by_name(name)
        return None if item is None else _feed(item)

    def list_feeds(self) -> list[Feed]:
        return [_feed(item) for item in self._feed_records.list()]

    def set_feed_token(self, feed_id: str, token_hash: str) -> Feed | None:
        item = self._feed_records.update(
            feed_id, "SET token_hash = :hash", {":hash": s(token_hash)}
        )
        return None if item is None else _feed(item)

    def delete_feed(self, feed_id: str) -> Feed | None:
        feed = self.get_feed(feed_id)
        if feed is not None:
            self._feed_records.delete(feed.id, feed.name)
        return feed


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
