"""The object half of the DynamoDB store: versions in, filtered pages out.

Items (keys.py has the exact keys):

* a VERSION item per (object, version) in the object's own partition, sorted
  by version: its metadata and its body (bodies above SPILL_BYTES live in S3
  and the item names their key);
* a HEAD item per object in the same partition: the first and last version
  and their date_added, which is all a writer needs to classify a new version;
* LISTING items, sort key = date_added, in one partition per (collection,
  view) and per (collection, view, type), for the views `all` (every
  version), `last` and `first` (one entry per object). A listing item carries
  the version's metadata and size (and its lifecycle: valid_until, revoked),
  so pages are selected, filtered and cut to `max_bytes` from the listing
  alone; bodies are then read with BatchGetItem. No GSI: GSIs are eventually
  consistent, listings are not.

The paging guarantee. Writers take turns on a collection under a lease
(lease.py) that hands out date_added values from a reserved range, so they
are distinct and increase in commit order. Everything a writer adds lies
above the collection's watermark until its commit moves the watermark past it
in one conditional write. Readers read the watermark first (a strongly
consistent GetItem) and then query only `date_added in (after, watermark]`
with ConsistentRead. Every version at or below the watermark is therefore
completely written when a reader can first see it, and any version committed
later has a date_added above the watermark the reader used, hence above every
date_added that reader has seen: paging with added_after = the last
date_added received never misses a version, whatever writers do meanwhile.
A writer that dies leaves its items above the watermark; the next writer
undoes them from the journal before it writes (or finishes them, if the dead
writer had committed).

Cost per page, whatever the collection's size: one GetItem (the watermark),
one Query per listing partition read (a page reads limit + 1 entries; a
filter that skips entries reads more, in calls of growing size, up to a
fixed budget), and one BatchGetItem per 100 records with bodies. match[id]
reads the named objects' own partitions instead of a listing.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from steppe.stix.validity import is_active
from steppe.store.aws import table_keys as keys
from steppe.store.aws.lease import MAX_JOURNAL_BYTES, Leases, Ops, encode_journal
from steppe.store.aws.table import Item, Table, b, boolean, get_n, n, s
from steppe.store.port.objects import (
    ALL_VERSIONS,
    JoinedBodies,
    ObjectPage,
    ObjectQuery,
    ObjectStore,
    ObjectVersion,
    PutOutcome,
    StoredObject,
    VersionFilter,
)

SPILL_BYTES = 300_000  # bodies above this go to S3; items stay well under DynamoDB's 400 KB
BATCH_VERSIONS = 500  # versions written under one lease (and one journal)
MAX_TYPE_PARTITIONS = 16  # more types than this: read the untyped listing and filter
QUERIES_PER_PARTITION = 8  # the read budget of one page, per listing partition
_FIRST_READ_MIN = 16
_READ_GROWTH = 4
_READ_MAX = 10_000

HEADS_FROM = 2  # match[id] with more ids than this reads HEADs in batches, not one Query each
_META = "o, t, v, s, l, d, z, u, e, r"
_BODY = "b, x"


@dataclass(frozen=True, slots=True)
class _Meta:
    """What a listing entry says about one version."""

    id: str
    type: str
    version: int
    spec_version: str
    tlp: int
    size: int
    date_added: int
    # The lifecycle (steppe.stix.validity); items written before it existed
    # have neither attribute: never expiring, not revoked.
    valid_until: int | None = None
    revoked: bool = False

    @classmethod
    def from_version_item(cls, item: Item) -> _Meta:
        return cls(
            id=item["o"]["S"],
            type=item["t"]["S"],
            version=int(item["v"]["N"]),
            spec_version=item["s"]["S"],
            tlp=int(item["l"]["N"]),
            size=int(item["z"]["N"]),
            date_added=int(item["d"]["N"]),
            valid_until=get_n(item, "e"),
            revoked="r" in item,
        )

    @classmethod
    def from_listing_item(cls, item: Item) -> _Meta:
        return cls(
            id=item["o"]["S"],
            type=item["t"]["S"],
            version=int(item["v"]["N"]),
            spec_version=item["s"]["S"],
            tlp=int(item["l"]["N"]),
            size=int(item["z"]["N"]),
            date_added=keys.unpad(item["sk"]["S"]),
            valid_until=get_n(item, "e"),
            revoked="r" in item,
        )

    def lifecycle(self) -> Item:
        """The lifecycle attributes of this version's items: e (valid_until), r (revoked).

        Absent when they say nothing, so that the items of the common case stay as small.
        """
        attributes: Item = {}
        if self.valid_until is not None:
            attributes["e"] = n(self.valid_until)
        if self.revoked:
            attributes["r"] = boolean(True)
        return attributes

    def listing_items(self, collection_id: str, view: str, shard: int) -> list[Item]:
        attributes = {
            "o": s(self.id),
            "t": s(self.type),
            "v": n(self.version),
            "s": s(self.spec_version),
            "l": n(self.tlp),
            "z": n(self.size),
            **self.lifecycle(),
        }
        return [
            {"pk": s(pk), "sk": s(sk), **attributes}
            for pk, sk in keys.listing_keys(collection_id, view, self.type, self.date_added, shard)
        ]

    def stored(self, body: bytes | None) -> StoredObject:
        return StoredObject(
            self.id, self.type, self.version, self.spec_version, self.tlp, self.date_added, body
        )


@dataclass(frozen=True, slots=True)
class _Head:
    """An object's first and last version and their date_added."""

    type: str
    first: int
    first_added: int
    last: int
    last_added: int
    unversioned: int | None  # the version (= date_added) of its unversioned copy, if any
    shard: int = 0  # its listing shard (absent on objects written before sharding: 0)

    @classmethod
    def from_item(cls, item: Item) -> _Head:
        return cls(
            type=item["t"]["S"],
            first=int(item["f"]["N"]),
            first_added=int(item["fd"]["N"]),
            last=int(item["l"]["N"]),
            last_added=int(item["ld"]["N"]),
            unversioned=get_n(item, "u"),
            shard=get_n(item, "h", 0) or 0,
        )

    def item(self, collection_id: str, object_id: str) -> Item:
        item = {
            "pk": s(keys.obj(collection_id, object_id)),
            "sk": s(keys.HEAD),
            "t": s(self.type),
            "f": n(self.first),
            "fd": n(self.first_added),
            "l": n(self.last),
            "ld": n(self.last_added),
        }
        if self.unversioned is not None:
            item["u"] = n(self.unversioned)
        if self.shard:
            item["h"] = n(self.shard)
        return item


@dataclass(slots=True)
class _PutPlan:
    outcomes: list[PutOutcome]
    new_versions: int
    newest: int | None
    phase1: Ops  # invisible until the commit
    spills: list[tuple[str, bytes]]  # (S3 key, body) of bodies too large for an item
    undo: Ops
    redo: Ops  # after the commit


class DynamoObjects(ObjectStore):
    """ObjectStore methods; mixed into DynamoStore."""

    _table: Table
    _leases: Leases
    _listing_shards: int
    _heads_from: int
    _put_blob: Callable[[str, bytes], None]
    _get_blob: Callable[[str], bytes | None]

    # -- writes ------------------------------------------------------------------

    def put_objects(self, collection_id: str, objects: Sequence[ObjectVersion]) -> list[PutOutcome]:
        outcomes: list[PutOutcome] = []
        for start in range(0, len(objects), BATCH_VERSIONS):
            outcomes.extend(self._put_batch(collection_id, objects[start : start + BATCH_VERSIONS]))
        return outcomes

    def _put_batch(self, collection_id: str, batch: Sequence[ObjectVersion]) -> list[PutOutcome]:
        lease = self._leases.acquire(collection_id, reserve=len(batch))
        try:
            plan = self._plan_put(collection_id, batch, lease.base)
            if not plan.new_versions:
                self._leases.release(lease)
                return plan.outcomes
            journal = encode_journal(plan.undo, plan.redo)
            if len(journal) > MAX_JOURNAL_BYTES and len(batch) > 1:
                self._leases.release(lease)
                half = len(batch) // 2
                return self._put_batch(collection_id, batch[:half]) + self._put_batch(
                    collection_id, batch[half:]
                )
            self._leases.write_journal(lease, journal)
            for blob_key, body in plan.spills:
                self._leases.check(lease)
                self._put_blob(blob_key, body)
            self._leases.apply(lease, plan.phase1)
            self._leases.commit(
                lease, delta=plan.new_versions, newest=plan.newest, release=not plan.redo
            )
            if plan.redo:
                self._leases.apply(lease, plan.redo)
                self._leases.release(lease)
        except BaseException:
            self._leases.abandon(lease)
            raise
        return plan.outcomes

    def _plan_put(self, collection_id: str, batch: Sequence[ObjectVersion], base: int) -> _PutPlan:
        table = self._table
        ids = list(dict.fromkeys(o.id for o in batch))
        head_items = table.batch_get((keys.obj(collection_id, i), keys.HEAD) for i in ids)
        heads: dict[str, _Head] = {}
        for (pk, _), item in head_items.items():
            heads[pk[len(keys.obj(collection_id, "")) :]] = _Head.from_item(item)

        # (id, version or None) -> (version, date_added) of what is stored.
        stored: dict[tuple[str, int | None], tuple[int, int]] = {}
        for oid, head in heads.items():
            stored[(oid, head.first)] = (head.first, head.first_added)
            stored[(oid, head.last)] = (head.last, head.last_added)
            if head.unversioned is not None:
                stored[(oid, None)] = (head.unversioned, head.unversioned)
        probes = {
            (o.id, o.version)
            for o in batch
            if o.version is not None
            and (head := heads.get(o.id)) is not None
            and head.first < o.version < head.last
        }
        if probes:
            found = table.batch_get(
                ((keys.obj(collection_id, oid), keys.version_sk(v)) for oid, v in probes),
                projection="d",
            )
            for oid, version in probes:
                item = found.get((keys.obj(collection_id, oid), keys.version_sk(version)))
                if item is not None:
                    stored[(oid, version)] = (version, int(item["d"]["N"]))

        outcomes: list[PutOutcome] = []
        new: dict[str, list[tuple[ObjectVersion, _Meta]]] = {}
        next_added = base
        for obj in batch:
            hit = stored.get((obj.id, obj.version))
            if hit is not None:
                outcomes.append(PutOutcome(obj.id, hit[0], hit[1], "duplicate"))
                continue
            added = next_added
            next_added += 1
            version = added if obj.version is None else obj.version
            stored[(obj.id, obj.version)] = stored[(obj.id, version)] = (version, added)
            versions = new.setdefault(obj.id, [])
            outcome = "created" if obj.id not in heads and not versions else "updated"
            meta = _Meta(
                obj.id,
                obj.type,
                version,
                obj.spec_version,
                obj.tlp,
                len(obj.body),
                added,
                obj.valid_until,
                obj.revoked,
            )
            versions.append((obj, meta))
            outcomes.append(PutOutcome(obj.id, version, added, outcome))

        phase1, undo, redo = Ops(), Ops(), Ops()
        spills: list[tuple[str, bytes]] = []
        count = 0
        for oid, versions in new.items():
            prior = heads.get(oid)
            shard = prior.shard if prior else keys.listing_shard(oid, self._listing_shards)
            for obj, meta in versions:
                item = _version_item(collection_id, obj, meta)
                phase1.puts.append(item)
                undo.deletes.append((item["pk"]["S"], item["sk"]["S"]))
                if "x" in item:
                    spills.append((item["x"]["S"], obj.body))
                    undo.blob_deletes.append(item["x"]["S"])
                phase1.puts.extend(meta.listing_items(collection_id, "all", shard))
                undo.deletes.extend(
                    keys.listing_keys(collection_id, "all", meta.type, meta.date_added, shard)
                )
                count += 1
            self._plan_ends(collection_id, oid, prior, shard, versions, phase1, undo, redo)
        return _PutPlan(
            outcomes, count, next_added - 1 if count else None, phase1, spills, undo, redo
        )

    def _plan_ends(
        self,
        collection_id: str,
        object_id: str,
        prior: _Head | None,
        shard: int,
        versions: list[tuple[ObjectVersion, _Meta]],
        phase1: Ops,
        undo: Ops,
        redo: Ops,
    ) -> None:
        """The first/last listing entries and the HEAD after adding `versions` to an object."""
        metas = [meta for _, meta in versions]
        lowest = min(metas, key=lambda m: m.version)
        highest = max(metas, key=lambda m: m.version)
        kind = metas[0].type
        first = (prior.first, prior.first_added) if prior else (lowest.version, lowest.date_added)
        last = (prior.last, prior.last_added) if prior else (highest.version, highest.date_added)
        for view, candidate, current, better in (
            ("first", lowest, first, lowest.version < first[0]),
            ("last", highest, last, highest.version > last[0]),
        ):
            if prior is None or better:
                phase1.puts.extend(candidate.listing_items(collection_id, view, shard))
                undo.deletes.extend(
                    keys.listing_keys(collection_id, view, kind, candidate.date_added, shard)
                )
                if prior is not None:
                    redo.deletes.extend(
                        keys.listing_keys(collection_id, view, prior.type, current[1], shard)
                    )
                if view == "first":
                    first = (candidate.version, candidate.date_added)
                else:
                    last = (candidate.version, candidate.date_added)
        unversioned = prior.unversioned if prior else None
        for obj, meta in versions:
            if obj.version is None:
                unversioned = meta.version
        head = _Head(kind, first[0], first[1], last[0], last[1], unversioned, shard)
        phase1.puts.append(head.item(collection_id, object_id))
        if prior is None:
            undo.deletes.append((keys.obj(collection_id, object_id), keys.HEAD))
        else:
            undo.puts.append(prior.item(collection_id, object_id))

    # -- deletes -----------------------------------------------------------------

    def delete_object(
        self,
        collection_id: str,
        object_id: str,
        versions: VersionFilter = ALL_VERSIONS,
        spec_versions: frozenset[str] | None = None,
    ) -> int:
        lease = self._leases.acquire(collection_id, reserve=0)
        try:
            # The whole partition: its HEAD (which names the listing shard) sorts before V#.
            partition = list(
                self._table.query_all(
                    keys.obj(collection_id, object_id), projection=f"pk, sk, {_META}, x, h"
                )
            )
            items = [item for item in partition if item["sk"]["S"].startswith(keys.VERSION_PREFIX)]
            shard = next(
                (get_n(item, "h", 0) or 0 for item in partition if item["sk"]["S"] == keys.HEAD), 0
            )
            metas = [_Meta.from_version_item(item) for item in items]
            doomed_items = []
            if metas:
                first = min(m.version for m in metas)
                last = max(m.version for m in metas)
                doomed_items = [
                    item
                    for item, meta in zip(items, metas, strict=True)
                    if _version_matches(versions, meta.version, first, last)
                    and (spec_versions is None or meta.spec_version in spec_versions)
                ]
            if not doomed_items:
                self._leases.release(lease)
                return 0
            redo = self._plan_delete(collection_id, object_id, shard, items, doomed_items)
            self._leases.write_journal(lease, encode_journal(Ops(), redo))
            self._leases.commit(lease, delta=-len(doomed_items), newest=None, release=False)
            self._leases.apply(lease, redo)
            self._leases.release(lease)
        except BaseException:
            self._leases.abandon(lease)
            raise
        return len(doomed_items)

    def _plan_delete(
        self, collection_id: str, object_id: str, shard: int, items: list[Item], doomed: list[Item]
    ) -> Ops:
        ops = Ops()
        doomed_keys = {(item["pk"]["S"], item["sk"]["S"]) for item in doomed}
        metas = [_Meta.from_version_item(item) for item in items]
        first = min(metas, key=lambda m: m.version)
        last = max(metas, key=lambda m: m.version)
        remaining: list[tuple[Item, _Meta]] = []
        for item, meta in zip(items, metas, strict=True):
            item_key = (item["pk"]["S"], item["sk"]["S"])
            if item_key not in doomed_keys:
                remaining.append((item, meta))
                continue
            ops.deletes.append(item_key)
            for view, applies in (("all", True), ("first", meta is first), ("last", meta is last)):
                if applies:
                    ops.deletes.extend(
                        keys.listing_keys(collection_id, view, meta.type, meta.date_added, shard)
                    )
            if "x" in item:
                ops.blob_deletes.append(item["x"]["S"])
        if not remaining:
            ops.deletes.append((keys.obj(collection_id, object_id), keys.HEAD))
            return ops
        new_first = min((m for _, m in remaining), key=lambda m: m.version)
        new_last = max((m for _, m in remaining), key=lambda m: m.version)
        if new_first is not first:
            ops.puts.extend(new_first.listing_items(collection_id, "first", shard))
        if new_last is not last:
            ops.puts.extend(new_last.listing_items(collection_id, "last", shard))
        unversioned = next((m.version for item, m in remaining if "u" in item), None)
        head = _Head(
            new_first.type,
            new_first.version,
            new_first.date_added,
            new_last.version,
            new_last.date_added,
            unversioned,
            shard,
        )
        ops.puts.append(head.item(collection_id, object_id))
        return ops

    # -- reads -------------------------------------------------------------------

    def count_objects(self, collection_id: str) -> int:
        state = self._leases.read_state(collection_id)
        return 0 if state is None else state.versions

    def list_objects(self, collection_id: str, query: ObjectQuery) -> ObjectPage:
        if query.limit < 1:
            raise ValueError("an object query's limit must be at least 1")
        state = self._leases.read_state(collection_id)
        if state is None:
            return ObjectPage.empty(query)
        threshold = _threshold(query)
        floor = -1 if threshold is None else threshold
        if floor >= state.watermark:
            return ObjectPage.empty(query)
        if query.ids is not None:
            selected, more, stalled_at = self._select_by_ids(
                collection_id, query, floor, state.watermark
            )
        else:
            selected, more, stalled_at = self._select_from_listings(
                collection_id, query, floor, state.watermark
            )
        records = self._with_bodies(collection_id, query, selected)
        newest = state.newest if state.versions else None
        if more:
            position = selected[-1][0].date_added if selected else stalled_at
        elif newest is not None and (threshold is None or newest > threshold):
            # All was examined up to the newest version: continuing from there misses nothing.
            position = newest
        else:
            position = selected[-1][0].date_added if selected else None
        if stalled_at is not None and (position is None or stalled_at > position):
            position = stalled_at
        if query.joined and query.with_body:
            joined = JoinedBodies(
                b",".join(record.body or b"" for record in records),
                len(records),
                records[0].date_added if records else None,
                records[-1].date_added if records else None,
            )
            return ObjectPage(records=[], more=more, last_position=position, joined=joined)
        return ObjectPage(records=records, more=more, last_position=position)

    def _select_by_ids(
        self, collection_id: str, query: ObjectQuery, floor: int, watermark: int
    ) -> tuple[list[tuple[_Meta, Item]], bool, int | None]:
        """match[id]: each object's own partition, then the filters in memory.

        Without match[version]=all the versions wanted are known from the HEAD
        items (first, last) and the exact ones asked for, so they are read with
        BatchGetItem (100 keys a call) instead of one Query per object (for
        more than HEADS_FROM ids: below that the Queries are fewer); an
        object whose HEAD names a version above the watermark (a writer is at
        work on it) or one that is gone falls back to its partition.
        """
        projection = None if query.with_body else _META
        ids = sorted(query.ids or ())
        if not query.versions.all and len(ids) > self._heads_from:
            candidates, ids = self._select_by_heads(collection_id, query, ids, floor, watermark)
        else:
            candidates = []
        partitions = [keys.obj(collection_id, oid) for oid in ids]

        def read(pk: str) -> list[Item]:
            return list(
                self._table.query_all(pk, prefix=keys.VERSION_PREFIX, projection=projection)
            )

        for items in self._map(read, partitions):
            metas = [
                (meta, item)
                for item in items
                if (meta := _Meta.from_version_item(item)).date_added <= watermark
            ]
            if not metas:
                continue
            first = min(m.version for m, _ in metas)
            last = max(m.version for m, _ in metas)
            for meta, item in metas:
                if (
                    meta.date_added > floor
                    and _version_matches(query.versions, meta.version, first, last)
                    and _attributes_match(query, meta, check_type=True)
                ):
                    candidates.append((meta, item))
        candidates.sort(key=lambda pair: pair[0].date_added)
        selected, more = _cut(candidates, query)
        return selected, more, None

    def _select_by_heads(
        self, collection_id: str, query: ObjectQuery, ids: list[str], floor: int, watermark: int
    ) -> tuple[list[tuple[_Meta, Item]], list[str]]:
        """The wanted versions of `ids` read through their HEADs; returns them and the ids left."""
        projection = None if query.with_body else _META
        head_items = self._table.batch_get((keys.obj(collection_id, oid), keys.HEAD) for oid in ids)
        heads: dict[str, _Head] = {}
        unsettled: list[str] = []
        for oid in ids:
            item = head_items.get((keys.obj(collection_id, oid), keys.HEAD))
            if item is None:
                continue
            head = _Head.from_item(item)
            if head.first_added > watermark or head.last_added > watermark:
                unsettled.append(oid)
            else:
                heads[oid] = head
        versions = query.versions
        wanted = {
            (oid, version)
            for oid, head in heads.items()
            for version in (
                *((head.first,) if versions.first else ()),
                *((head.last,) if versions.last else ()),
                *versions.exact,
            )
        }
        found = self._table.batch_get(
            ((keys.obj(collection_id, oid), keys.version_sk(v)) for oid, v in wanted),
            projection=projection,
        )
        candidates: list[tuple[_Meta, Item]] = []
        for oid, head in heads.items():
            items = [
                item
                for v in sorted({head.first, head.last} | versions.exact)
                if (item := found.get((keys.obj(collection_id, oid), keys.version_sk(v))))
            ]
            if not all(
                (keys.obj(collection_id, oid), keys.version_sk(v)) in found
                for v in (head.first, head.last)
                if (v == head.first and versions.first) or (v == head.last and versions.last)
            ):
                unsettled.append(oid)  # deleted since its HEAD was read: its partition knows
                continue
            for item in items:
                meta = _Meta.from_version_item(item)
                if (
                    meta.date_added <= watermark
                    and meta.date_added > floor
                    and _version_matches(versions, meta.version, head.first, head.last)
                    and _attributes_match(query, meta, check_type=True)
                ):
                    candidates.append((meta, item))
        return candidates, sorted(unsettled)

    def _select_from_listings(
        self, collection_id: str, query: ObjectQuery, floor: int, watermark: int
    ) -> tuple[list[tuple[_Meta, Item]], bool, int | None]:
        """The listing partitions the filters name, merged in date_added order."""
        per_type = query.types is not None and len(query.types) <= MAX_TYPE_PARTITIONS
        types: list[str | None] = [*sorted(query.types or ())] if per_type else [None]
        versions = query.versions
        views: list[tuple[str, frozenset[int] | None]] = []
        if versions.all:
            views.append(("all", None))
        else:
            if versions.first:
                views.append(("first", None))
            if versions.last:
                views.append(("last", None))
            if versions.exact:
                views.append(("all", versions.exact))
        between = (keys.pad(floor + 1), keys.pad(watermark))
        shards = self._listing_shards
        # Each shard holds about 1/shards of a page; a shard that holds more reads on.
        first_read = max(_FIRST_READ_MIN, 2 * (query.limit + 1) // shards + 1)
        streams = [
            _Stream(
                self._table,
                keys.listing(collection_id, view, kind, shard),
                between,
                first_read,
                exact,
            )
            for view, exact in views
            for kind in types
            for shard in range(shards)
        ]
        budget = QUERIES_PER_PARTITION * len(streams)
        check_type = not per_type

        def matches(meta: _Meta) -> bool:
            return _attributes_match(query, meta, check_type=check_type)

        return _merge(streams, budget, floor, query, matches)

    def _with_bodies(
        self, collection_id: str, query: ObjectQuery, selected: list[tuple[_Meta, Item]]
    ) -> list[StoredObject]:
        if not query.with_body:
            return [meta.stored(None) for meta, _ in selected]
        missing = [
            (keys.obj(collection_id, meta.id), keys.version_sk(meta.version))
            for meta, item in selected
            if "b" not in item and "x" not in item
        ]
        fetched = self._table.batch_get(missing, projection=_BODY) if missing else {}
        records: list[StoredObject] = []
        for meta, item in selected:
            source = item
            if "b" not in item and "x" not in item:
                source = fetched.get(
                    (keys.obj(collection_id, meta.id), keys.version_sk(meta.version))
                )
                if source is None:  # deleted since the listing was read
                    continue
            if "b" in source:
                body = source["b"]["B"]
            else:
                body = self._get_blob(source["x"]["S"])
                if body is None:
                    continue
            records.append(meta.stored(body))
        return records

    def _map(self, function: Callable[[Any], Any], values: list[Any]) -> list[Any]:
        return list(self._table.map(function, values)) if values else []


# -- helpers -------------------------------------------------------------------


class _Stream:
    """One listing partition, read lazily in growing Query calls."""

    def __init__(
        self,
        table: Table,
        pk: str,
        between: tuple[str, str],
        first_read: int,
        exact: frozenset[int] | None,
    ) -> None:
        self._table = table
        self._pk = pk
        self._between = between
        self._limit = first_read
        self._start: Item | None = None
        self.exact = exact
        self.buffer: deque[Item] = deque()
        self.done = False
        self.frontier: int | None = None  # everything up to here has been read

    def fetch(self) -> None:
        items, self._start = self._table.query_page(
            self._pk, between=self._between, start=self._start, limit=self._limit
        )
        self._limit = min(self._limit * _READ_GROWTH, _READ_MAX)
        self.buffer.extend(items)
        if self._start is None:
            self.done = True
        else:
            self.frontier = keys.unpad(self._start["sk"]["S"])

    def accepts(self, item: Item) -> bool:
        return self.exact is None or int(item["v"]["N"]) in self.exact

    def covered(self, floor: int) -> float:
        """Up to where every entry of this stream has been consumed."""
        if self.buffer:
            return keys.unpad(self.buffer[0]["sk"]["S"]) - 1
        if self.done:
            return float("inf")
        return floor if self.frontier is None else self.frontier


def _merge(
    streams: list[_Stream],
    budget: int,
    floor: int,
    query: ObjectQuery,
    matches: Callable[[_Meta], bool],
) -> tuple[list[tuple[_Meta, Item]], bool, int | None]:
    """Consume the streams in date_added order until the page is full.

    Returns the page, whether more matches remain, and (when the read budget
    ran out first) the position up to which everything has been examined.
    """
    selected: list[tuple[_Meta, Item]] = []
    byte_budget = _byte_budget(query)
    size = 0
    calls = 0
    examined: int | None = None
    while True:
        for stream in streams:
            while not stream.buffer and not stream.done:
                if calls >= budget:
                    reached = max(floor, -1 if examined is None else examined)
                    reach = min(st.covered(floor) for st in streams)
                    if reach != float("inf"):
                        reached = max(reached, int(reach))
                    return selected, True, (reached if reached > floor else None)
                stream.fetch()
                calls += 1
        heads = [stream for stream in streams if stream.buffer]
        if not heads:
            return selected, False, None
        sk = min(stream.buffer[0]["sk"]["S"] for stream in heads)
        accepted = False
        item: Item | None = None
        for stream in heads:
            if stream.buffer[0]["sk"]["S"] == sk:
                item = stream.buffer.popleft()
                accepted = accepted or stream.accepts(item)
        assert item is not None
        meta = _Meta.from_listing_item(item)
        if not (accepted and matches(meta)):
            examined = meta.date_added
            continue
        if len(selected) >= query.limit or (
            byte_budget is not None and selected and size + meta.size > byte_budget
        ):
            return selected, True, None
        selected.append((meta, item))
        size += meta.size
        examined = meta.date_added


def _cut(
    candidates: list[tuple[_Meta, Item]], query: ObjectQuery
) -> tuple[list[tuple[_Meta, Item]], bool]:
    """The first `limit` candidates, stopping before the bodies exceed max_bytes."""
    selected: list[tuple[_Meta, Item]] = []
    byte_budget = _byte_budget(query)
    size = 0
    for meta, item in candidates:
        if len(selected) >= query.limit or (
            byte_budget is not None and selected and size + meta.size > byte_budget
        ):
            return selected, True
        selected.append((meta, item))
        size += meta.size
    return selected, False


def _byte_budget(query: ObjectQuery) -> int | None:
    """max_bytes bounds the bodies of a page; a page without bodies (a manifest) has none."""
    return query.max_bytes if query.with_body else None


def _threshold(query: ObjectQuery) -> int | None:
    marks = [mark for mark in (query.added_after, query.after) if mark is not None]
    return max(marks) if marks else None


def _version_matches(versions: VersionFilter, version: int, first: int, last: int) -> bool:
    return (
        versions.all
        or (versions.first and version == first)
        or (versions.last and version == last)
        or version in versions.exact
    )


def _attributes_match(query: ObjectQuery, meta: _Meta, *, check_type: bool) -> bool:
    return (
        (not check_type or query.types is None or meta.type in query.types)
        and (query.spec_versions is None or meta.spec_version in query.spec_versions)
        and (query.max_tlp is None or meta.tlp <= query.max_tlp)
        and (query.active_at is None or is_active(meta.valid_until, meta.revoked, query.active_at))
    )


def _version_item(collection_id: str, obj: ObjectVersion, meta: _Meta) -> Item:
    item: Item = {
        "pk": s(keys.obj(collection_id, obj.id)),
        "sk": s(keys.version_sk(meta.version)),
        "o": s(obj.id),
        "t": s(obj.type),
        "v": n(meta.version),
        "s": s(obj.spec_version),
        "l": n(obj.tlp),
        "d": n(meta.date_added),
        "z": n(meta.size),
        **meta.lifecycle(),
    }
    if obj.version is None:
        item["u"] = boolean(True)
    if len(obj.body) > SPILL_BYTES:
        item["x"] = s(keys.spilled_body(collection_id, obj.id, meta.version))
    else:
        item["b"] = b(obj.body)
    return item
