"""The catalog: TAXII API roots and collections."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ApiRoot:
    """A TAXII API root. `id` is its path segment (e.g. "steppe")."""

    id: str
    title: str
    description: str = ""
    created: int = 0


@dataclass(frozen=True, slots=True)
class Collection:
    """A TAXII collection. `id` is a UUIDv4 string; titles are unique per API root."""

    id: str
    api_root: str
    title: str
    description: str = ""
    alias: str | None = None
    media_types: tuple[str, ...] = ("application/stix+json;version=2.1",)
    created: int = 0
    default: bool = False  # the collection analyst submissions go to unless they name one
    # The TLP rank given to objects posted without any TLP marking (their
    # producer shared them with the collection's community: GREEN by default).
    unmarked_tlp: int = 1
    # Serve only active objects (not revoked, not past valid_until), for SIEMs
    # that cannot handle expiry and revocation themselves.
    active_only: bool = False


class CatalogStore(ABC):
    @abstractmethod
    def put_api_root(self, root: ApiRoot) -> None:
        """Create or replace an API root."""

    @abstractmethod
    def get_api_root(self, root_id: str) -> ApiRoot | None: ...

    @abstractmethod
    def list_api_roots(self) -> list[ApiRoot]:
        """All API roots, ordered by id."""

    @abstractmethod
    def create_collection(self, collection: Collection) -> None:
        """Add a collection; Conflict if its id exists or its title is taken in its API root.

        The title check is atomic with the write: two concurrent creations of
        the same title leave exactly one collection.
        """

    @abstractmethod
    def update_collection(self, collection: Collection) -> None:
        """Replace an existing collection's attributes (same id and API root).

        NotFound if it does not exist; Conflict if the new title is taken or
        if it names another API root (a collection never moves).
        """

    @abstractmethod
    def get_collection(self, collection_id: str) -> Collection | None: ...

    @abstractmethod
    def find_collection_by_title(self, api_root: str, title: str) -> Collection | None:
        """Exact, case-sensitive title match within one API root."""

    @abstractmethod
    def list_collections(self, api_root: str) -> list[Collection]:
        """The API root's collections in a stable order (created, then id)."""
