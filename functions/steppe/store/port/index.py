"""The observable index: where each value occurs in stored STIX, and the wider groups it is in.

A value key is a canonical "<STIX type>:<value>" string built by
steppe.observables.correlation_keys (e.g. "ipv4-addr:198.51.100.7",
"ipv4-addr:198.51.100.0/24", "domain-name:example.org",
"file:SHA-256:<hex>", "autonomous-system:64496"); stores treat keys as
opaque strings. Every lookup below costs the same whatever the size of the
index: SQLite reads by primary key or index, DynamoDB by Query on a
partition key (never a Scan); its cost grows only with what is found.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from steppe.store.port.campaigns import CampaignLinkStore, CampaignStore
from steppe.store.port.false_positives import FalsePositiveStore


class IndexedValue(NamedTuple):
    """One occurrence of a value in stored STIX.

    (key, collection_id, object_id, source) identifies it: indexing the same
    occurrence again changes nothing.
    object_id: the indicator carrying the value, else the value's SCO.
    campaign_id: the campaign it was reported in, if any.
    source: what brought it, "submission:<id>" or "taxii:<status id>".
    producer: the STIX identity id of who reported it.
    tlp: the TLP rank of the object carrying it.
    first_seen / last_seen: when the producer saw it (epoch µs).
    """

    key: str
    collection_id: str
    object_id: str
    campaign_id: str | None
    source: str
    producer: str
    tlp: int
    first_seen: int
    last_seen: int


class GroupMember(NamedTuple):
    """A value of a campaign that belongs to a wider group: its /24, its autonomous system.

    group: "net:198.51.100.0/24" (or an IPv6 /48) or "asn:64496".
    (group, campaign_id, collection_id, tlp, key) identifies it: the same
    campaign's members in another collection or at another TLP are kept apart,
    so a reader is shown only those it may see. Indexing it again changes nothing.
    """

    group: str
    campaign_id: str
    collection_id: str  # the collection of the occurrence behind it
    tlp: int  # the strictest TLP rank of that occurrence and its campaign
    key: str  # the member value's key


@dataclass(frozen=True, slots=True)
class GroupHit:
    """One campaign's members in one group, in one collection at one TLP (at most `limit` keys)."""

    group: str
    campaign_id: str
    collection_id: str
    tlp: int
    keys: frozenset[str]
    count: int  # how many members in all


class OccurrenceIndex(ABC):
    """Occurrences of values by key and by campaign, and the network prefix lengths held."""

    @abstractmethod
    def index_values(self, values: Sequence[IndexedValue]) -> None:
        """Record occurrences (idempotent: a known occurrence is left as it is)."""

    @abstractmethod
    def find_values(
        self, keys: Sequence[str], limit_per_key: int = 1000
    ) -> dict[str, list[IndexedValue]]:
        """The occurrences of each key that has any (at most limit_per_key each).

        Keys with no occurrence are absent from the result. Order within a
        key: by first_seen, then collection, object and source.
        """

    @abstractmethod
    def campaign_values(
        self, campaign_id: str, limit: int = 1000, after: str | None = None
    ) -> list[IndexedValue]:
        """The campaign's occurrences ordered by (key, collection, object, source).

        `after` continues after the key of the last occurrence of a previous
        call (pass the last returned key): every occurrence of a key comes in
        the same call, so the limit may be exceeded by the last key's others.
        """

    @abstractmethod
    def add_cidr_prefixes(self, family: str, prefixes: Iterable[int]) -> None:
        """Remember that the index holds networks of these prefix lengths ("ipv4"/"ipv6")."""

    @abstractmethod
    def cidr_prefixes(self) -> dict[str, frozenset[int]]:
        """Every prefix length remembered, per family (absent families: none)."""


class GroupIndex(ABC):
    """The values of campaigns grouped by /24 (or /48) network and by autonomous system."""

    @abstractmethod
    def index_groups(self, members: Sequence[GroupMember]) -> None:
        """Record group members (idempotent)."""

    @abstractmethod
    def find_groups(
        self, groups: Sequence[str], limit_per_campaign: int = 50
    ) -> dict[str, list[GroupHit]]:
        """Per group that has members: one hit per (campaign, collection, TLP), in that order."""


class ObservableIndex(
    OccurrenceIndex, GroupIndex, CampaignLinkStore, CampaignStore, FalsePositiveStore, ABC
):
    """Everything correlation keeps, for the code that needs all of it (the correlation engine).

    A service that needs only part of it takes the smaller port: a false-positive
    check takes FalsePositiveStore, a campaign view CampaignStore.
    """
