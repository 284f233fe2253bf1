"""Revoking indicators and submissions, and keeping false-positive values out.

What the analyst API (handlers/retractions.py), the CLI and the worker call.
Only analysts and admins act here, and only on collections they may write.
The service returns what it did (the dataclasses below) or raises
steppe.errors; the callers turn that into responses or lines.

* revoke_indicator: in every such collection that holds it, the indicator gets
  a revoked version and a note saying why (steppe.lifecycle.revocation); a
  SIEM pulling over TAXII then drops it, and a collection that serves only
  active objects stops serving it.
* revoke_submission: every indicator a submission produced, in its collection.
  A submission of more than settings.sync_observables observables is revoked
  by the worker, one job per chunk: REVOKE_CHUNK messages (steppe.jobs.tasks), handled by
  revoke_chunk. The indicators of a chunk are read from the chunk's bundle
  (the blob process_chunk wrote), which costs the same whatever the size of
  the submission; the chunk results hold them too, but only all chunks at once.
* false positives: the value is recorded (ingest then leaves it out, see
  steppe.lifecycle.publishing) and every indicator the observable index knows
  to carry it is revoked; removing the entry lets the value be published again.

Writes go to the store in batches (one lookup and one write per LOOKUP_BATCH
indicators), through the one write path (steppe.store.write_path); every
write is safe to retry.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import orjson

from steppe.access.caller import Caller
from steppe.access.ownership import visible_submission
from steppe.access.visibility import may_see, may_see_false_positive
from steppe.errors import Conflict, Forbidden, InvalidInput, NotFound
from steppe.jobs.tasks import REVOKE_CHUNK
from steppe.lifecycle.revocation import (
    MAX_REASON,
    note_id,
    revocation_note,
    revocation_stamp,
    revoked_version,
)
from steppe.observables.correlation_keys import display, parse_query
from steppe.stix import tlp
from steppe.stix.identities import org_identity, org_identity_id
from steppe.stix.timestamps import format_stix, now_micros
from steppe.store.blob_keys import bundle_key
from steppe.store.latest import BATCH as LOOKUP_BATCH
from steppe.store.latest import latest_versions
from steppe.store.port import (
    BlobStore,
    CatalogStore,
    Collection,
    FalsePositive,
    IdentityClaims,
    IndexedValue,
    JobQueue,
    ObjectStore,
    ObservableIndex,
    Revocation,
    StoredObject,
    Submission,
    SubmissionStore,
)
from steppe.store.port.feed_index import FeedIndex
from steppe.store.write_path import STEPPE, Candidate, WritePath, candidate

# How many occurrences of a false-positive value the index is asked for.
FALSE_POSITIVE_OCCURRENCES = 5000
MAX_LISTED = 1000
# A system declaration's analyst field ("sightings from <organisations>"), bounded.
MAX_ANALYST = 500


@dataclass(slots=True)
class RevokeCounts:
    """What a revocation did: newly revoked, already revoked, not found (or not visible)."""

    revoked: list[tuple[str, str]] = field(default_factory=list)  # (id, modified)
    already_revoked: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def add(self, other: RevokeCounts) -> RevokeCounts:
        self.revoked += other.revoked
        self.already_revoked += other.already_revoked
        self.missing += other.missing
        return self


@dataclass(frozen=True, slots=True)
class CollectionRevocation:
    """What revoking an indicator did in one collection that holds it."""

    id: str
    title: str
    modified: str | None  # the revoked version's; None when it was already revoked

    @property
    def outcome(self) -> str:
        return "already revoked" if self.modified is None else "revoked"


@dataclass(frozen=True, slots=True)
class IndicatorRevocation:
    indicator_id: str
    reason: str
    note_id: str
    collections: list[CollectionRevocation]

    @property
    def revoked(self) -> bool:
        """Whether a revoked version was written anywhere (False: it was already revoked)."""
        return any(c.modified is not None for c in self.collections)

    @property
    def message(self) -> str:
        if self.revoked:
            done = sum(c.modified is not None for c in self.collections)
            return f"revoked in {done} collection(s)"
        return "the indicator was already revoked; nothing was written"


@dataclass(frozen=True, slots=True)
class SubmissionRevocation:
    """Revoked at once (counts), or queued for the worker, one job per chunk."""

    submission_id: str
    collection_id: str
    reason: str
    queued: bool
    chunks: int  # the chunks revoked, or queued to be
    counts: RevokeCounts

    @property
    def message(self) -> str:
        if self.queued:
            return f"its {self.chunks} chunk(s) are revoked by the worker"
        return (
            f"{len(self.counts.revoked)} indicator(s) revoked, "
            f"{len(self.counts.already_revoked)} already revoked"
        )


@dataclass(frozen=True, slots=True)
class FalsePositiveMarking:
    value: str  # as the analyst typed it
    entries: list[FalsePositive]  # one per key of the value
    replaced: bool  # an entry existed (a new reason); else the value is new
    counts: RevokeCounts  # the indicators known to carry it


def revoke_message(submission_id: str, chunk: int, reason: str, analyst: str) -> dict[str, object]:
    """The worker message asking to revoke the indicators of one chunk of a submission."""
    return {
        "task": REVOKE_CHUNK,
        "submission_id": submission_id,
        "chunk": chunk,
        "reason": reason,
        "analyst": analyst,
    }


def check_reason(reason: object) -> str:
    if reason is None:
        raise InvalidInput(
            "reason is required: say why, for the partners who pull it", where="reason"
        )
    if not isinstance(reason, str):
        raise InvalidInput(f"reason must be a string, not {type(reason).__name__}", where="reason")
    text = reason.strip()
    if not text:
        raise InvalidInput("reason must not be empty: say why", where="reason")
    if len(text) > MAX_REASON:
        raise InvalidInput(f"reason is longer than {MAX_REASON} characters", where="reason")
    return text


def check_indicator_id(indicator_id: str) -> str:
    prefix = "indicator--"
    try:
        valid = indicator_id.startswith(prefix) and bool(uuid.UUID(indicator_id[len(prefix) :]))
    except ValueError:
        valid = False
    if not valid:
        raise InvalidInput(
            f"'{indicator_id}' is not an indicator id (indicator--<UUID>)", where="indicator_id"
        )
    return indicator_id


def value_keys(value: object) -> list[str]:
    """The keys of a value an analyst typed; 400 naming it if steppe does not recognise it."""
    if value is None:
        raise InvalidInput("value is required: the address, domain, URL, hash...", where="value")
    if not isinstance(value, str):
        raise InvalidInput(f"value must be a string, not {type(value).__name__}", where="value")
    keys = parse_query(value)
    if not keys:
        raise InvalidInput(
            f"'{value}' is not a value steppe recognises: give an IPv4/IPv6 address or CIDR "
            "block, a domain name, a URL with its scheme, an email address, a file hash "
            "(MD5, SHA-1, SHA-256, SHA-512) or an autonomous system (AS64496)",
            where="value",
        )
    return keys


def declared_for(index: ObservableIndex, key: str, caller: Caller) -> tuple[tuple[str, ...], int]:
    """The collections and TLP a false-positive declaration is made for (who may read its reason).

    Where the declaring caller sees the value: those collections, at the
    strictest TLP it sees it at; a value it sees nowhere, its own writable
    collections at its clearance.
    """
    seen = [
        o
        for o in index.find_values([key], limit_per_key=FALSE_POSITIVE_OCCURRENCES).get(key, ())
        if may_see(caller, o.collection_id, o.tlp)
    ]
    if seen:
        return tuple(sorted({o.collection_id for o in seen})), max(o.tlp for o in seen)
    return tuple(sorted(caller.can_write)), max(caller.clearance, 0)


class LifecycleService:
    def __init__(
        self,
        *,
        catalog: CatalogStore,
        objects: ObjectStore,
        claims: IdentityClaims,
        feed_index: FeedIndex,
        submissions: SubmissionStore,
        index: ObservableIndex,
        blobs: BlobStore,
        queue: JobQueue,
        org_name: str,
        api_root: str,
        sync_observables: int,
        after_writes: Callable[[], Sequence[dict[str, object]]] | None = None,
    ) -> None:
        self.catalog = catalog
        # Jobs queued after a revocation is written (push delivery of the revoked versions).
        self.after_writes = after_writes
        self.objects = objects
        self.submissions = submissions
        self.index = index
        self.blobs = blobs
        self.queue = queue
        self.org_name = org_name
        self.api_root = api_root
        self.sync_observables = sync_observables
        self.producer_id = org_identity_id(org_name)
        self.writes = WritePath(objects, claims, self.producer_id, feed_index)

    # -- indicators ------------------------------------------------------------------

    def revoke_indicator(
        self, indicator_id: str, reason: object, caller: Caller
    ) -> IndicatorRevocation:
        """Revoke the indicator in every collection the caller may write that holds it."""
        caller.require_role("admin", "analyst")
        check_indicator_id(indicator_id)
        text = check_reason(reason)
        holders: list[tuple[Collection, StoredObject]] = []
        for collection in self.catalog.list_collections(self.api_root):
            if not (caller.may_read(collection.id) or caller.may_write(collection.id)):
                continue
            found = latest_versions(self.objects, collection.id, [indicator_id]).get(indicator_id)
            if found is not None and found.type == "indicator" and found.tlp <= caller.clearance:
                holders.append((collection, found))
        if not holders:
            raise NotFound(
                f"no collection you can see holds the indicator '{indicator_id}'",
                where="indicator_id",
            )
        writable = [(c, found) for c, found in holders if caller.may_write(c.id)]
        if not writable:
            titles = ", ".join(f"'{c.title}'" for c, _ in holders)
            raise Forbidden(
                f"'{caller.partner}' may not write to the collections holding the indicator "
                f"({titles})",
                where="indicator_id",
            )
        analyst = caller.partner or ""
        outcomes = []
        for collection, found in writable:
            counts = self._revoke_found(
                collection.id,
                [found],
                reason=text,
                analyst=analyst,
                abstract=f"Indicator revoked by {analyst}",
            )
            modified = counts.revoked[0][1] if counts.revoked else None
            outcomes.append(CollectionRevocation(collection.id, collection.title, modified))
        return IndicatorRevocation(indicator_id, text, note_id(indicator_id), outcomes)

    # -- submissions -----------------------------------------------------------------

    def revoke_submission(
        self, submission_id: str, reason: object, caller: Caller
    ) -> SubmissionRevocation:
        """Revoke what a submission produced: at once, or queued for the worker when large."""
        caller.require_role("admin", "analyst")
        # Its submitter or an admin; to anyone else it does not exist (404).
        submission = visible_submission(self.submissions, submission_id, caller)
        text = check_reason(reason)
        collection_id = submission.collection_id
        if not caller.may_write(collection_id):
            raise Forbidden(
                f"'{caller.partner}' may no longer write to the collection of submission "
                f"'{submission_id}'",
                where="submission_id",
            )
        results = self.submissions.chunk_results(submission_id, with_objects=False)
        if submission.status_override is None and len(results) < submission.chunks_total:
            raise Conflict(
                f"submission '{submission_id}' is still being processed "
                f"({len(results)} of {submission.chunks_total} chunks done); revoke it once "
                "it is complete",
                where="submission_id",
            )
        analyst = caller.partner or ""
        now = now_micros()
        if not submission.meta.revoked:  # the first revocation's reason stands
            self.submissions.update_submission_meta(
                submission_id,
                replace(submission.meta, revoked=Revocation(reason=text, analyst=analyst, at=now)),
            )
        chunks = [result.chunk for result in results if result.error is None]
        counts = RevokeCounts()
        queued = submission.observables > self.sync_observables
        if queued:
            self.queue.send(
                [revoke_message(submission_id, chunk, text, analyst) for chunk in chunks]
            )
        else:
            for chunk in chunks:
                counts.add(self.revoke_chunk(submission_id, chunk, text, analyst))
        return SubmissionRevocation(
            submission_id, collection_id, text, queued=queued, chunks=len(chunks), counts=counts
        )

    def revoke_chunk(
        self, submission_id: str, chunk: int, reason: str, analyst: str
    ) -> RevokeCounts:
        """Revoke the indicators one chunk of a submission produced (the worker's job)."""
        submission = self._submission(submission_id)
        data = self.blobs.get(bundle_key(submission_id, chunk))
        if data is None:
            raise NotFound(f"chunk {chunk} of submission '{submission_id}' has no bundle")
        ids = [obj["id"] for obj in orjson.loads(data)["objects"] if obj.get("type") == "indicator"]
        return self._revoke(
            submission.collection_id,
            list(dict.fromkeys(ids)),
            reason=reason,
            analyst=analyst,
            abstract=f"Indicator revoked with submission {submission_id}",
        )

    # -- false positives ---------------------------------------------------------------

    def mark_false_positive(
        self, value: object, reason: object, caller: Caller
    ) -> FalsePositiveMarking:
        """Record the value as a false positive and revoke the indicators known to carry it."""
        caller.require_role("admin", "analyst")
        keys = value_keys(value)
        text = check_reason(reason)
        analyst = caller.partner or ""
        existed = self.index.find_false_positives(keys)
        now = now_micros()
        entries = [
            FalsePositive(key, text, analyst, now, *declared_for(self.index, key, caller))
            for key in keys
        ]
        for entry in entries:
            # First, so that submissions arriving from now on leave the value out.
            self.index.put_false_positive(entry)
        counts = self._revoke_carrying(
            keys,
            lambda o: caller.may_write(o.collection_id) and o.tlp <= caller.clearance,
            reason=text,
            analyst=analyst,
        )
        # str(): value_keys has refused anything but a string
        return FalsePositiveMarking(str(value), entries, replaced=bool(existed), counts=counts)

    def declare_false_positive_from_sightings(
        self, keys: Sequence[str], reasons: Sequence[str], organisations: Sequence[str]
    ) -> FalsePositiveMarking:
        """Declare a value a false positive because enough sightings said it is one.

        No analyst makes this declaration: steppe does, when the false-positive
        sightings reported for the value reach the configured count
        (steppe.distribution.sightings). The reason is the reporters' notes;
        the analyst field names the organisations. The declaration is made for
        every collection that holds the value, at the strictest TLP it is held
        at, and every indicator known to carry it is revoked, wherever it is.
        """
        if not keys:
            raise InvalidInput("no value to declare a false positive", where="value")
        names = ", ".join(dict.fromkeys(organisations)) or "partners"
        analyst = f"sightings from {names}"[:MAX_ANALYST]
        notes = [note.strip() for note in reasons if note and note.strip()]
        text = "; ".join(dict.fromkeys(notes)) or "reported as a false positive by sightings"
        if len(text) > MAX_REASON:
            text = text[: MAX_REASON - 1] + "…"
        existed = self.index.find_false_positives(keys)
        now = now_micros()
        entries = []
        for key in keys:
            held = [
                o
                for o in self.index.find_values(
                    [key], limit_per_key=FALSE_POSITIVE_OCCURRENCES
                ).get(key, ())
            ]
            collections = tuple(sorted({o.collection_id for o in held}))
            level = max((o.tlp for o in held), default=tlp.CLEAR.rank)
            entries.append(FalsePositive(key, text, analyst, now, collections, level))
        for entry in entries:
            self.index.put_false_positive(entry)
        counts = self._revoke_carrying(keys, lambda _: True, reason=text, analyst=analyst)
        return FalsePositiveMarking(
            display(keys[0]), entries, replaced=bool(existed), counts=counts
        )

    def list_false_positives(self, caller: Caller, limit: int = MAX_LISTED) -> list[FalsePositive]:
        caller.require_role("admin", "analyst")
        return [
            e for e in self.index.list_false_positives(limit) if may_see_false_positive(caller, e)
        ]

    def remove_false_positive(self, value: object, caller: Caller) -> list[str]:
        """Forget the entry (later submissions publish the value again); the keys removed."""
        caller.require_role("admin", "analyst")
        keys = value_keys(value)
        removed = [key for key in keys if self.index.remove_false_positive(key)]
        if not removed:
            raise NotFound(f"'{value}' is not marked as a false positive", where="value")
        return removed

    # -- the writes ------------------------------------------------------------------

    def _revoke_carrying(
        self,
        keys: Sequence[str],
        allowed: Callable[[IndexedValue], bool],
        *,
        reason: str,
        analyst: str,
    ) -> RevokeCounts:
        """Revoke the indicators the observable index knows to carry one of `keys`
        (those of its occurrences `allowed` passes)."""
        occurrences = self.index.find_values(keys, limit_per_key=FALSE_POSITIVE_OCCURRENCES)
        by_collection: dict[str, dict[str, str]] = defaultdict(dict)
        for key in keys:
            for occurrence in occurrences.get(key, ()):
                if occurrence.object_id.startswith("indicator--") and allowed(occurrence):
                    by_collection[occurrence.collection_id].setdefault(occurrence.object_id, key)
        counts = RevokeCounts()
        for collection_id, indicators in by_collection.items():
            by_key: dict[str, list[str]] = defaultdict(list)
            for indicator_id, key in indicators.items():
                by_key[key].append(indicator_id)
            for key, ids in by_key.items():
                counts.add(
                    self._revoke(
                        collection_id,
                        ids,
                        reason=reason,
                        analyst=analyst,
                        abstract=f"False positive: {display(key)}",
                    )
                )
        return counts

    def _revoke(
        self,
        collection_id: str,
        indicator_ids: Sequence[str],
        *,
        reason: str,
        analyst: str,
        abstract: str,
    ) -> RevokeCounts:
        counts = RevokeCounts()
        for start in range(0, len(indicator_ids), LOOKUP_BATCH):
            batch = indicator_ids[start : start + LOOKUP_BATCH]
            found = latest_versions(self.objects, collection_id, batch)
            counts.missing += [i for i in batch if i not in found]
            records = [found[i] for i in batch if i in found and found[i].type == "indicator"]
            counts.add(
                self._revoke_found(
                    collection_id, records, reason=reason, analyst=analyst, abstract=abstract
                )
            )
        return counts

    def _revoke_found(
        self,
        collection_id: str,
        records: Sequence[StoredObject],
        *,
        reason: str,
        analyst: str,
        abstract: str,
    ) -> RevokeCounts:
        """One write: the revoked versions of `records` and their notes.

        Through the one write path, which judges them against the latest
        versions as they are when it writes: an indicator revoked meanwhile
        (another analyst, a retried job) gets no second revoked version.
        """
        counts = RevokeCounts()
        now = now_micros()
        to_write: list[Candidate] = []
        stamps: dict[str, str] = {}
        for record in records:
            assert record.body is not None
            indicator = orjson.loads(record.body)
            if indicator.get("revoked") is True:
                counts.already_revoked.append(record.id)
                continue
            stamp = revocation_stamp(record.version, now)
            revoked = revoked_version(indicator, stamp)
            note = revocation_note(
                indicator,
                abstract=abstract,
                reason=reason,
                analyst=analyst,
                producer_id=self.producer_id,
                stamp=stamp,
            )
            # The note first: a write cut short leaves the indicator unrevoked, to retry.
            to_write.append(candidate(note, record.tlp))
            to_write.append(candidate(revoked, record.tlp, spec_version=record.spec_version))
            stamps[record.id] = format_stix(stamp)
        if not to_write:
            return counts
        if self.producer_id not in latest_versions(self.objects, collection_id, [self.producer_id]):
            to_write[:0] = [
                candidate(tlp.CLEAR.marking_definition(), tlp.CLEAR.rank),
                candidate(org_identity(self.org_name, now), tlp.CLEAR.rank),
            ]
        written = self.writes.write(collection_id, to_write, STEPPE)
        refused = {item.id for item in written.refused}
        for indicator_id, stamp_text in stamps.items():
            if indicator_id in refused:
                counts.already_revoked.append(indicator_id)
            else:
                counts.revoked.append((indicator_id, stamp_text))
        if counts.revoked and self.after_writes is not None:
            follow_ons = list(self.after_writes())
            if follow_ons:
                self.queue.send(follow_ons)
        return counts

    def _submission(self, submission_id: str) -> Submission:
        submission = self.submissions.get_submission(submission_id)
        if submission is None:
            raise NotFound(f"there is no submission '{submission_id}'", where="submission_id")
        return submission
