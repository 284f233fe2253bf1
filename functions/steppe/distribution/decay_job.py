"""The decay job: scores fall with time, and an indicator whose score crossed its threshold expires.

Run on a schedule (hourly on AWS and in the embedded server). Three steps,
each bounded per run:

1. Expire: entries whose expiry has come. For steppe's own indicators (they
   carry the score extension) whose `valid_until` is later than the expiry, a
   new version with `valid_until` at the expiry goes through the one write
   path, so TAXII consumers drop the indicator too; the write path then
   retires the entry. Any other entry (a partner's indicator, or one whose
   own valid_until was the reason) is retired in the index only: steppe does
   not version another producer's object.
2. Rescore: every active entry gets its score at this run's instant; only the
   changed ones are written (feeds change, and their ETags with them).
3. Purge entries retired long ago (MISP has been told of the removal).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from steppe.lifecycle.revocation import revocation_stamp
from steppe.scoring.decay_score import scores_at
from steppe.stix.score_extension import read_score
from steppe.stix.timestamps import format_stix, micros_or_none, now_micros, parse_micros
from steppe.store.feed_entries import entry_curve
from steppe.store.latest import latest_versions
from steppe.store.port import ObjectStore
from steppe.store.port.feed_index import FeedIndex, FeedIndexEntry
from steppe.store.write_path import STEPPE, WritePath, candidate

PAGE = 2000
# Entries rescored per run; a larger index continues in the next run (`after`).
MAX_RESCORED = 250_000
MAX_EXPIRED = 20_000
PURGE_AFTER_US = 60 * 86_400 * 1_000_000  # twice the window MISP feeds announce removals in
MILLISECOND = 1000


@dataclass(slots=True)
class DecayOutcome:
    expired_versions: int = 0  # new indicator versions with valid_until at the expiry
    retired: int = 0  # entries retired in the index only
    rescored: int = 0
    examined: int = 0
    purged: int = 0
    after: tuple[str, str] | None = None  # where the next run continues rescoring, if not done
    errors: list[str] = field(default_factory=list)


class DecayJob:
    def __init__(self, *, index: FeedIndex, objects: ObjectStore, writes: WritePath) -> None:
        self.index = index
        self.objects = objects
        self.writes = writes

    def run(
        self,
        now: int | None = None,
        after: tuple[str, str] | None = None,
        max_rescored: int = MAX_RESCORED,
    ) -> DecayOutcome:
        now = now_micros() if now is None else now
        outcome = DecayOutcome()
        if after is None:  # a continuation only rescores
            self._expire(now, outcome)
        self._rescore(now, after, max_rescored, outcome)
        if after is None:
            outcome.purged = self.index.purge_feed_entries(now - PURGE_AFTER_US, 10_000)
        return outcome

    # -- expiry ------------------------------------------------------------------

    def _expire(self, now: int, outcome: DecayOutcome) -> None:
        handled = 0
        while handled < MAX_EXPIRED:
            due = self.index.due_feed_entries(now, min(PAGE, MAX_EXPIRED - handled))
            if not due:
                return
            handled += len(due)
            by_collection: dict[str, list[FeedIndexEntry]] = defaultdict(list)
            for entry in due:
                by_collection[entry.collection_id].append(entry)
            for collection_id, entries in by_collection.items():
                self._expire_in(collection_id, entries, now, outcome)

    def _expire_in(
        self, collection_id: str, entries: Sequence[FeedIndexEntry], now: int, outcome: DecayOutcome
    ) -> None:
        stored = latest_versions(self.objects, collection_id, [e.indicator_id for e in entries])
        versions = []
        index_only: list[FeedIndexEntry] = []
        for entry in entries:
            record = stored.get(entry.indicator_id)
            obj: dict[str, Any] | None = (
                orjson.loads(record.body) if record is not None and record.body else None
            )
            new = _expired_version(obj, entry, now) if obj is not None else None
            if new is None:
                index_only.append(entry._replace(retired_at=entry.expires_at))
            else:
                versions.append(candidate(new, record.tlp if record is not None else 0))
        if versions:
            result = self.writes.write(collection_id, versions, STEPPE)
            outcome.expired_versions += len(result.stored)
            for refused in result.refused:  # a revoked latest, for one: retire it plainly
                outcome.errors.append(f"{refused.id}: {refused.reason}")
                index_only.extend(
                    e._replace(retired_at=e.expires_at)
                    for e in entries
                    if e.indicator_id == refused.id
                )
        if index_only:
            self.index.put_feed_entries(index_only)
            outcome.retired += len(index_only)

    # -- rescoring ---------------------------------------------------------------

    def _rescore(
        self,
        now: int,
        after: tuple[str, str] | None,
        max_rescored: int,
        outcome: DecayOutcome,
    ) -> None:
        cursor = after
        while outcome.examined < max_rescored:
            page = self.index.active_feed_entries(
                cursor, min(PAGE, max_rescored - outcome.examined)
            )
            if not page:
                outcome.after = None
                return
            outcome.examined += len(page)
            cursor = (page[-1].collection_id, page[-1].indicator_id)
            groups: dict[tuple[int, float, int], list[FeedIndexEntry]] = defaultdict(list)
            for entry in page:
                groups[(entry.lifetime_us, entry.decay_speed, entry.threshold)].append(entry)
            changed = []
            for members in groups.values():
                curve = entry_curve(members[0])
                scores = scores_at(
                    [e.base for e in members], [e.last_seen for e in members], now, curve
                )
                changed.extend(
                    e._replace(score=s, scored_at=now)
                    for e, s in zip(members, scores, strict=True)
                    if s != e.score
                )
            if changed:
                self.index.put_feed_entries(changed)
                outcome.rescored += len(changed)
        outcome.after = cursor


def _expired_version(obj: dict[str, Any], entry: FeedIndexEntry, now: int) -> dict[str, Any] | None:
    """The new version that expires steppe's own indicator at the entry's expiry, or None."""
    if obj.get("revoked") is True or read_score(obj) is None:
        return None
    current_end = micros_or_none(obj.get("valid_until"))
    if current_end is not None and current_end <= entry.expires_at:
        return None  # its own valid_until ends it: TAXII consumers already drop it
    end = max(entry.expires_at, parse_micros(obj["valid_from"]) + MILLISECOND)
    new = dict(obj)
    new["valid_until"] = format_stix(end)
    new["modified"] = format_stix(revocation_stamp(parse_micros(obj["modified"]), now))
    return new
