"""Access: partners and their credentials."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal
from uuid import NAMESPACE_URL, uuid5

Role = Literal["admin", "analyst", "partner"]


@dataclass(frozen=True, slots=True)
class Partner:
    """Someone who holds credentials: an admin, an analyst or a partner CERT/SIEM.

    id: a UUIDv4 given once, when the partner is created, and never again: what
      ownership (submissions, TAXII statuses, idempotency records, the audit
      trail) is keyed by. A name can be deleted and created again; the new
      partner gets a new id and reaches nothing of the old one.
    tlp_clearance: the highest TLP rank the partner may receive.
    can_read / can_write: collection ids.
    """

    name: str
    role: Role
    tlp_clearance: int = 2
    can_read: frozenset[str] = frozenset()
    can_write: frozenset[str] = frozenset()
    created: int = 0
    identity_id: str | None = None  # the STIX identity steppe uses as this producer
    id: str = ""  # adapters fill it (legacy_partner_id) for records stored without one


def legacy_partner_id(name: str) -> str:
    """The id of a partner stored before partners had ids: stable while its record lives.

    New partners get a UUIDv4, never this (a version-5 UUID), so a name that
    is deleted and created again never gets the id of its legacy holder.
    """
    return str(uuid5(NAMESPACE_URL, f"steppe:partner:{name}"))


class AccessStore(ABC):
    @abstractmethod
    def put_partner(self, partner: Partner) -> None:
        """Create or replace a partner record (credentials are kept apart)."""

    @abstractmethod
    def get_partner(self, name: str) -> Partner | None: ...

    @abstractmethod
    def list_partners(self) -> list[Partner]:
        """All partners, ordered by name."""

    @abstractmethod
    def delete_partner(self, name: str) -> None:
        """Remove a partner and every credential it holds (no-op if absent)."""

    @abstractmethod
    def add_credential(self, key_hash: str, partner_name: str, created: int) -> None:
        """Record a credential by the hash of its key (keys are never stored in clear).

        Adding a hash the partner already holds is a no-op; Conflict if another
        partner holds it.
        """

    @abstractmethod
    def find_credential(self, key_hash: str) -> str | None:
        """The partner name holding the credential with this key hash, if any."""

    @abstractmethod
    def remove_credentials(self, partner_name: str, keep: Iterable[str] = ()) -> int:
        """Revoke the partner's credentials except the hashes in `keep`; returns how many."""
