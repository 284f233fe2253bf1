"""Feeds: what a firewall, sensor or MISP pulls, defined by an administrator.

The record only: which collections, up to which TLP, which observable types
and scores, how many entries, and the hash of the secret token in its URL.
Serving a feed (selecting and rendering its entries) is another service's.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Feed:
    """One feed definition.

    id: a UUIDv4, part of the feed's URL; never reused.
    name: unique among feeds; what administrators call it.
    format: one of steppe.access.feed_definitions.FORMATS.
    collections: collection ids it serves from.
    tlp_clearance: the highest TLP rank it serves (steppe.stix.tlp).
    types: the STIX SCO types it serves.
    token_hash: the hash of the secret token in its URL; the token is never stored.
    created: µs since the epoch.
    """

    id: str
    name: str
    format: str
    collections: frozenset[str]
    tlp_clearance: int
    types: frozenset[str]
    min_score: int
    max_entries: int
    token_hash: str
    created: int


class FeedStore(ABC):
    @abstractmethod
    def create_feed(self, feed: Feed) -> None:
        """Store a new feed; Conflict (where "name") if a feed has its name, atomically."""

    @abstractmethod
    def get_feed(self, feed_id: str) -> Feed | None: ...

    @abstractmethod
    def get_feed_by_name(self, name: str) -> Feed | None: ...

    @abstractmethod
    def list_feeds(self) -> list[Feed]:
        """All feeds, ordered by name."""

    @abstractmethod
    def set_feed_token(self, feed_id: str, token_hash: str) -> Feed | None:
        """Replace the feed's token hash; the updated feed, or None if there is no such feed."""

    @abstractmethod
    def delete_feed(self, feed_id: str) -> Feed | None:
        """Remove the feed; what was removed, or None if there was none."""
