"""Identity claims: which partner a STIX identity used as created_by_ref belongs to."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable


class IdentityClaims(ABC):
    """The owner of each STIX identity a partner has produced objects with.

    The first partner that posts an object created by an identity owns that
    identity for good; nobody else may then post objects created by it, nor
    versions of its objects (steppe.store.write_path). The owner is an opaque
    string the caller gives (a stable partner id).
    """

    @abstractmethod
    def claim_identity(self, identity_id: str, owner_id: str) -> str:
        """Claim the identity for owner_id unless it is claimed already; returns its owner.

        Put-if-absent: of concurrent first claims exactly one wins, and every
        caller gets the winner back.
        """

    @abstractmethod
    def identity_owners(self, identity_ids: Iterable[str]) -> dict[str, str]:
        """The owner of each of those identities that is claimed (unclaimed ones are absent)."""
