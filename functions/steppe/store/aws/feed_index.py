"""The feed index in the DynamoDB store: one item per entry and two listing copies of it.

Layout (the keys are built in table_keys.py):

- FEEDENTRY#<collection> / <indicator id>: the entry, with a revision `rev`.
- While the entry is not retired, a copy in FEEDSCORE#<collection>#<type>
  (sort key: score descending, then indicator id), which feeds read with one
  Query per (collection, type) merged lazily, and a copy in FEEDDUE#<shard>
  (sort key: expiry), which the decay job reads.
- Once retired, a copy in FEEDRETIRED#<collection>#<type> (most recently
  retired first), which removal announcements read, and one in
  FEEDPURGE#<shard> (oldest retirement first), which purging reads.
- FEEDCOLLS / <collection>: the collection's generation. The same partition
  lists the collections that have entries, which active_feed_entries walks
  (skipping retired entries by a filter; purging bounds how many there are).

Scores and instants are sort keys through table_keys.pad, negated where the
listing reads newest or highest first, so any integer sorts correctly.

Copies carry the whole entry, so that each listing answers in one read rather
than a Query followed by a BatchGetItem. The shards (a hash of collection and
indicator) spread the decay job's writes over several partitions.

An entry and its copies change in one TransactWriteItems, conditioned on the
revision read just before, so a listing never disagrees with its entry, even
when two writers (the write path and the decay job) replace one entry at once:
the transaction that loses re-reads and tries again. The generation moves
after the entries are written, so whoever sees the new generation sees them.

Requests (k: a selection's collections times its types; 8: FEED_SHARDS). A
merge reads a stream's next page only when it needs it; a stream's first page
is its share of the limit, each further one twice the last, up to the limit:

- put: per 20 entries one BatchGetItem (the old state) and one
  TransactWriteItems; then one UpdateItem per collection (two when the clock
  has not passed the generation's changed_at).
- get: one BatchGetItem per 100 ids. feed_generations: one per 100 collections.
- select / retired: k Queries, then pages as the merge needs them.
- due: 8 Queries, then pages as needed.
- active: a Query of FEEDCOLLS per 100 collections, one or more Queries of
  each collection visited until the page is full.
- purge: 8 Queries, one TransactWriteItems per 33 entries (each deletion
  conditioned on the revision listed, so an entry re-put meanwhile stays).

The expiry is stored as `expiry`, not `expires_at`: expires_at is the table's
TTL attribute (seconds), and these are microseconds that must not be read so.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from itertools import islice
from typing import Any

from botocore.exceptions import ClientError

from steppe.errors import Conflict
from steppe.stix.timestamps import now_micros
from steppe.store.aws import table_keys as keys
from steppe.store.aws.table import (
    Item,
    Key,
    Table,
    _backoff,
    b,
    get_n,
    is_condition_failure,
    key,
    key_of,
    n,
    s,
)
from steppe.store.port.feed_index import FeedIndex, FeedIndexEntry, FeedSelection, Generation

_TRANSACTION_ACTIONS = 100  # DynamoDB's limit per TransactWriteItems
_PUT_ACTIONS = 5  # per entry: the entry, two new copies, two old copies deleted
_PURGE_ACTIONS = 3  # per entry: the entry and its two copies
_ATTEMPTS = 8
_COLLECTION_PAGE = 100
_NAMES = {"#tlp": "tlp", "#expiry": "expiry"}
_RETRYABLE = {
    "None",
    "ConditionalCheckFailed",
    "TransactionConflict",
    "ThrottlingError",
    "ProvisionedThroughputExceeded",
}


class DynamoFeedIndex(FeedIndex):
    """FeedIndex methods; mixed into DynamoStore.

    Its helpers are named _feed_*: every mixin of DynamoStore shares one namespace.
    """

    _table: Table

    # -- writes --------------------------------------------------------------------

    def put_feed_entries(self, entries: Sequence[FeedIndexEntry]) -> None:
        latest = {(entry.collection_id, entry.indicator_id): entry for entry in entries}
        if not latest:
            return
        pending = list(latest.values())
        size = _TRANSACTION_ACTIONS // _PUT_ACTIONS
        groups = [pending[i : i + size] for i in range(0, len(pending), size)]
        list(self._table.map(self._feed_put_group, groups))
        now = now_micros()
        collections = sorted({entry.collection_id for entry in pending})
        list(
            self._table.map(
                lambda collection_id: self._feed_generation_step(collection_id, now), collections
            )
        )

    def _feed_put_group(self, group: list[FeedIndexEntry]) -> None:
        for attempt in range(_ATTEMPTS):
            old = self._table.batch_get(_entry_key(entry) for entry in group)
            actions: list[dict[str, Any]] = []
            for entry in group:
                actions.extend(self._feed_replace(entry, old.get(_entry_key(entry))))
            if self._feed_transaction(actions):
                return
            _backoff(attempt)  # another writer changed one of these entries: read again
        raise Conflict("feed entries are being changed by other writers; try again")

    def _feed_replace(self, entry: FeedIndexEntry, old: Item | None) -> list[dict[str, Any]]:
        table = self._table.name
        rev = 0 if old is None else get_n(old, "rev", 0)
        items = [_item(pk, sk, entry, rev + 1) for pk, sk in _keys(entry)]
        put: dict[str, Any] = {"TableName": table, "Item": items[0]}
        if old is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = "#rev = :rev"
            put["ExpressionAttributeNames"] = {"#rev": "rev"}
            put["ExpressionAttributeValues"] = {":rev": n(rev)}
        actions: list[dict[str, Any]] = [{"Put": put}]
        actions.extend({"Put": {"TableName": table, "Item": item}} for item in items[1:])
        if old is not None:
            kept = {key_of(item) for item in items}
            actions.extend(
                {"Delete": {"TableName": table, "Key": key(pk, sk)}}
                for pk, sk in _keys(_entry(old))[1:]
                if (pk, sk) not in kept
            )
        return actions

    def _feed_generation_step(self, collection_id: str, now: int) -> None:
        """One step of the generation; changed_at strictly increases, as in the SQLite store."""
        params: dict[str, Any] = {
            "TableName": self._table.name,
            "Key": key(keys.FEED_COLLECTIONS, collection_id),
            "ExpressionAttributeNames": {"#counter": "counter", "#changed": "changed_at"},
        }
        try:
            self._table.client.update_item(
                **params,
                UpdateExpression="SET #changed = :now ADD #counter :one",
                ConditionExpression="attribute_not_exists(#changed) OR #changed < :now",
                ExpressionAttributeValues={":now": n(now), ":one": n(1)},
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            self._table.client.update_item(
                **params,
                UpdateExpression="ADD #counter :one, #changed :one",
                ExpressionAttributeValues={":one": n(1)},
            )

    def purge_feed_entries(self, retired_before: int, limit: int) -> int:
        if limit <= 0:
            return 0
        bound = keys.up_to(keys.pad(retired_before - 1))
        streams = [
            self._feed_walk(keys.feed_purge(shard), keys.FEED_SHARDS, limit, at_most=bound)
            for shard in range(keys.FEED_SHARDS)
        ]
        doomed = list(islice(heapq.merge(*streams, key=_sort_key), limit))
        size = _TRANSACTION_ACTIONS // _PURGE_ACTIONS
        groups = [doomed[i : i + size] for i in range(0, len(doomed), size)]
        return sum(self._table.map(self._feed_purge_group, groups)) if groups else 0

    def _feed_purge_group(self, group: list[Item]) -> int:
        if self._feed_transaction([action for item in group for action in self._feed_forget(item)]):
            return len(group)
        # One of them changed since it was listed (re-put, or purged by another run):
        # each alone, and those that changed stay.
        return sum(1 for item in group if self._feed_transaction(self._feed_forget(item)))

    def _feed_forget(self, copy: Item) -> list[dict[str, Any]]:
        table = self._table.name
        entry_pk, entry_sk = _entry_key(_entry(copy))
        actions: list[dict[str, Any]] = [
            {
                "Delete": {
                    "TableName": table,
                    "Key": key(entry_pk, entry_sk),
                    "ConditionExpression": "#rev = :rev",
                    "ExpressionAttributeNames": {"#rev": "rev"},
                    "ExpressionAttributeValues": {":rev": copy["rev"]},
                }
            }
        ]
        actions.extend(
            {"Delete": {"TableName": table, "Key": key(pk, sk)}}
            for pk, sk in _keys(_entry(copy))[1:]
        )
        return actions

    def _feed_transaction(self, actions: list[dict[str, Any]]) -> bool:
        """Run a transaction: False if a condition or a concurrent writer cancelled it."""
        try:
            self._table.client.transact_write_items(TransactItems=actions)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            codes = {
                reason.get("Code", "None")
                for reason in exc.response.get("CancellationReasons") or []
            }
            if not codes <= _RETRYABLE:
                raise  # an item too large, a validation error: no retry mends it
            return False
        return True

    # -- reads ---------------------------------------------------------------------

    def get_feed_entries(
        self, collection_id: str, indicator_ids: Sequence[str]
    ) -> list[FeedIndexEntry]:
        wanted = [
            (keys.feed_entry(collection_id), indicator_id)
            for indicator_id in sorted(set(indicator_ids))
        ]
        found = self._table.batch_get(wanted)
        return [_entry(found[k]) for k in wanted if k in found]

    def select_feed_entries(
        self, selection: FeedSelection, now: int, limit: int
    ) -> list[FeedIndexEntry]:
        if limit <= 0:
            return []
        bound = keys.up_to(keys.pad(-selection.min_score))
        where = (
            "#tlp <= :tlp AND #expiry > :now",
            {":tlp": n(selection.max_tlp), ":now": n(now)},
        )
        partitions = _partitions(selection, keys.feed_score)
        streams = [
            self._feed_walk(
                pk,
                len(partitions),
                limit,
                at_most=bound,
                where=where,
                names=_NAMES,
            )
            for pk in partitions
        ]
        return [_entry(item) for item in islice(heapq.merge(*streams, key=_sort_key), limit)]

    def retired_feed_entries(
        self, selection: FeedSelection, since: int, limit: int
    ) -> list[FeedIndexEntry]:
        if limit <= 0:
            return []
        bound = keys.up_to(keys.pad(-since))
        where = ("#tlp <= :tlp", {":tlp": n(selection.max_tlp)})
        partitions = _partitions(selection, keys.feed_retired)
        streams = [
            self._feed_walk(
                pk,
                len(partitions),
                limit,
                at_most=bound,
                where=where,
                names={"#tlp": "tlp"},
            )
            for pk in partitions
        ]
        return [_entry(item) for item in islice(heapq.merge(*streams, key=_sort_key), limit)]

    def due_feed_entries(self, now: int, limit: int) -> list[FeedIndexEntry]:
        if limit <= 0:
            return []
        bound = keys.up_to(keys.pad(now))
        streams = [
            self._feed_walk(keys.feed_due(shard), keys.FEED_SHARDS, limit, at_most=bound)
            for shard in range(keys.FEED_SHARDS)
        ]
        return [_entry(item) for item in islice(heapq.merge(*streams, key=_sort_key), limit)]

    def active_feed_entries(
        self, after: tuple[str, str] | None, limit: int
    ) -> list[FeedIndexEntry]:
        found: list[FeedIndexEntry] = []
        if limit <= 0:
            return found
        if after is not None:
            found.extend(self._feed_active_in(after[0], after[1], limit))
        start = None if after is None else key(keys.FEED_COLLECTIONS, after[0])
        while len(found) < limit:
            page, start = self._table.query_page(
                keys.FEED_COLLECTIONS, start=start, limit=_COLLECTION_PAGE
            )
            for item in page:
                found.extend(self._feed_active_in(item["sk"]["S"], None, limit - len(found)))
                if len(found) >= limit:
                    break
            if start is None:
                break
        return found

    def _feed_active_in(
        self, collection_id: str, after_id: str | None, want: int
    ) -> list[FeedIndexEntry]:
        pk = keys.feed_entry(collection_id)
        found: list[FeedIndexEntry] = []
        start = None if after_id is None else key(pk, after_id)
        while len(found) < want:
            page, start = self._table.query_page(
                pk,
                start=start,
                limit=want - len(found),
                where=("attribute_not_exists(retired_at)", {}),
            )
            found.extend(_entry(item) for item in page)
            if start is None:
                break
        return found

    def feed_generations(self, collection_ids: Sequence[str]) -> dict[str, Generation]:
        wanted = sorted(set(collection_ids))
        found = self._table.batch_get((keys.FEED_COLLECTIONS, c) for c in wanted)
        generations: dict[str, Generation] = {}
        for collection_id in wanted:
            item = found.get((keys.FEED_COLLECTIONS, collection_id))
            generations[collection_id] = (
                Generation(0, 0)
                if item is None
                else Generation(get_n(item, "counter", 0), get_n(item, "changed_at", 0))
            )
        return generations

    def _feed_walk(self, pk: str, streams: int, most: int, **query: Any) -> Iterator[Item]:
        """A partition's items in sort-key order, a page read only when the merge needs it.

        The first page is this stream's share of `most` (one of `streams` merged),
        each further one twice the last, up to `most`: a merge reads about what it
        returns, however the entries fall among its partitions.
        """
        start: Item | None = None
        page = max(1, -(-most // streams))
        while True:
            items, start = self._table.query_page(pk, start=start, limit=page, **query)
            yield from items
            if start is None:
                return
            page = min(most, page * 2)


def _partitions(selection: FeedSelection, partition: Callable[[str, str], str]) -> list[str]:
    return [
        partition(collection_id, stix_type)
        for collection_id in sorted(selection.collections)
        for stix_type in sorted(selection.types)
    ]


def _sort_key(item: Item) -> str:
    # Every stream of one merge has sort keys of one format, so they merge as strings.
    return item["sk"]["S"]


def _entry_key(entry: FeedIndexEntry) -> Key:
    return keys.feed_entry(entry.collection_id), entry.indicator_id


def _keys(entry: FeedIndexEntry) -> list[Key]:
    """The entry's item, then its two listing copies for its state."""
    shard = keys.feed_shard(entry.collection_id, entry.indicator_id)
    c, i = entry.collection_id, entry.indicator_id
    if entry.retired_at is None:
        copies = [
            (keys.feed_score(c, entry.type), keys.feed_score_sk(entry.score, i)),
            (keys.feed_due(shard), keys.feed_instant_sk(entry.expires_at, c, i)),
        ]
    else:
        copies = [
            (keys.feed_retired(c, entry.type), keys.feed_retired_sk(entry.retired_at, i)),
            (keys.feed_purge(shard), keys.feed_instant_sk(entry.retired_at, c, i)),
        ]
    return [_entry_key(entry), *copies]


def _number(value: float) -> dict[str, str]:
    # Fixed notation: DynamoDB's number grammar, whatever the float's repr.
    return {"N": format(Decimal(repr(float(value))), "f")}


def _item(pk: str, sk: str, entry: FeedIndexEntry, rev: int) -> Item:
    item: Item = {
        "pk": s(pk),
        "sk": s(sk),
        "rev": n(rev),
        "collection_id": s(entry.collection_id),
        "indicator_id": s(entry.indicator_id),
        "type": s(entry.type),
        "value": s(entry.value),
        "key": s(entry.key),
        "tlp": n(entry.tlp),
        "score": n(entry.score),
        "scored_at": n(entry.scored_at),
        "base": n(entry.base),
        "last_seen": n(entry.last_seen),
        "lifetime_us": n(entry.lifetime_us),
        "decay_speed": _number(entry.decay_speed),
        "threshold": n(entry.threshold),
        "expiry": n(entry.expires_at),
        "detail": b(bytes(entry.detail)),
    }
    if entry.retired_at is not None:
        item["retired_at"] = n(entry.retired_at)
    return item


def _entry(item: Item) -> FeedIndexEntry:
    return FeedIndexEntry(
        collection_id=item["collection_id"]["S"],
        indicator_id=item["indicator_id"]["S"],
        type=item["type"]["S"],
        value=item["value"]["S"],
        key=item["key"]["S"],
        tlp=int(item["tlp"]["N"]),
        score=int(item["score"]["N"]),
        scored_at=int(item["scored_at"]["N"]),
        base=int(item["base"]["N"]),
        last_seen=int(item["last_seen"]["N"]),
        lifetime_us=int(item["lifetime_us"]["N"]),
        decay_speed=float(item["decay_speed"]["N"]),
        threshold=int(item["threshold"]["N"]),
        expires_at=int(item["expiry"]["N"]),
        retired_at=get_n(item, "retired_at"),
        detail=bytes(item["detail"]["B"]),
    )
