"""The collection lease: writers of one collection take turns, and repair each other.

Each collection has a STATE item (keys.py) holding

* `watermark`: every version with date_added <= watermark is completely
  written; readers never look above it;
* `reserved`: the highest date_added handed out (>= watermark);
* `owner`/`until`: the lease, held by at most one writer, which expires;
* `committed`/`done`: which writer's journal has been committed / applied
  completely (see below);
* `versions`, `newest`: the collection's version count and newest date_added.

A writer takes the lease with one conditional UpdateItem that compares and
swaps the state it expects (`owner` free, or held but expired; `reserved`
unchanged) and reserves a range of date_added values in the same write:
base = max(now, reserved + 1), reserved := base + n - 1. Nobody else can
assign a date_added in that range, so date_added values are distinct and
increase in commit order.

Writes that change what readers see follow a journal (the JOURNAL item) so a
writer that dies half way never leaves the collection inconsistent:

1. the writer puts its journal: an `undo` list (how to remove everything it is
   about to write before its commit) and a `redo` list (the writes it makes
   after its commit);
2. phase 1: it writes version and listing items, all above the watermark and
   therefore invisible;
3. commit: one conditional UpdateItem (owner = me) moves the watermark to the
   end of its range, adds to `versions` and sets `committed` = me: phase 1
   becomes visible at once;
4. phase 2: the redo list (listing entries superseded by a new first or last
   version are deleted only now, so an object never drops out of the `last`
   view; deletions of objects happen entirely here);
5. release: one conditional UpdateItem frees the lease and sets `done` = me.

A writer that finds the lease held waits; one that finds it expired steals it
(the same compare-and-swap) and, if the journal is not `done`, repairs it
first: redo if its writer had committed, undo otherwise. Both are idempotent,
so a repairer that dies is repaired in turn.

Timing assumption (the only one): a lease lasts LEASE_SECONDS; its holder
renews it while writing and stops issuing requests WRITE_WINDOW after its last
successful renewal, and open_aws configures the DynamoDB client (connect and
read timeouts, retry cap) so that no request issued inside the window can land
after the lease expires. Clocks of writers may differ by less than the
remaining margin (tens of seconds; Lambda hosts are NTP-synced to
milliseconds).
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from botocore.exceptions import ClientError

from steppe.errors import SteppeError
from steppe.stix.timestamps import now_micros
from steppe.store.aws import table_keys as keys
from steppe.store.aws.table import Item, Key, Table, b, get_n, get_s, is_condition_failure, n, s

LEASE_SECONDS = 60.0
MAX_JOURNAL_BYTES = 300_000  # compressed; an item holds at most 400 KB

logger = logging.getLogger(__name__)

_NAMES = {
    "#wm": "watermark",
    "#reserved": "reserved",
    "#owner": "owner",
    "#until": "until",
    "#versions": "versions",
    "#newest": "newest",
    "#committed": "committed",
    "#done": "done",
}


class LeaseLost(RuntimeError):
    """This writer no longer holds its collection's lease; it stopped writing."""


class CollectionBusy(SteppeError):
    status = 503
    title = "Collection busy"


@dataclass(frozen=True, slots=True)
class CollectionState:
    watermark: int = 0
    reserved: int = 0
    newest: int = 0
    versions: int = 0
    owner: str | None = None
    until: int = 0
    committed: str | None = None
    done: str | None = None

    @classmethod
    def from_item(cls, item: Item) -> CollectionState:
        return cls(
            watermark=get_n(item, "watermark", 0) or 0,
            reserved=get_n(item, "reserved", 0) or 0,
            newest=get_n(item, "newest", 0) or 0,
            versions=get_n(item, "versions", 0) or 0,
            owner=get_s(item, "owner"),
            until=get_n(item, "until", 0) or 0,
            committed=get_s(item, "committed"),
            done=get_s(item, "done"),
        )


@dataclass(slots=True)
class Ops:
    """Writes to make as a group: DynamoDB puts and deletes, S3 keys to delete."""

    puts: list[Item] = field(default_factory=list)
    deletes: list[Key] = field(default_factory=list)
    blob_deletes: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.puts or self.deletes or self.blob_deletes)

    def to_json(self) -> dict[str, Any]:
        return {"puts": self.puts, "deletes": self.deletes, "blobs": self.blob_deletes}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Ops:
        return cls(
            puts=data["puts"],
            deletes=[tuple(k) for k in data["deletes"]],  # type: ignore[misc]
            blob_deletes=data["blobs"],
        )


@dataclass(slots=True)
class Lease:
    token: str
    collection_id: str
    base: int  # the first date_added this writer may assign
    end: int  # the last one it reserved
    state: CollectionState  # the state it replaced
    renewed_at: float  # monotonic time just before the last successful acquire/renewal
    journal: bytes | None = None
    committed: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


def encode_journal(undo: Ops, redo: Ops) -> bytes:
    data = json.dumps({"undo": undo.to_json(), "redo": redo.to_json()}, separators=(",", ":"))
    return zlib.compress(data.encode("utf-8"), 6)


def decode_journal(blob: bytes) -> tuple[Ops, Ops]:
    data = json.loads(zlib.decompress(blob))
    return Ops.from_json(data["undo"]), Ops.from_json(data["redo"])


class Leases:
    """Takes, renews, commits and releases collection leases on one table."""

    def __init__(
        self,
        table: Table,
        delete_blobs: Callable[[list[str]], None],
        lease_seconds: float = LEASE_SECONDS,
        max_wait_seconds: float | None = None,
    ) -> None:
        self._table = table
        self._delete_blobs = delete_blobs
        self.lease_seconds = lease_seconds
        self.write_window = lease_seconds / 3
        self.max_wait_seconds = (
            lease_seconds * 1.5 if max_wait_seconds is None else max_wait_seconds
        )
        self._known: dict[str, CollectionState] = {}

    # -- reading ---------------------------------------------------------------

    def read_state(self, collection_id: str) -> CollectionState | None:
        item = self._table.get(keys.collection(collection_id), keys.STATE)
        return None if item is None else CollectionState.from_item(item)

    # -- acquiring -------------------------------------------------------------

    def acquire(self, collection_id: str, reserve: int) -> Lease:
        """Take the collection's lease and reserve `reserve` date_added values."""
        expected = self._known.get(collection_id)
        started = time.monotonic()
        attempt = 0
        while True:
            now = now_micros()
            if expected is not None and expected.owner is not None and expected.until >= now:
                if time.monotonic() - started > self.max_wait_seconds:
                    raise CollectionBusy(
                        f"collection '{collection_id}' is being written by another request; "
                        "try again shortly"
                    )
                # Leases are held for a batch (well under a second, typically).
                time.sleep(random.uniform(0.005, min(0.25, 0.01 * 2**attempt)))
                attempt += 1
                expected = self.read_state(collection_id)
                continue
            lease = self._try_acquire(collection_id, expected, reserve, now)
            if isinstance(lease, Lease):
                break
            expected = lease
        if lease.state.owner is not None:
            logger.warning(
                "took over the expired lease of collection %s from writer %s",
                collection_id,
                lease.state.owner,
            )
            self._recover(lease)
        return lease

    def _try_acquire(
        self, collection_id: str, expected: CollectionState | None, reserve: int, now: int
    ) -> Lease | CollectionState | None:
        """The compare-and-swap; on failure, the state found instead (None: no state item)."""
        token = uuid.uuid4().hex
        prior = expected or CollectionState()
        base = max(now, prior.reserved + 1)
        end = base + reserve - 1 if reserve > 0 else prior.reserved
        values: dict[str, Any] = {
            ":me": s(token),
            ":until": n(now + int(self.lease_seconds * 1_000_000)),
            ":end": n(end),
            ":zero": n(0),
        }
        if expected is None:
            condition = "attribute_not_exists(pk)"
        elif expected.owner is None:
            condition = "attribute_not_exists(#owner) AND #reserved = :old_reserved"
            values[":old_reserved"] = n(expected.reserved)
        else:
            # Held but expired: steal it only as it was read (a renewal changes `until`, a
            # late commit `committed`), since the repair depends on what was read.
            condition = (
                "#owner = :old_owner AND #until = :old_until AND #reserved = :old_reserved AND "
                + _equal_or_absent("#committed", ":old_committed", expected.committed, values)
                + " AND "
                + _equal_or_absent("#done", ":old_done", expected.done, values)
            )
            values[":old_reserved"] = n(expected.reserved)
            values[":old_owner"] = s(expected.owner)
            values[":old_until"] = n(expected.until)
        sent = time.monotonic()
        try:
            self._table.client.update_item(
                TableName=self._table.name,
                Key=_state_key(collection_id),
                UpdateExpression=(
                    "SET #owner = :me, #until = :until, #reserved = :end, "
                    "#wm = if_not_exists(#wm, :zero), #versions = if_not_exists(#versions, :zero), "
                    "#newest = if_not_exists(#newest, :zero)"
                ),
                ConditionExpression=condition,
                ExpressionAttributeNames=_names(
                    condition, "#owner", "#until", "#reserved", "#wm", "#versions", "#newest"
                ),
                ExpressionAttributeValues=values,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            item = exc.response.get("Item")
            return None if item is None else CollectionState.from_item(item)
        return Lease(token, collection_id, base, end, prior, renewed_at=sent)

    # -- while writing ---------------------------------------------------------

    def check(self, lease: Lease) -> None:
        """Before each write: renew the lease when due; refuse once the window is over."""
        with lease.lock:
            elapsed = time.monotonic() - lease.renewed_at
            if elapsed > self.write_window:
                raise LeaseLost(
                    f"the write to collection '{lease.collection_id}' took longer than its "
                    "lease allows; it stopped, and the next writer will undo it"
                )
            if elapsed > self.write_window / 2:
                self._renew(lease)

    def _renew(self, lease: Lease) -> None:
        sent = time.monotonic()
        self._update(
            lease,
            "SET #until = :until",
            {":until": n(now_micros() + int(self.lease_seconds * 1_000_000))},
        )
        lease.renewed_at = sent

    def write_journal(self, lease: Lease, journal: bytes) -> None:
        self.check(lease)
        self._table.put(
            {
                **keys_item(keys.collection(lease.collection_id), keys.JOURNAL),
                "owner": s(lease.token),
                "ops": b(journal),
            }
        )
        lease.journal = journal

    def apply(self, lease: Lease, ops: Ops) -> None:
        """Write a group of operations under the lease."""
        self._table.batch_write(ops.puts, ops.deletes, before_each=lambda: self.check(lease))
        if ops.blob_deletes:
            self.check(lease)
            self._delete_blobs(ops.blob_deletes)

    def commit(self, lease: Lease, *, delta: int, newest: int | None, release: bool) -> None:
        """Make phase 1 visible: advance the watermark, count the versions; maybe release too."""
        values: dict[str, Any] = {":end": n(lease.end), ":delta": n(delta)}
        update = "SET #wm = :end, #committed = :me, #versions = #versions + :delta"
        if newest is not None:
            update += ", #newest = :newest"
            values[":newest"] = n(newest)
        if release:
            update += ", #done = :me REMOVE #owner, #until"
        self._update(lease, update, values)
        lease.committed = True
        if release:
            self._released(lease)

    def release(self, lease: Lease) -> None:
        update = "SET #wm = :end"
        if lease.journal is not None:
            update += ", #done = :me"
        self._update(lease, update + " REMOVE #owner, #until", {":end": n(lease.end)})
        self._released(lease)

    def abandon(self, lease: Lease) -> None:
        """After a failure: put things back (undo, or finish the redo) and release, if still safe.

        Never raises; when it cannot finish, the lease expires and the next
        writer repairs the collection from the journal.
        """
        try:
            self.check(lease)
            if lease.journal is not None:
                undo, redo = decode_journal(lease.journal)
                self.apply(lease, redo if lease.committed else undo)
            self.release(lease)
        except Exception:
            logger.exception(
                "could not clean up after a failed write to collection %s; "
                "the next writer will repair it once the lease expires",
                lease.collection_id,
            )

    # -- internals -------------------------------------------------------------

    def _released(self, lease: Lease) -> None:
        self._known[lease.collection_id] = replace(
            lease.state, owner=None, reserved=lease.end, watermark=lease.end
        )

    def _update(self, lease: Lease, update: str, values: dict[str, Any]) -> None:
        condition = "#owner = :me"
        try:
            self._table.client.update_item(
                TableName=self._table.name,
                Key=_state_key(lease.collection_id),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames=_names(update, condition),
                ExpressionAttributeValues={":me": s(lease.token), **values},
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                self._known.pop(lease.collection_id, None)
                raise LeaseLost(
                    f"another writer took over collection '{lease.collection_id}'"
                ) from None
            raise

    def _recover(self, lease: Lease) -> None:
        """Repair what the previous, dead holder left: redo if it committed, else undo."""
        stale = lease.state
        item = self._table.get(keys.collection(lease.collection_id), keys.JOURNAL)
        if item is None:
            return
        owner = get_s(item, "owner")
        if owner is None or owner == stale.done:
            return
        undo, redo = decode_journal(item["ops"]["B"])
        self.apply(lease, redo if stale.committed == owner else undo)
        self._update(lease, "SET #done = :owner", {":owner": s(owner)})
        lease.state = replace(stale, done=owner)


def _equal_or_absent(name: str, placeholder: str, value: str | None, values: dict) -> str:
    if value is None:
        return f"attribute_not_exists({name})"
    values[placeholder] = s(value)
    return f"{name} = {placeholder}"


def keys_item(pk: str, sk: str) -> Item:
    return {"pk": s(pk), "sk": s(sk)}


def _state_key(collection_id: str) -> Item:
    return keys_item(keys.collection(collection_id), keys.STATE)


def _names(*expressions: str) -> dict[str, str]:
    """ExpressionAttributeNames for the #names the expressions use (DynamoDB rejects extras)."""
    text = " ".join(expressions)
    return {name: value for name, value in _NAMES.items() if name in text}
