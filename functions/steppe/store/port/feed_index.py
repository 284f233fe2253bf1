"""The feed index: every indicator that names one value, with its score, ready for feeds.

The one write path (steppe.store.write_path) keeps it: each stored version of
an indicator whose pattern names exactly one value replaces that indicator's
entry in its collection. Feeds select from it by an index (collection, type,
TLP, score), never by reading the collection's STIX, so serving a feed costs
what it returns, not what the store holds. The decay job (steppe.scoring's
curves, run on a schedule) rewrites scores as time passes and retires entries
whose score crossed their threshold.

An entry stops being active when it is retired (its indicator revoked, expired
by a new version, or its value declared a false positive) or when `expires_at`
passes; retired entries are kept for a while so that feeds that announce
removals (MISP's `deleted`) can say so.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple


class FeedIndexEntry(NamedTuple):
    """One indicator's value in one collection. Times in µs since the epoch.

    (collection_id, indicator_id) identifies it.
    key: the value's key (steppe.observables.correlation_keys), e.g. "ipv4-addr:198.51.100.7".
    score: the score as of `scored_at` (0-100): what feeds sort and filter on.
    base / last_seen / lifetime_us / decay_speed / threshold: what the score
      decays from and by (steppe.scoring.DecayCurve), for the decay job.
    expires_at: when the score crosses its threshold or valid_until passes, the sooner.
    retired_at: None while the entry may be served; otherwise when it stopped.
    detail: JSON with what feeds show beside the value (confidence, first/last
      seen, valid_until, campaign, campaign_id, source, kind, hash_algorithm);
      stores keep it verbatim.
    """

    collection_id: str
    indicator_id: str
    type: str
    value: str
    key: str
    tlp: int
    score: int
    scored_at: int
    base: int
    last_seen: int
    lifetime_us: int
    decay_speed: float
    threshold: int
    expires_at: int
    retired_at: int | None
    detail: bytes


@dataclass(frozen=True, slots=True)
class FeedSelection:
    """What a feed asks of the index.

    Entries of `collections` with a type in `types`, TLP rank at most
    `max_tlp`, and score at least `min_score`.
    """

    collections: frozenset[str]
    types: frozenset[str]
    max_tlp: int
    min_score: int = 0


class Generation(NamedTuple):
    """How often a collection's entries changed, and when they last did (µs; 0: never)."""

    counter: int
    changed_at: int


class FeedIndex(ABC):
    """Feed entries per collection; every read is by index, its cost bounded by its limit."""

    @abstractmethod
    def put_feed_entries(self, entries: Sequence[FeedIndexEntry]) -> None:
        """Create or replace the entries (by collection and indicator id) and move the
        generation of each collection they are in (one step per call)."""

    @abstractmethod
    def get_feed_entries(
        self, collection_id: str, indicator_ids: Sequence[str]
    ) -> list[FeedIndexEntry]:
        """The entries of those indicators that the collection has (any state)."""

    @abstractmethod
    def select_feed_entries(
        self, selection: FeedSelection, now: int, limit: int
    ) -> list[FeedIndexEntry]:
        """Active entries (not retired, expires_at after now), highest score first, then by
        indicator id; at most `limit`."""

    @abstractmethod
    def retired_feed_entries(
        self, selection: FeedSelection, since: int, limit: int
    ) -> list[FeedIndexEntry]:
        """Entries retired at or after `since` (score and TLP filters as for active ones,
        min_score ignored), most recently retired first; at most `limit`."""

    @abstractmethod
    def due_feed_entries(self, now: int, limit: int) -> list[FeedIndexEntry]:
        """Entries not yet retired whose expires_at is at or before now, soonest first."""

    @abstractmethod
    def active_feed_entries(
        self, after: tuple[str, str] | None, limit: int
    ) -> list[FeedIndexEntry]:
        """Entries not yet retired, ordered by (collection_id, indicator_id), after that
        pair: how the decay job walks every entry, a page at a time."""

    @abstractmethod
    def feed_generations(self, collection_ids: Sequence[str]) -> dict[str, Generation]:
        """The generation of each collection (Generation(0, 0) for one never changed)."""

    @abstractmethod
    def purge_feed_entries(self, retired_before: int, limit: int) -> int:
        """Forget up to `limit` entries retired before the instant; how many were removed."""
