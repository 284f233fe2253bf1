"""Which links between campaigns a reader may be shown, and what they add up to: one rule.

The campaign view's `related` (steppe.correlate.lookup) and the campaign graph
(steppe.correlate.graph) both ask `visible_relations`, so the two can never
show different evidence to the same reader.

Evidence sets are cumulative by TLP level (steppe.correlate.evidence), so per
pair, strength and collections the set of the highest level the reader is
cleared for holds all it may see; sets of different collections are joined.
A link whose collections the reader may not all read, or whose level is above
its clearance, is not used at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from steppe.access.visibility import Reader, may_see_all
from steppe.correlate.evidence import confidence
from steppe.store.port import CampaignLink, Strength


@dataclass(frozen=True, slots=True)
class Relation:
    """What a reader may be shown of one campaign's link to another at one strength."""

    other_id: str
    strength: Strength
    count: int  # how many keys they share (a lower bound when samples were cut)
    sample: tuple[str, ...]  # shared keys, in key order
    confidence: int
    relationship_id: str | None  # a STIX relationship behind it the reader may read
    modified: int


def visible_relations(reader: Reader, links: Iterable[CampaignLink]) -> list[Relation]:
    """The relations the reader may see among one campaign's links, by (other, strength).

    Whether the other campaign itself may be shown is the caller's to check
    (steppe.access.visibility.visible_campaign).
    """
    best: dict[tuple[str, str, tuple[str, ...]], CampaignLink] = {}
    for link in links:
        if not may_see_all(reader, link.collection_ids, link.tlp):
            continue
        slot = (link.other_id, link.strength, link.collection_ids)
        if slot not in best or link.tlp > best[slot].tlp:
            best[slot] = link
    grouped: dict[tuple[str, Strength], list[CampaignLink]] = {}
    for (other_id, _, _), link in sorted(best.items()):
        grouped.setdefault((other_id, link.strength), []).append(link)
    relations = []
    for (other_id, strength), chosen in grouped.items():
        count, sample = _joined(chosen)
        rel_ids = [link.relationship_id for link in chosen if link.relationship_id]
        relations.append(
            Relation(
                other_id=other_id,
                strength=strength,
                count=count,
                sample=tuple(sample),
                confidence=confidence(strength, count),
                relationship_id=rel_ids[0] if rel_ids else None,
                modified=max(link.modified for link in chosen),
            )
        )
    return relations


def _joined(links: list[CampaignLink]) -> tuple[int, list[str]]:
    """How many keys the links share in all, and a sample, in key order.

    Exact when one set is visible or every sample holds its whole set;
    otherwise the count is the largest of the sets (a lower bound).
    """
    if len(links) == 1:
        return links[0].count, list(links[0].sample)
    union = sorted({key for link in links for key in link.sample})
    if all(link.count == len(link.sample) for link in links):
        return len(union), union
    return max(len(union), *(link.count for link in links)), union
