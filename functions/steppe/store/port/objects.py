"""Objects: what TAXII serves, every version of every STIX object per collection.

(The records that bulk ingest and TAXII reads create by the thousand,
ObjectVersion, PutOutcome and StoredObject, are NamedTuples: immutable like
the frozen dataclasses elsewhere, at a third of the construction cost.)
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple


class ObjectVersion(NamedTuple):
    """One version of a STIX object, as a writer hands it to the store.

    `version` is the object's `modified` (else `created`) in epoch
    microseconds; None for objects with neither (most SCOs). A store keeps an
    unversioned object once: its version becomes the date_added of that first
    write, and any later write of the same id with version None is a duplicate.
    """

    id: str
    type: str
    version: int | None
    spec_version: str
    tlp: int  # TLP rank 0 (clear) .. 4 (red), see steppe.stix.tlp
    body: bytes
    # The object's lifecycle, for collections that serve only active objects
    # (ObjectQuery.active_at): its valid_until in epoch µs (indicators), and
    # whether this version is revoked. See steppe.stix.validity.
    valid_until: int | None = None
    revoked: bool = False


Outcome = Literal["created", "updated", "duplicate"]


class PutOutcome(NamedTuple):
    """What happened to one written version.

    created: the first version of this id in the collection.
    updated: a new version of an id the collection already had.
    duplicate: this exact (id, version) was already stored; nothing changed
    (date_added is then the one of the stored version).
    """

    id: str
    version: int
    date_added: int
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class VersionFilter:
    """TAXII match[version]: any union of first, last and exact versions, or all.

    The default is last. `exact` holds versions in epoch microseconds.
    """

    all: bool = False
    first: bool = False
    last: bool = False
    exact: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        if self.all and (self.first or self.last or self.exact):
            raise ValueError("'all' cannot be combined with other version filters")
        if not (self.all or self.first or self.last or self.exact):
            raise ValueError("a version filter needs at least one of all, first, last, exact")


LAST = VersionFilter(last=True)
FIRST = VersionFilter(first=True)
ALL_VERSIONS = VersionFilter(all=True)


@dataclass(frozen=True, slots=True)
class ObjectQuery:
    """A filtered, paged read of a collection, in date_added order.

    Filters combine with AND; the values inside one filter combine with OR
    (TAXII 2.1 section 3.4). `first` and `last` are judged among all stored
    versions of an object, before the other filters apply: match[type]=x with
    last returns the latest version of each object of type x.

    added_after / after: only versions with date_added strictly greater.
      `after` is a position a previous page returned (ObjectPage.last_position);
      both may be given and the later one wins.
    spec_versions: None means any.
    max_tlp: None means no TLP filter; otherwise only versions with tlp <= max_tlp.
    limit: at most this many records (>= 1).
    max_bytes: stop before the bodies of the page exceed this many bytes; the
      first matching record is always returned, so a page is never empty
      while matches remain. A page without bodies (with_body False) is
      bounded by limit alone.
    active_at: None means no lifecycle filter; otherwise versions that are
      revoked, or whose valid_until is at or before this instant, are left
      out (judged on the version chosen by `versions`: an object whose last
      version is revoked is not served at all with the default LAST).
    with_body: False for manifests (bodies are then None).
    joined: with with_body, hand the page over as ObjectPage.joined: the bodies
      joined by commas in date_added order (what a TAXII envelope embeds as it
      is), with their count and first/last date_added; records is then empty.
    """

    added_after: int | None = None
    after: int | None = None
    ids: frozenset[str] | None = None
    types: frozenset[str] | None = None
    versions: VersionFilter = LAST
    spec_versions: frozenset[str] | None = None
    max_tlp: int | None = None
    active_at: int | None = None
    limit: int = 1000
    max_bytes: int | None = None
    with_body: bool = True
    joined: bool = False


class StoredObject(NamedTuple):
    """One stored version, as a read returns it (body None when not asked for)."""

    id: str
    type: str
    version: int
    spec_version: str
    tlp: int
    date_added: int
    body: bytes | None


@dataclass(frozen=True, slots=True)
class JoinedBodies:
    """A page's bodies in one piece, for a query with joined=True."""

    bodies: bytes  # the bodies joined by commas, in date_added order
    count: int
    first_added: int | None  # date_added of the first and the last of them
    last_added: int | None


@dataclass(frozen=True, slots=True)
class ObjectPage:
    """A page of results.

    more: True when matching records remain after this page.
    last_position: the position to pass as ObjectQuery.after to continue; it
      may lie beyond the last returned record (rows skipped by a filter), and
      is None only when nothing at all was examined.
    """

    records: list[StoredObject]
    more: bool
    last_position: int | None
    joined: JoinedBodies | None = None  # the page in one piece, when the query asked for it

    @classmethod
    def empty(cls, query: ObjectQuery, last_position: int | None = None) -> ObjectPage:
        """A page with nothing in it, shaped as the query asked (joined or not)."""
        joined = JoinedBodies(b"", 0, None, None) if query.joined and query.with_body else None
        return cls([], False, last_position, joined)


class ObjectStore(ABC):
    """STIX objects per collection, with all their versions.

    Invariants every adapter keeps (the TAXII paging guarantee rests on them):

    * date_added is set by the store, never by the caller, with microsecond
      precision; within a collection every stored version has a distinct
      date_added, and date_added increases in commit order.
    * A reader never sees a version whose date_added is lower than one it has
      already been able to see: a client that pages with added_after = the
      last date_added it received never misses a version, also while other
      writers are adding to the collection.
    * Writing an (id, version) that is already stored is a no-op; concurrent
      writers never lose a version.
    """

    @abstractmethod
    def put_objects(self, collection_id: str, objects: Sequence[ObjectVersion]) -> list[PutOutcome]:
        """Store versions; one outcome per input, in input order.

        The call is atomic where the engine allows (sqlite: one transaction)
        and always safe to retry (duplicates are no-ops). Inputs repeating the
        same (id, version) within one call are stored once.
        """

    @abstractmethod
    def list_objects(self, collection_id: str, query: ObjectQuery) -> ObjectPage:
        """Matching versions in ascending date_added order, one page."""

    @abstractmethod
    def delete_object(
        self,
        collection_id: str,
        object_id: str,
        versions: VersionFilter = ALL_VERSIONS,
        spec_versions: frozenset[str] | None = None,
    ) -> int:
        """Delete the matching versions of one object; returns how many were deleted.

        Afterwards first/last are judged among the versions that remain.
        """

    @abstractmethod
    def count_objects(self, collection_id: str) -> int:
        """How many versions the collection holds (all versions of all objects)."""
