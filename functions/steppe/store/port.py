"""The storage port: everything steppe keeps, as the rest of the code sees it.

(The records that bulk ingest and TAXII reads create by the thousand,
ObjectVersion, PutOutcome and StoredObject, are NamedTuples: immutable like
the frozen dataclasses elsewhere, at a third of the construction cost.)

Handlers, the TAXII protocol code and the ingest service call these abstract
classes only; `store/sqlite` and `store/aws` implement them and are the only
places that know SQL, DynamoDB or S3. Every adapter passes the same contract
suite (tests/contract).

Conventions shared by every method:

* Instants are integers: microseconds since the Unix epoch, UTC
  (see steppe.stix.timestamps).
* Object bodies are the object's JSON as UTF-8 bytes. Stores keep and return
  them verbatim; they never parse them.
* Lookups that find nothing return None; writes that break a rule raise
  steppe.errors.Conflict / NotFound.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple
from uuid import NAMESPACE_URL, uuid5

# --------------------------------------------------------------------------
# Objects (what TAXII serves)
# --------------------------------------------------------------------------


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


# --------------------------------------------------------------------------
# Catalog: API roots and collections
# --------------------------------------------------------------------------


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


# --------------------------------------------------------------------------
# Access: partners and their credentials
# --------------------------------------------------------------------------

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


# --------------------------------------------------------------------------
# Submissions (analyst observations being turned into STIX)
# --------------------------------------------------------------------------

SubmissionStatus = Literal["pending", "complete", "failed"]


@dataclass(frozen=True, slots=True)
class ChunkResult:
    """What processing one chunk of a submission produced.

    counts: objects by outcome ("created", "updated", "duplicate") and by type
      ("indicator", ...), as the ingest service defines them.
    objects: the (id, outcome) pairs, in production order.
    error: set when the chunk failed for good (it then counts as done).
    """

    chunk: int
    counts: dict[str, int]
    objects: tuple[tuple[str, str], ...] = ()
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Submission:
    """An analyst submission, as recorded when it was accepted.

    `meta` carries what the ingest service needs to describe and reprocess it
    (blob keys of the raw body and chunks, report fields, TLP...); the store
    keeps it as an opaque JSON-able dict.
    """

    id: str
    collection_id: str
    submitter: str  # the submitter's name, as it was when it submitted (for display)
    created: int
    chunks_total: int
    observables: int
    meta: dict[str, object] = field(default_factory=dict)
    status_override: SubmissionStatus | None = None  # e.g. failed before any chunk ran
    # The owner: the submitter's stable partner id. Adapters fill it for rows stored
    # before ids existed (legacy_partner_id of the submitter's name).
    submitter_id: str = ""


class SubmissionStore(ABC):
    @abstractmethod
    def create_submission(self, submission: Submission, dispatch_pending: bool = False) -> None:
        """Record an accepted submission; Conflict if the id exists.

        dispatch_pending: also record, in the same atomic step, that its work
        is not yet handed to the queue (see RecoveryStore); the writer calls
        mark_dispatched once it is.
        """

    @abstractmethod
    def get_submission(self, submission_id: str) -> Submission | None: ...

    @abstractmethod
    def set_submission_status(self, submission_id: str, status: SubmissionStatus | None) -> None:
        """Set or clear status_override (e.g. "failed", or None when reprocessing).

        NotFound if the submission does not exist.
        """

    @abstractmethod
    def update_submission_meta(self, submission_id: str, meta: dict[str, object]) -> None:
        """Replace the submission's meta dict; NotFound if the submission does not exist."""

    @abstractmethod
    def record_chunk(self, submission_id: str, result: ChunkResult) -> bool:
        """Record one chunk's result; idempotent per (submission, chunk).

        Returns True if this call recorded it, False if it was already there
        (a retried job): the first result stands. NotFound if the submission
        does not exist.
        """

    @abstractmethod
    def chunk_results(self, submission_id: str, with_objects: bool = True) -> list[ChunkResult]:
        """Every recorded chunk result, ordered by chunk number.

        with_objects=False leaves out the object lists (objects=()): what a
        status poll of a large submission needs, at a fraction of the cost.
        """

    @abstractmethod
    def clear_chunks(self, submission_id: str) -> None:
        """Forget every chunk result (before reprocessing a submission)."""

    @abstractmethod
    def list_submissions(self, limit: int = 100) -> list[Submission]:
        """The most recent submissions first."""


# --------------------------------------------------------------------------
# TAXII status resources (the outcome of a POST to a collection's objects)
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatusRecord:
    """A TAXII status resource: who asked, how many objects, until when it is kept.

    The per-object outcomes arrive in parts (StatusPart), one per processed
    batch, so that a large envelope processed by several jobs never rewrites
    one growing record.
    """

    id: str  # a UUIDv4
    owner: str  # the stable id of the partner that posted; only it may read the status
    collection_id: str
    created: int  # µs; the request_timestamp of the status resource
    total: int  # objects in the envelope
    expires: int  # µs; the record is kept at least until then (>= 24 h after created)
    meta: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StatusPart:
    """Outcomes of one batch of a posted envelope.

    successes/failures: (object id, version as a STIX timestamp or None, message or None).
    """

    part: int
    successes: tuple[tuple[str, str | None, str | None], ...] = ()
    failures: tuple[tuple[str, str | None, str | None], ...] = ()


class StatusStore(ABC):
    @abstractmethod
    def create_status(self, record: StatusRecord, dispatch_pending: bool = False) -> None:
        """Record a new status; Conflict if the id exists (dispatch_pending: as for submissions)."""

    @abstractmethod
    def get_status(self, status_id: str) -> StatusRecord | None:
        """The status, or None when unknown or past its expiry."""

    @abstractmethod
    def record_status_part(self, status_id: str, part: StatusPart) -> bool:
        """Record one batch's outcomes; idempotent per (status, part) like record_chunk.

        NotFound if the status does not exist (or has expired).
        """

    @abstractmethod
    def status_parts(self, status_id: str) -> list[StatusPart]:
        """Every recorded part, ordered by part number ([] once the status has expired)."""


# --------------------------------------------------------------------------
# Recovery: work recorded but perhaps never queued, and idempotency keys
# --------------------------------------------------------------------------

WorkKind = Literal["submission", "status"]


@dataclass(frozen=True, slots=True)
class OpenWork:
    """A submission or TAXII status recorded with dispatch_pending and not yet marked dispatched."""

    kind: WorkKind
    id: str
    created: int  # µs, when the record was written


@dataclass(frozen=True, slots=True)
class SubmissionKey:
    """An idempotency key bound to the one submission it stands for, until `expires` (µs)."""

    key: str
    submission_id: str
    digest: str  # what the request was (body, media type, parameters), hashed
    expires: int


class RecoveryStore(ABC):
    """What steppe.jobs.recovery needs to finish what a crash left half done."""

    @abstractmethod
    def take_undispatched(
        self, recorded_before: int, now: int, lease_until: int, limit: int = 100
    ) -> list[OpenWork]:
        """Lease up to `limit` open records written before `recorded_before`.

        A record is handed out only when it is not leased at `now`; each one
        returned is leased until `lease_until`, so two sweeps never take the
        same record at once and a sweep that dies lets it come back later.
        Oldest first.
        """

    @abstractmethod
    def mark_dispatched(self, kind: WorkKind, record_id: str) -> None:
        """The record's work is queued (or done): it is no longer open. No-op if it is not."""

    @abstractmethod
    def bind_submission_key(self, binding: SubmissionKey, now: int) -> SubmissionKey:
        """Bind an idempotency key to a submission id, atomically, unless a live binding exists.

        Returns the binding in force: `binding` itself, or the one recorded
        earlier that has not expired at `now` (its submission id and digest
        win). An expired binding is replaced.
        """


# --------------------------------------------------------------------------
# Audit: a record of every TAXII request
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditRecord:
    time: int  # µs
    request_id: str  # unique per request
    partner: str | None  # None when the caller was not authenticated
    method: str
    path: str
    status: int  # the HTTP status answered
    collection_id: str | None = None
    objects: int = 0  # objects returned or received
    detail: str = ""  # e.g. the query, or why the request was refused
    partner_id: str | None = None  # the partner's stable id (names can be reused)


class AuditStore(ABC):
    @abstractmethod
    def append_audit(self, record: AuditRecord) -> None:
        """Keep one record (at least a year; the AWS adapter expires it by TTL after that)."""

    @abstractmethod
    def list_audit(
        self,
        *,
        since: int | None = None,
        until: int | None = None,
        partner: str | None = None,
        limit: int = 100,
        partner_id: str | None = None,
    ) -> list[AuditRecord]:
        """Records with since <= time < until, newest first, at most `limit`.

        partner / partner_id: only that partner's records (by name, or by stable id).

        The cost does not grow with the total number of records kept (both
        adapters read a time-ordered index from `until` backwards).
        """


class SecretStore(ABC):
    @abstractmethod
    def server_secret(self, name: str) -> bytes:
        """A random 32-byte secret kept by the store, created on first use.

        Concurrent first calls agree on one value (it signs TAXII paging tokens,
        which any process of the deployment must be able to verify).
        """


# --------------------------------------------------------------------------
# The observable index and what correlation keeps (see steppe.correlate)
# --------------------------------------------------------------------------
#
# A value key is a canonical "<STIX type>:<value>" string built by
# steppe.observables.keys (e.g. "ipv4-addr:198.51.100.7",
# "ipv4-addr:198.51.100.0/24", "domain-name:example.org",
# "file:SHA-256:<hex>", "autonomous-system:64496"); stores treat keys as
# opaque strings. Every lookup below costs the same whatever the size of the
# index: SQLite reads by primary key or index, DynamoDB by Query on a
# partition key (never a Scan); its cost grows only with what is found.

Strength = Literal["exact", "network", "asn"]  # network: the same /24 (IPv4) or /48 (IPv6)


class IndexedValue(NamedTuple):
    """One occurrence of a value in stored STIX.

    (key, collection_id, object_id, source) identifies it: indexing the same
    occurrence again changes nothing.
    object_id: the indicator carrying the value, else the value's SCO.
    campaign_id: the campaign it was reported in, if any.
    source: what brought it, "submission:<id>" or "taxii:<status id>".
    producer: the STIX identity id of who reported it.
    tlp: the TLP rank of the object carrying it.
    first_seen / last_seen: when the producer saw it (epoch µs).
    """

    key: str
    collection_id: str
    object_id: str
    campaign_id: str | None
    source: str
    producer: str
    tlp: int
    first_seen: int
    last_seen: int


class GroupMember(NamedTuple):
    """A value of a campaign that belongs to a wider group: its /24, its autonomous system.

    group: "net:198.51.100.0/24" (or an IPv6 /48) or "asn:64496".
    (group, campaign_id, collection_id, tlp, key) identifies it: the same
    campaign's members in another collection or at another TLP are kept apart,
    so a reader is shown only those it may see. Indexing it again changes nothing.
    """

    group: str
    campaign_id: str
    collection_id: str  # the collection of the occurrence behind it
    tlp: int  # the strictest TLP rank of that occurrence and its campaign
    key: str  # the member value's key


@dataclass(frozen=True, slots=True)
class GroupHit:
    """One campaign's members in one group, in one collection at one TLP (at most `limit` keys)."""

    group: str
    campaign_id: str
    collection_id: str
    tlp: int
    keys: frozenset[str]
    count: int  # how many members in all


@dataclass(frozen=True, slots=True)
class CampaignRecord:
    """A campaign as one collection holds it at one TLP level (a facet of the campaign).

    (id, collection_id, tlp) identifies a record: what a collection says of a
    campaign at one TLP is never merged with what another collection, or the
    same collection at another TLP, says of it (a reader is shown only the
    records it may see). Written by correlation each time the campaign gains
    values; a put merges into the record of the same (id, collection_id, tlp):
    first_seen takes the earliest, last_seen and modified the latest, values
    the largest, targets the union (existing first); name and producer are
    those of the put.
    """

    id: str
    name: str
    collection_id: str
    tlp: int
    producer: str
    first_seen: int
    last_seen: int
    modified: int  # when steppe last learned something about it (µs)
    values: int = 0  # how many distinct values it was reported with
    targets: tuple[str, ...] = ()  # names of the targets (identities) it is known to have hit


class EvidenceScope(NamedTuple):
    """Who may see a piece of link evidence: readers of all its collections cleared for its TLP.

    collection_ids: the collections of the two occurrences behind it, sorted
    (one when both lie in the same collection). tlp: evidence sets are kept
    cumulatively per level: the set of (collection_ids, t) holds every key
    shared through occurrences at TLP rank t or below, so one set answers a
    reader cleared for t.
    """

    collection_ids: tuple[str, ...]
    tlp: int


@dataclass(frozen=True, slots=True)
class CampaignLink:
    """What two campaigns share at one strength within one evidence scope.

    (campaign_id, other_id, strength, collection_ids, tlp) identifies it; kept
    for both directions. count and sample are those of the evidence set of
    (collection_ids, tlp) (see EvidenceScope): what a reader of those
    collections cleared for that TLP may be shown. relationship_id: the STIX
    relationship (in the one collection) that such a reader may read, "" when
    there is none.
    """

    campaign_id: str
    other_id: str
    strength: Strength
    count: int
    sample: tuple[str, ...]
    confidence: int
    relationship_id: str
    collection_ids: tuple[str, ...]
    tlp: int
    modified: int

    @property
    def scope(self) -> EvidenceScope:
        return EvidenceScope(self.collection_ids, self.tlp)


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


class ObservableIndex(ABC):
    @abstractmethod
    def index_values(self, values: Sequence[IndexedValue]) -> None:
        """Record occurrences (idempotent: a known occurrence is left as it is)."""

    @abstractmethod
    def find_values(
        self, keys: Sequence[str], limit_per_key: int = 1000
    ) -> dict[str, list[IndexedValue]]:
        """The occurrences of each key that has any (at most limit_per_key each).

        Keys with no occurrence are absent from the result. Order within a
        key: by first_seen, then collection, object and source.
        """

    @abstractmethod
    def campaign_values(
        self, campaign_id: str, limit: int = 1000, after: str | None = None
    ) -> list[IndexedValue]:
        """The campaign's occurrences ordered by (key, collection, object, source).

        `after` continues after the key of the last occurrence of a previous
        call (pass the last returned key): every occurrence of a key comes in
        the same call, so the limit may be exceeded by the last key's others.
        """

    @abstractmethod
    def add_cidr_prefixes(self, family: str, prefixes: Iterable[int]) -> None:
        """Remember that the index holds networks of these prefix lengths ("ipv4"/"ipv6")."""

    @abstractmethod
    def cidr_prefixes(self) -> dict[str, frozenset[int]]:
        """Every prefix length remembered, per family (absent families: none)."""

    @abstractmethod
    def index_groups(self, members: Sequence[GroupMember]) -> None:
        """Record group members (idempotent)."""

    @abstractmethod
    def find_groups(
        self, groups: Sequence[str], limit_per_campaign: int = 50
    ) -> dict[str, list[GroupHit]]:
        """Per group that has members: one hit per (campaign, collection, TLP), in that order."""

    @abstractmethod
    def add_link_evidence(
        self,
        campaigns: tuple[str, str],
        strength: Strength,
        scopes: Sequence[EvidenceScope],
        keys: Iterable[str],
    ) -> None:
        """Add keys two campaigns share to the set of each scope (idempotent set union;
        the pair is unordered)."""

    @abstractmethod
    def link_evidence(
        self,
        campaigns: tuple[str, str],
        strength: Strength,
        scopes: Sequence[EvidenceScope],
        limit: int = 50,
    ) -> dict[EvidenceScope, tuple[int, list[str]]]:
        """Per scope that has evidence: how many keys its set holds, and the first `limit`
        in key order."""

    @abstractmethod
    def put_campaign_links(self, links: Sequence[CampaignLink]) -> None:
        """Create or replace links (identified as CampaignLink says)."""

    @abstractmethod
    def campaign_links(self, campaign_id: str) -> list[CampaignLink]:
        """Every link from this campaign, ordered by other_id, strength, collections, TLP."""

    @abstractmethod
    def put_campaign(self, campaign: CampaignRecord) -> CampaignRecord:
        """Create or merge (see CampaignRecord); returns the record as stored."""

    @abstractmethod
    def get_campaign(self, campaign_id: str) -> list[CampaignRecord]:
        """Every record of the campaign (one per collection and TLP), ordered by
        (collection, tlp); [] for a campaign steppe does not know."""

    def get_campaigns(self, campaign_ids: Iterable[str]) -> dict[str, list[CampaignRecord]]:
        """The records of those of the campaigns that exist, by id.

        For lookups that name many campaigns at once; an adapter may override
        this to read them in batches (DynamoDB BatchGetItem, SQL IN).
        """
        found: dict[str, list[CampaignRecord]] = {}
        for campaign_id in dict.fromkeys(campaign_ids):
            records = self.get_campaign(campaign_id)
            if records:
                found[campaign_id] = records
        return found

    @abstractmethod
    def list_campaigns(self, limit: int = 100, after: str | None = None) -> list[CampaignRecord]:
        """Records ordered by (id, collection, tlp), of the campaigns with an id above `after`.

        At most `limit` records, except that every record of the last campaign
        comes in the same call (the limit may be exceeded by its others).
        """

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


# --------------------------------------------------------------------------
# Identity claims: which partner a STIX identity used as created_by_ref belongs to
# --------------------------------------------------------------------------


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
    ABC,
):
    """Everything steppe persists except blobs: one class per storage engine."""

    def close(self) -> None:
        """Release connections and files."""


# --------------------------------------------------------------------------
# Blobs (raw submissions, chunks, bundles) and the job queue
# --------------------------------------------------------------------------


class BlobStore(ABC):
    """Opaque bytes by key (S3 on AWS, a folder on the embedded shape).

    Keys are '/'-separated paths of [A-Za-z0-9._-] segments.
    A put is atomic: a reader sees the whole blob or none of it.
    """

    @abstractmethod
    def put(
        self, key: str, data: bytes, content_type: str = "application/octet-stream"
    ) -> None: ...

    @abstractmethod
    def get(self, key: str) -> bytes | None: ...

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove a blob (no-op if absent)."""


class JobQueue(ABC):
    """Where work for the worker goes: SQS on AWS, a durable SQLite table embedded.

    Messages are JSON-able dicts of at most 200 KB once serialised; anything
    larger travels as a blob and the message names its key.
    """

    @abstractmethod
    def send(self, messages: Sequence[dict[str, object]]) -> None:
        """Enqueue messages durably; when this returns they survive a restart."""
