"""The whole storage port in one class, for the adapters and the composition root."""

from __future__ import annotations

from abc import ABC

from steppe.store.port.access import AccessStore
from steppe.store.port.audit import AuditStore
from steppe.store.port.catalog import CatalogStore
from steppe.store.port.claims import IdentityClaims
from steppe.store.port.destinations import DestinationStore
from steppe.store.port.feed_index import FeedIndex
from steppe.store.port.feeds import FeedStore
from steppe.store.port.index import ObservableIndex
from steppe.store.port.objects import ObjectStore
from steppe.store.port.recovery import RecoveryStore
from steppe.store.port.server_secrets import SecretStore
from steppe.store.port.sighting_tallies import SightingTallies
from steppe.store.port.statuses import StatusStore
from steppe.store.port.submissions import SubmissionStore


class Store(
    ObjectStore,
    CatalogStore,
    AccessStore,
    SubmissionStore,
    StatusStore,
    RecoveryStore,
    AuditStore,
    SecretStore,
    ObservableIndex,
    IdentityClaims,
    FeedStore,
    FeedIndex,
    DestinationStore,
    SightingTallies,
    ABC,
):
    """Everything steppe persists except blobs: one class per storage engine.

    A convenience for the adapters (each engine implements every port in one
    object) and the composition root (which hands that object to services).
    Services never take a Store: each takes the specific ports it uses
    (`catalog: CatalogStore`, `objects: ObjectStore`, ...), so that its
    signature says what it depends on.
    """

    def close(self) -> None:
        """Release connections and files."""
