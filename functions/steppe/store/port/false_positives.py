"""False positives: values analysts declared must not be published again."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FalsePositive:
    """A value an analyst declared a false positive: never published again without override.

    collection_ids and tlp: what the declaration was made for (the collections
    where the declaring analyst saw the value, the strictest TLP it saw it
    at); the reason is shown only to those who may read one of them at that TLP.
    """

    key: str
    reason: str
    analyst: str
    created: int
    collection_ids: tuple[str, ...] = ()
    tlp: int = 0


class FalsePositiveStore(ABC):
    """The false-positive entries, one per value key."""

    @abstractmethod
    def put_false_positive(self, entry: FalsePositive) -> None:
        """Create or replace the entry for entry.key (with all its fields)."""

    @abstractmethod
    def remove_false_positive(self, key: str) -> bool:
        """Forget the entry (the value may be published again); False if there was none."""

    @abstractmethod
    def find_false_positives(self, keys: Sequence[str]) -> dict[str, FalsePositive]:
        """The entries for those of `keys` that have one."""

    @abstractmethod
    def list_false_positives(self, limit: int = 1000) -> list[FalsePositive]:
        """Entries ordered by key."""
