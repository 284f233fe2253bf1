"""Push destinations: where steppe sends new, changed and revoked indicators.

The record (which collections, up to which TLP, which STIX types, the
kind's settings and its secret) and, per destination and collection, the
delivery cursor: the date_added position of the last version delivered.
Delivering is another service's (steppe.lifecycle.push_delivery).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Destination:
    """One push destination.

    id: a UUIDv4; never reused.
    name: unique among destinations; what administrators call it.
    kind: one of steppe.access.push_destinations.KINDS ("sentinel", "webhook").
    collections: collection ids it receives from.
    tlp_clearance: the highest TLP rank it receives (steppe.stix.tlp).
    types: the STIX object types it receives.
    settings: the kind's non-secret settings (a webhook's url; Sentinel's
      tenant_id, client_id, workspace_id and optional endpoint overrides).
    secret: what the sender needs and the store keeps as it is (a webhook's
      HMAC key, Sentinel's client secret); never shown after it is set.
    created: µs since the epoch.
    """

    id: str
    name: str
    kind: str
    collections: frozenset[str]
    tlp_clearance: int
    types: frozenset[str]
    settings: Mapping[str, str] = field(default_factory=dict)
    secret: str = ""
    created: int = 0


class DestinationStore(ABC):
    @abstractmethod
    def create_destination(self, destination: Destination) -> None:
        """Store a new destination; Conflict (where "name") if one has its name, atomically."""

    @abstractmethod
    def get_destination(self, destination_id: str) -> Destination | None: ...

    @abstractmethod
    def get_destination_by_name(self, name: str) -> Destination | None: ...

    @abstractmethod
    def list_destinations(self) -> list[Destination]:
        """All destinations, ordered by name."""

    @abstractmethod
    def set_destination_secret(self, destination_id: str, secret: str) -> Destination | None:
        """Replace the secret; the updated destination, or None if there is no such one."""

    @abstractmethod
    def delete_destination(self, destination_id: str) -> Destination | None:
        """Remove the destination and its cursors; what was removed, or None."""

    @abstractmethod
    def push_cursor(self, destination_id: str, collection_id: str) -> int | None:
        """The date_added position already delivered from the collection; None before any."""

    @abstractmethod
    def set_push_cursor(self, destination_id: str, collection_id: str, position: int) -> None:
        """Record that everything up to `position` (inclusive) was delivered."""
