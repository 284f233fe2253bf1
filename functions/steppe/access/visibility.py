"""Who may be shown a fact: decided here, once, for every view correlation feeds.

A fact (a value, a target, a date, a count, a related campaign, a reason)
rests on occurrences: objects in a collection at a TLP level. It may be shown
to a reader only if the reader may read that collection and is cleared for
that level. Readers are callers of the API (steppe.access.caller.Caller:
admins read every collection, at their clearance) and, for the objects
correlation publishes over TAXII, the least reader of a collection at a
marking (`LeastReader`): what every reader of the object may see.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from steppe.store.port import CampaignRecord, FalsePositive


class Reader(Protocol):
    @property
    def clearance(self) -> int: ...

    def may_read(self, collection_id: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class LeastReader:
    """The reader with the fewest rights among those of one collection at one TLP marking."""

    collection_id: str
    clearance: int

    def may_read(self, collection_id: str) -> bool:
        return collection_id == self.collection_id


def may_see(reader: Reader, collection_id: str, tlp_rank: int) -> bool:
    """Whether a fact whose occurrence lies in `collection_id` at `tlp_rank` may be shown."""
    return tlp_rank <= reader.clearance and reader.may_read(collection_id)


def may_see_all(reader: Reader, collection_ids: Iterable[str], tlp_rank: int) -> bool:
    """Whether a fact resting on occurrences in all of these collections may be shown."""
    ids = tuple(collection_ids)
    return bool(ids) and tlp_rank <= reader.clearance and all(map(reader.may_read, ids))


def may_see_false_positive(reader: Reader, entry: FalsePositive) -> bool:
    """A declaration is seen by readers of a collection it was made for, at its TLP.

    One made for no collection (the value was seen nowhere the analyst could
    read) is kept to those who read every collection: admins.
    """
    if entry.tlp > reader.clearance:
        return False
    if entry.collection_ids:
        return any(map(reader.may_read, entry.collection_ids))
    return getattr(reader, "role", None) == "admin"


def visible_records(reader: Reader, records: Iterable[CampaignRecord]) -> list[CampaignRecord]:
    return [r for r in records if may_see(reader, r.collection_id, r.tlp)]


def visible_campaign(reader: Reader, records: Sequence[CampaignRecord]) -> CampaignRecord | None:
    """The campaign as the reader may see it: its visible records merged, None if none is.

    Name, producer and collection are those of the latest modified visible
    record; dates span, targets join, and tlp is the strictest of them; kind is
    that record's, else the first known one (in collection and TLP order).
    """
    shown = visible_records(reader, records)
    if not shown:
        return None
    if len(shown) == 1:
        return shown[0]
    primary = max(shown, key=lambda r: (r.modified, r.collection_id, -r.tlp))
    targets: dict[str, None] = {}
    kinds: list[str] = [primary.kind] if primary.kind else []
    for record in sorted(shown, key=lambda r: (r.collection_id, r.tlp)):
        targets.update(dict.fromkeys(record.targets))
        if record.kind:
            kinds.append(record.kind)
    return replace(
        primary,
        tlp=max(r.tlp for r in shown),
        first_seen=min(r.first_seen for r in shown),
        last_seen=max(r.last_seen for r in shown),
        modified=max(r.modified for r in shown),
        values=max(r.values for r in shown),
        targets=tuple(targets),
        kind=kinds[0] if kinds else "",
    )


def visible_collections(reader: Reader, records: Iterable[CampaignRecord]) -> list[str]:
    return sorted({r.collection_id for r in visible_records(reader, records)})
