"""False-positive sightings counted per value: when enough are reported, the value is declared.

The sightings themselves are STIX objects in their collections; this tally is
what the decision needs without reading them back: how many false-positive
sightings of a value were reported (of any indicator, by any organisation),
who reported the first of them and what they said.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import NamedTuple

# What a tally keeps of who reported and why: enough to explain a declaration.
MAX_TALLY_ORGANISATIONS = 20
MAX_TALLY_NOTES = 20


class SightingTally(NamedTuple):
    """key: the value's key (steppe.observables.correlation_keys), e.g. "ipv4-addr:198.51.100.7".

    count: false-positive sightings reported so far;
    organisations: the distinct reporters, first first (at most MAX_TALLY_ORGANISATIONS);
    notes: their notes, first first (at most MAX_TALLY_NOTES).
    """

    key: str
    count: int
    organisations: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def tallied(
    before: SightingTally | None, key: str, organisation: str, note: str | None
) -> SightingTally:
    """The tally after one more false-positive sighting (what every adapter stores)."""
    base = before or SightingTally(key, 0)
    organisations = base.organisations
    if organisation not in organisations and len(organisations) < MAX_TALLY_ORGANISATIONS:
        organisations = (*organisations, organisation)
    notes = base.notes
    if note and len(notes) < MAX_TALLY_NOTES:
        notes = (*notes, note)
    return SightingTally(key, base.count + 1, organisations, notes)


class SightingTallies(ABC):
    """One tally per value key."""

    @abstractmethod
    def count_false_positive_sighting(
        self, key: str, organisation: str, note: str | None
    ) -> SightingTally:
        """Add one false-positive sighting of the value, atomically; the tally after it."""

    @abstractmethod
    def get_sighting_tally(self, key: str) -> SightingTally | None:
        """The value's tally, or None if no false-positive sighting was reported."""
