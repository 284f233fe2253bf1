"""Campaigns as correlation keeps them, and the links between them with their evidence."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

# exact: the same indicator value; sample: the same malware/tool sample hash; family: the
# same malware/tool family; network: the same /24 (IPv4) or /48 (IPv6); asn: the same AS.
# Stores keep it as opaque text.
Strength = Literal["exact", "sample", "family", "network", "asn"]


@dataclass(frozen=True, slots=True)
class CampaignRecord:
    """A campaign as one collection holds it at one TLP level (a facet of the campaign).

    (id, collection_id, tlp) identifies a record: what a collection says of a
    campaign at one TLP is never merged with what another collection, or the
    same collection at another TLP, says of it (a reader is shown only the
    records it may see). Written by correlation each time the campaign gains
    values; a put merges into the record of the same (id, collection_id, tlp):
    first_seen takes the earliest, last_seen and modified the latest, values
    the largest, targets the union (existing first); name and producer are
    those of the put; kind that of the put unless it is "" (the stored one stays).
    """

    id: str
    name: str
    collection_id: str
    tlp: int
    producer: str
    first_seen: int
    last_seen: int
    modified: int  # when steppe last learned something about it (µs)
    values: int = 0  # how many distinct values it was reported with
    targets: tuple[str, ...] = ()  # names of the targets (identities) it is known to have hit
    # The attack kind of the report it came from ("ddos", "phishing", ...); "" when unknown.
    kind: str = ""


class EvidenceScope(NamedTuple):
    """Who may see a piece of link evidence: readers of all its collections cleared for its TLP.

    collection_ids: the collections of the two occurrences behind it, sorted
    (one when both lie in the same collection). tlp: evidence sets are kept
    cumulatively per level: the set of (collection_ids, t) holds every key
    shared through occurrences at TLP rank t or below, so one set answers a
    reader cleared for t.
    """

    collection_ids: tuple[str, ...]
    tlp: int


@dataclass(frozen=True, slots=True)
class CampaignLink:
    """What two campaigns share at one strength within one evidence scope.

    (campaign_id, other_id, strength, collection_ids, tlp) identifies it; kept
    for both directions. count and sample are those of the evidence set of
    (collection_ids, tlp) (see EvidenceScope): what a reader of those
    collections cleared for that TLP may be shown. relationship_id: the STIX
    relationship (in the one collection) that such a reader may read, "" when
    there is none.
    """

    campaign_id: str
    other_id: str
    strength: Strength
    count: int
    sample: tuple[str, ...]
    confidence: int
    relationship_id: str
    collection_ids: tuple[str, ...]
    tlp: int
    modified: int

    @property
    def scope(self) -> EvidenceScope:
        return EvidenceScope(self.collection_ids, self.tlp)


class CampaignLinkStore(ABC):
    """What two campaigns share: the evidence sets behind each link, and the links."""

    @abstractmethod
    def add_link_evidence(
        self,
        campaigns: tuple[str, str],
        strength: Strength,
        scopes: Sequence[EvidenceScope],
        keys: Iterable[str],
    ) -> None:
        """Add keys two campaigns share to the set of each scope (idempotent set union;
        the pair is unordered)."""

    @abstractmethod
    def link_evidence(
        self,
        campaigns: tuple[str, str],
        strength: Strength,
        scopes: Sequence[EvidenceScope],
        limit: int = 50,
    ) -> dict[EvidenceScope, tuple[int, list[str]]]:
        """Per scope that has evidence: how many keys its set holds, and the first `limit`
        in key order."""

    @abstractmethod
    def put_campaign_links(self, links: Sequence[CampaignLink]) -> None:
        """Create or replace links (identified as CampaignLink says)."""

    @abstractmethod
    def campaign_links(self, campaign_id: str) -> list[CampaignLink]:
        """Every link from this campaign, ordered by other_id, strength, collections, TLP."""


class CampaignStore(ABC):
    """Campaign records, one per (campaign, collection, TLP)."""

    @abstractmethod
    def put_campaign(self, campaign: CampaignRecord) -> CampaignRecord:
        """Create or merge (see CampaignRecord); returns the record as stored."""

    @abstractmethod
    def get_campaign(self, campaign_id: str) -> list[CampaignRecord]:
        """Every record of the campaign (one per collection and TLP), ordered by
        (collection, tlp); [] for a campaign steppe does not know."""

    def get_campaigns(self, campaign_ids: Iterable[str]) -> dict[str, list[CampaignRecord]]:
        """The records of those of the campaigns that exist, by id.

        For lookups that name many campaigns at once; an adapter may override
        this to read them in batches (DynamoDB BatchGetItem, SQL IN).
        """
        found: dict[str, list[CampaignRecord]] = {}
        for campaign_id in dict.fromkeys(campaign_ids):
            records = self.get_campaign(campaign_id)
            if records:
                found[campaign_id] = records
        return found

    @abstractmethod
    def list_campaigns(self, limit: int = 100, after: str | None = None) -> list[CampaignRecord]:
        """Records ordered by (id, collection, tlp), of the campaigns with an id above `after`.

        At most `limit` records, except that every record of the last campaign
        comes in the same call (the limit may be exceeded by its others).
        """
