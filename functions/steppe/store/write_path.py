"""The one write path: the only place where STIX objects become stored versions.

Every producer (an analyst's submission, a partner's TAXII POST, correlation,
revocation) turns its objects into candidates with `candidate` and stores
them with `WritePath.write`, which enforces, for all of them, once:

* TLP: an object is stored at steppe.stix.tlp.rank_of_object (TLP marking
  definitions are always CLEAR, so every reader of a marked object can
  receive the definition of its marking).
* Feeds: every stored indicator version that is the latest of its id
  replaces the indicator's entry in the feed index (steppe.store.feed_entries
  says how), with the campaign it `indicates` and the names to show beside it;
  an `indicates` relationship written later completes the entry.
* Revocation is final (STIX 2.1): an object whose latest stored version is
  revoked gets no other version, from anyone. Re-sending that revoked
  version itself is a duplicate, a no-op like any other.
* Ownership, for partners (Writer.owner_id set): a partner may never post an
  object created by steppe's own identity (nor that identity object itself);
  the first partner to post an object created by a STIX identity claims that
  identity for good (IdentityClaims), and nobody else may then post objects
  created by it; a new version of an object the collection holds is allowed
  only if the creator of its latest version is an identity the partner owns.
  An exact duplicate of the latest version is a no-op success for anyone.
  steppe's own producers (and staff posting over TAXII) are not bound by
  ownership: they act as the organisation.

The rules are judged against the latest stored version of each id in the
collection. A producer that has read those already (ingest reads them to
reconcile) hands them over; otherwise `write` reads them, in bounded batches.

The messages it gives a writer depend only on what that writer may see: a
new object and a new version are both "added" (saying "a new version" would
tell a partner that a version above its clearance exists), and a duplicate is
called one only when the version it duplicates is within the writer's
clearance.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson

from steppe.stix import tlp
from steppe.stix.timestamps import now_micros
from steppe.stix.validity import lifecycle_of
from steppe.stix.versioning import version_of
from steppe.store.feed_entries import EntryContext, feed_entry, with_campaign
from steppe.store.latest import latest_versions
from steppe.store.port.claims import IdentityClaims
from steppe.store.port.feed_index import FeedIndex, FeedIndexEntry
from steppe.store.port.objects import ObjectStore, ObjectVersion, PutOutcome, StoredObject

# The object types whose versions feed entries are made of.
_FEED_TYPES = frozenset({"indicator", "relationship", "campaign", "identity"})

ADDED = "added"
DUPLICATE = "already in the collection (an identical version)"
_NO_LIFECYCLE = (None, False)  # never expires, not revoked


class Candidate(NamedTuple):
    """A version about to be written, with its creator (what ownership is judged on).

    obj: the object itself when the producer has it parsed (the feed index reads
    indicators and what names them; without it their bodies are parsed again).
    """

    version: ObjectVersion
    created_by_ref: str | None
    obj: Mapping[str, Any] | None = None


class Latest(NamedTuple):
    """What the rules need to know of the latest stored version of an id.

    tlp: its rank, or None when the producer did not read it (then no message
    may rely on the writer being able to see it).
    """

    version: int
    revoked: bool
    created_by_ref: str | None
    tlp: int | None = None

    @classmethod
    def of(
        cls, obj: Mapping[str, Any], version: int | None = None, tlp_rank: int | None = None
    ) -> Latest:
        """The latest version `obj` (a stored object, parsed); version: its stored version,
        by default the object's own (modified, else created)."""
        creator = obj.get("created_by_ref")
        return cls(
            version if version is not None else (version_of(obj) or 0),
            obj.get("revoked") is True,
            creator if isinstance(creator, str) else None,
            tlp_rank,
        )

    @classmethod
    def of_record(cls, record: StoredObject) -> Latest:
        obj = orjson.loads(record.body) if record.body else {}
        return cls.of(obj, record.version, record.tlp)


@dataclass(frozen=True, slots=True)
class Writer:
    """On whose behalf a write is made.

    owner_id: None for steppe itself (ingest, correlation, revocation, staff
      over TAXII); a partner's stable owner key otherwise, which binds the
      write to the ownership rules.
    clearance: the highest TLP rank the writer may read; messages say nothing
      about versions above it.
    """

    owner_id: str | None = None
    clearance: int = tlp.RED.rank

    @property
    def is_partner(self) -> bool:
        return self.owner_id is not None


STEPPE = Writer()


class Stored(NamedTuple):
    """A candidate the store took (possibly as a duplicate), and what to tell its writer."""

    outcome: PutOutcome
    message: str


class Refused(NamedTuple):
    """A candidate the rules refused: nothing of it was written."""

    id: str
    version: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class WriteResult:
    stored: list[Stored]  # in the order of the accepted candidates
    refused: list[Refused]  # in the order of the candidates

    @property
    def outcomes(self) -> list[PutOutcome]:
        return [item.outcome for item in self.stored]


def candidate(
    obj: Mapping[str, Any],
    unmarked_tlp: int,
    body: bytes | None = None,
    spec_version: str | None = None,
    *,
    body_is_obj: bool = False,
) -> Candidate:
    """The version to store for a STIX object dict (its body: `body`, else its JSON).

    unmarked_tlp: the rank of an object without TLP markings (the collection's
    for partner content, the submission's for an analyst's).
    body_is_obj: `body` is the JSON of this very dict, unchanged since (the
    feed index may then read the dict instead of parsing the body again).
    """
    lifecycle = lifecycle_of(obj) if "valid_until" in obj or "revoked" in obj else _NO_LIFECYCLE
    creator = obj.get("created_by_ref")
    return Candidate(
        ObjectVersion(
            obj["id"],
            obj["type"],
            version_of(obj),
            spec_version or str(obj.get("spec_version", "2.1")),
            tlp.rank_of_object(obj, unmarked_tlp),
            orjson.dumps(obj) if body is None else body,
            lifecycle[0],
            lifecycle[1],
        ),
        creator if isinstance(creator, str) else None,
        # A body given separately may be other bytes than this dict (stored as received):
        # only a body made here from the dict lets the dict stand for it.
        obj if (body is None or body_is_obj) and obj.get("type") in _FEED_TYPES else None,
    )


class WritePath:
    """Writes candidates into a collection under the rules (see the module docstring)."""

    def __init__(
        self,
        objects: ObjectStore,
        claims: IdentityClaims,
        org_identity_id: str,
        feed_index: FeedIndex,
    ) -> None:
        self.objects = objects
        self.claims = claims
        self.org_identity_id = org_identity_id
        self.feed_index = feed_index

    def latest(self, collection_id: str, ids: Iterable[str]) -> dict[str, Latest]:
        """The latest stored version of each of `ids` the collection holds (bounded batches)."""
        return {
            object_id: Latest.of_record(record)
            for object_id, record in latest_versions(self.objects, collection_id, ids).items()
        }

    def write(
        self,
        collection_id: str,
        candidates: Sequence[Candidate],
        writer: Writer = STEPPE,
        latest: Mapping[str, Latest] | None = None,
    ) -> WriteResult:
        """Store the candidates the rules allow, in one put_objects; say what became of each.

        latest: the latest stored version of (at least) every versioned id
        among the candidates, if the caller has read them; None to read them here.
        """
        if not candidates:
            return WriteResult([], [])
        if latest is None:
            latest = self.latest(collection_id, [c.version.id for c in candidates])
        owners = self._owners(candidates, latest, writer) if writer.is_partner else {}
        current = dict(latest)  # the latest version as the accepted candidates leave it
        accepted: list[ObjectVersion] = []
        parsed: list[Mapping[str, Any] | None] = []
        visible_duplicate: list[bool] = []
        refused: list[Refused] = []
        for item in candidates:
            version = item.version
            before = current.get(version.id)
            reason = self._judge(item, before, writer, owners)
            if reason is not None:
                refused.append(Refused(version.id, version.version, reason))
                continue
            accepted.append(version)
            parsed.append(item.obj)
            stored = latest.get(version.id)
            visible_duplicate.append(
                stored is not None
                and stored.tlp is not None
                and stored.tlp <= writer.clearance
                and (version.version is None or version.version == stored.version)
            )
            if version.version is not None and (before is None or version.version > before.version):
                current[version.id] = Latest(
                    version.version, version.revoked, item.created_by_ref, version.tlp
                )
        puts = self.objects.put_objects(collection_id, accepted) if accepted else []
        self._index_for_feeds(collection_id, accepted, parsed, puts, current)
        stored_items = [
            Stored(put, DUPLICATE if put.outcome == "duplicate" and visible else ADDED)
            for put, visible in zip(puts, visible_duplicate, strict=True)
        ]
        return WriteResult(stored_items, refused)

    def _index_for_feeds(
        self,
        collection_id: str,
        accepted: Sequence[ObjectVersion],
        parsed: Sequence[Mapping[str, Any] | None],
        puts: Sequence[PutOutcome],
        current: Mapping[str, Latest],
    ) -> None:
        indicators: list[tuple[Mapping[str, Any], int]] = []
        context = EntryContext()
        for version, known, put in zip(accepted, parsed, puts, strict=True):
            if put.outcome == "duplicate" or version.type not in _FEED_TYPES:
                continue
            if version.type == "indicator":
                latest = current.get(version.id)
                if latest is None or latest.version != put.version:
                    continue  # an older version arriving late: the entry follows the latest
            obj = known if known is not None else orjson.loads(version.body)
            if version.type == "indicator":
                indicators.append((obj, version.tlp))
            elif version.type == "relationship":
                source, target = obj.get("source_ref"), obj.get("target_ref")
                if (
                    obj.get("relationship_type") == "indicates"
                    and obj.get("revoked") is not True
                    and isinstance(source, str)
                    and source.startswith("indicator--")
                    and isinstance(target, str)
                    and target.startswith("campaign--")
                ):
                    context.campaigns[source] = (target, version.tlp)
            elif isinstance(obj.get("name"), str):
                context.names[version.id] = (obj["name"], version.tlp)
        if not indicators and not context.campaigns:
            return
        named = {obj.get("created_by_ref") for obj, _ in indicators} | {
            campaign_id for campaign_id, _ in context.campaigns.values()
        }
        missing = sorted(i for i in named if isinstance(i, str) and i not in context.names)
        for object_id, record in latest_versions(self.objects, collection_id, missing).items():
            name = orjson.loads(record.body or b"{}").get("name")
            if isinstance(name, str):
                context.names[object_id] = (name, record.tlp)
        now = now_micros()
        entries: list[FeedIndexEntry] = []
        for obj, rank in indicators:
            entry = feed_entry(obj, collection_id, rank, now, context)
            if entry is not None:
                entries.append(entry)
        in_write = {entry.indicator_id for entry in entries}
        later = sorted(set(context.campaigns) - in_write)
        if later:
            for entry in self.feed_index.get_feed_entries(collection_id, later):
                tied = with_campaign(entry, context)
                if tied is not None:
                    entries.append(tied)
        if entries:
            self.feed_index.put_feed_entries(entries)

    def may_delete(
        self, writer: Writer, chosen: Sequence[StoredObject], seen: Sequence[StoredObject]
    ) -> str | None:
        """Why the writer may not delete the `chosen` stored versions of an object, or None.

        seen: every version of the object the writer may see (chosen among them),
        with bodies; nothing else is looked at, so the answer never depends on
        versions above the writer's clearance.

        * Nobody deletes a revoked version while leaving others of the object
          (that would undo the revocation, which STIX makes final).
        * A partner deletes only versions of objects created by identities it owns.
        """
        parsed = {record.version: orjson.loads(record.body or b"{}") for record in seen}
        if len(chosen) < len(seen) and any(
            parsed.get(record.version, {}).get("revoked") is True for record in chosen
        ):
            return (
                "a revoked version is deleted only with every other version of the object: "
                "STIX 2.1 makes revocation final"
            )
        if not writer.is_partner:
            return None
        creators = {
            record.version: _creators(
                record.type, record.id, Latest.of(parsed.get(record.version, {})).created_by_ref
            )
            for record in chosen
        }
        wanted = sorted({c for found in creators.values() for c in found})
        owners = self.claims.identity_owners(wanted) if wanted else {}
        for record in chosen:
            found = creators[record.version]
            if (
                record.id == self.org_identity_id
                or not found
                or any(owners.get(c) != writer.owner_id for c in found)
            ):
                return (
                    f"'{record.id}' is another producer's object: a partner may delete only "
                    "objects created by its own identity"
                )
        return None

    # -- the rules -----------------------------------------------------------------

    def _judge(
        self,
        item: Candidate,
        before: Latest | None,
        writer: Writer,
        owners: Mapping[str, str],
    ) -> str | None:
        """Why the candidate may not be written, or None if it may."""
        version = item.version
        if before is not None and (version.version is None or version.version == before.version):
            return None  # the stored version itself: a duplicate, which changes nothing
        if writer.is_partner:
            reason = self._ownership(item, before, writer, owners)
            if reason is not None:
                return reason
        if before is not None and before.revoked:
            return (
                f"'{version.id}' is revoked, and STIX 2.1 makes revocation final: "
                "no version may follow it"
            )
        return None

    def _ownership(
        self,
        item: Candidate,
        before: Latest | None,
        writer: Writer,
        owners: Mapping[str, str],
    ) -> str | None:
        version = item.version
        org = self.org_identity_id
        if item.created_by_ref == org or version.id == org:
            return (
                f"the identity '{org}' is this server's own: a partner may not post objects "
                "created by it, nor the identity itself"
            )
        for identity in _creators(version.type, version.id, item.created_by_ref):
            if owners.get(identity) != writer.owner_id:
                return (
                    f"the identity '{identity}' belongs to another producer: a partner may post "
                    "only objects created by its own identity"
                )
        if before is not None:
            creators = _creators(version.type, version.id, before.created_by_ref)
            if not creators or any(owners.get(c) != writer.owner_id for c in creators):
                return (
                    f"'{version.id}' is another producer's object: a partner may add versions "
                    "only of objects created by its own identity"
                )
        return None

    def _owners(
        self, candidates: Sequence[Candidate], latest: Mapping[str, Latest], writer: Writer
    ) -> dict[str, str]:
        """The owners of the identities the rules look at, after claiming the writer's new ones."""
        assert writer.owner_id is not None
        wanted: set[str] = set()
        claimed: set[str] = set()
        for item in candidates:
            version = item.version
            before = latest.get(version.id)
            if before is not None:
                wanted.update(_creators(version.type, version.id, before.created_by_ref))
            creators = _creators(version.type, version.id, item.created_by_ref)
            wanted.update(creators)
            if before is None or (
                version.version is not None and version.version != before.version
            ):
                claimed.update(creators)
        claimed.discard(self.org_identity_id)
        owners = self.claims.identity_owners(sorted(wanted)) if wanted else {}
        for identity in sorted(claimed - owners.keys()):
            owners[identity] = self.claims.claim_identity(identity, writer.owner_id)
        return owners


def _creators(stix_type: str, object_id: str, created_by_ref: str | None) -> tuple[str, ...]:
    """The identities an object's ownership follows: its creator; for an identity that
    describes itself (no creator, or itself), the identity itself."""
    if created_by_ref is not None and created_by_ref != object_id:
        return (created_by_ref,)
    if stix_type == "identity":
        return (object_id,)
    return ()
