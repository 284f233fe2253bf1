"""Link evidence: how strongly two campaigns are related, and where it may be shown.

Evidence is kept per scope (steppe.store.port.EvidenceScope): the collections
of the two occurrences behind it and a TLP level, cumulatively, so that the
set of (collections, t) holds what a reader of those collections cleared for
t may be shown.
"""

from __future__ import annotations

from collections.abc import Iterable

from steppe.stix import tlp as tlp_levels
from steppe.store.port import EvidenceScope, Strength

HIGHEST = max(tlp_levels.BY_RANK)

# Confidence (STIX 0-100) by strength: a floor, and how far overlap can lift it.
_CONFIDENCE = {
    "exact": (50, 45),
    "sample": (50, 45),
    "family": (25, 15),
    "network": (15, 15),
    "asn": (5, 10),
}
# What kind of evidence each strength is, strongest first: the order links are listed in.
EVIDENCE: dict[Strength, str] = {
    "exact": "strong",  # the same indicator value
    "sample": "strong",  # the same malware or tool sample (file hash)
    "family": "medium",  # the same malware or tool family
    "network": "weak",  # addresses in the same /24 (/48)
    "asn": "weak",  # addresses in the same autonomous system
}
ORDER = {strength: rank for rank, strength in enumerate(EVIDENCE)}


def confidence(strength: Strength, shared: int) -> int:
    """Grows with the number of shared values, never past its strength's ceiling.

    exact and sample: 1 value 61, 3 values 72, 10 values 85, 30 values 91
    (ceiling 95); family: 29 .. 40; network: 19 .. 30; asn: 8 .. 15. Medium
    and weak evidence never reach a strong match.
    """
    floor, span = _CONFIDENCE[strength]
    return floor + round(span * (1 - 1 / (1 + shared / 3)))


def collections_of(*collection_ids: str) -> tuple[str, ...]:
    return tuple(sorted(set(collection_ids)))


def cumulative(collection_ids: tuple[str, ...], tlp: int) -> list[EvidenceScope]:
    """The sets evidence seen at `tlp` belongs to: its own level and every stricter one."""
    return [EvidenceScope(collection_ids, level) for level in range(tlp, HIGHEST + 1)]


def every_level(collection_ids: Iterable[tuple[str, ...]]) -> list[EvidenceScope]:
    return [
        EvidenceScope(ids, level)
        for ids in dict.fromkeys(collection_ids)
        for level in range(HIGHEST + 1)
    ]
