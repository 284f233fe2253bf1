"""Planning a put_objects batch: outcomes, new rows and first/last flag changes.

Pure Python over what the collection already holds for the batch's ids, so
that the database work is a fixed handful of statements whatever the batch
size: the new rows go to SQLite as one JSON array of their columns and one
BLOB of their concatenated bodies (objects.py says why). The caller runs it
inside the write transaction, after reading the date_added clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from hashlib import blake2b

from steppe.store.port.objects import ObjectVersion, PutOutcome


def id_key(object_id: str) -> int:
    """The 63-bit integer the id index holds for an id.

    A cryptographic hash, so that nobody can craft many ids sharing one key
    and turn lookups into scans; 63 bits so that it is a positive SQLite integer.
    """
    return int.from_bytes(blake2b(object_id.encode(), digest_size=8).digest(), "big") >> 1


def id_keys(object_ids: Iterable[str]) -> dict[str, int]:
    """id_key of each distinct id (inlined: this runs once per object on bulk ingest)."""
    return {
        oid: int.from_bytes(blake2b(oid.encode(), digest_size=8).digest(), "big") >> 1
        for oid in object_ids
    }


@dataclass(frozen=True, slots=True)
class StoredRow:
    """A version the collection already holds (no body)."""

    version: int
    date_added: int
    unversioned: bool


@dataclass(slots=True)
class BatchPlan:
    outcomes: list[PutOutcome]
    # One list per new version, in the order of ROW_FIELDS; body_start is the
    # 1-based offset of its body in b"".join(bodies) (SQL substr counts from 1).
    rows: list[list]
    bodies: list[bytes]
    clear_first: list[int] = field(default_factory=list)  # date_added of rows losing is_first
    clear_last: list[int] = field(default_factory=list)  # date_added of rows losing is_last
    last_added: int = 0  # the highest date_added handed out (the new clock value)
    # Per outcome, what of it counts from the plan's first date_added: nothing (a
    # duplicate of a stored version), its date_added (a new version, or a duplicate
    # of one), or its version too (an unversioned object's version is its date_added).
    planned: list[int] = field(default_factory=list)
    # A new unversioned row for an id stored with versions: its version is its
    # date_added, which must be final to be ordered against theirs.
    needs_final_dates: bool = False

    def outcomes_from(self, offset: int) -> list[PutOutcome]:
        """The outcomes, with `offset` added to what the plan counted (0 when the plan
        counted from the final first date_added)."""
        if not offset:
            return self.outcomes
        return [
            out
            if counted == STORED_VALUES
            else PutOutcome(
                out.id,
                out.version + offset if counted == DATE_AND_VERSION else out.version,
                out.date_added + offset,
                out.outcome,
            )
            for out, counted in zip(self.outcomes, self.planned, strict=True)
        ]


STORED_VALUES, DATE_ONLY, DATE_AND_VERSION = 0, 1, 2


ROW_FIELDS = (
    "date_added",
    "id_key",
    "id",
    "version",
    "type",
    "spec_version",
    "tlp",
    "is_first",
    "is_last",
    "unversioned",
    "body_start",
    "body_length",
    "valid_until",
    "revoked",
)
_ID, _VERSION, _IS_FIRST, _IS_LAST = 2, 3, 7, 8


def plan_batch(
    objects: Sequence[ObjectVersion],
    keys: dict[str, int],
    stored: dict[str, list[StoredRow]],
    next_added: int,
) -> BatchPlan:
    """Decide what each input becomes.

    keys: id -> id_key for every id of the batch.
    stored: id -> the versions the collection holds, for the batch's ids it holds.
    next_added: the first date_added this batch may hand out; each new version
      takes the next microsecond, in input order.

    Rows are first built as if each new version were its id's only one (first
    and last); the ids that already had versions, or get several in this batch,
    are then corrected in a second pass.
    """
    # (id, version) -> (version, date_added) of what is stored or planned; an
    # unversioned object is keyed (id, None) and its version is its date_added.
    known: dict[tuple[str, int | None], tuple[int, int, int]] = {}
    for oid, versions in stored.items():
        for row in versions:
            known[(oid, row.version)] = (row.version, row.date_added, STORED_VALUES)
            if row.unversioned:
                known[(oid, None)] = (row.version, row.date_added, STORED_VALUES)

    outcomes: list[PutOutcome] = []
    planned: list[int] = []
    needs_final_dates = False
    rows: list[list] = []
    bodies: list[bytes] = []
    body_start = 1
    added_ids: set[str] = set()  # ids given a new version by this batch
    revisited: set[str] = set()  # ... of which these have other versions too
    for obj in objects:
        oid = obj.id
        key = (oid, obj.version)
        hit = known.get(key)
        if hit is not None:
            outcomes.append(PutOutcome(oid, hit[0], hit[1], "duplicate"))
            planned.append(hit[2])
            continue
        added = next_added
        next_added += 1
        unversioned = obj.version is None
        version = added if unversioned else obj.version
        counted = DATE_AND_VERSION if unversioned else DATE_ONLY
        known[key] = (version, added, counted)
        planned.append(counted)
        if oid in added_ids or oid in stored:
            revisited.add(oid)
            needs_final_dates = needs_final_dates or (unversioned and oid in stored)
            outcomes.append(PutOutcome(oid, version, added, "updated"))
        else:
            outcomes.append(PutOutcome(oid, version, added, "created"))
        added_ids.add(oid)
        body = obj.body
        size = len(body)
        rows.append(
            [
                added,
                keys[oid],
                oid,
                version,
                obj.type,
                obj.spec_version,
                obj.tlp,
                1,
                1,
                int(unversioned),
                body_start,
                size,
                obj.valid_until,
                int(obj.revoked),
            ]
        )
        bodies.append(body)
        body_start += size
    plan = BatchPlan(
        outcomes,
        rows,
        bodies,
        last_added=next_added - 1,
        planned=planned,
        needs_final_dates=needs_final_dates,
    )
    if revisited:
        _settle_ends(plan, revisited, stored)
    return plan


def _settle_ends(plan: BatchPlan, revisited: set[str], stored: dict[str, list[StoredRow]]) -> None:
    """First/last flags for ids that have several versions once the batch is in."""
    ends: dict[str, list[int]] = {}  # id -> [low, high] over stored and new versions
    for row in plan.rows:
        oid, version = row[_ID], row[_VERSION]
        if oid in revisited:
            span = ends.get(oid)
            if span is None:
                ends[oid] = [version, version]
            elif version < span[0]:
                span[0] = version
            elif version > span[1]:
                span[1] = version
    for oid in revisited:
        versions = stored.get(oid)
        if not versions:
            continue
        span = ends[oid]
        low = min(versions, key=lambda row: row.version)
        high = max(versions, key=lambda row: row.version)
        if span[0] < low.version:
            plan.clear_first.append(low.date_added)
        else:
            span[0] = low.version
        if span[1] > high.version:
            plan.clear_last.append(high.date_added)
        else:
            span[1] = high.version
    for row in plan.rows:
        span = ends.get(row[_ID])
        if span is not None:
            version = row[_VERSION]
            row[_IS_FIRST] = int(version == span[0])
            row[_IS_LAST] = int(version == span[1])
