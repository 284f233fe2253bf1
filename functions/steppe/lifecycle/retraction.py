"""Revoking indicators and submissions, and keeping false-positive values out.

What the analyst API (handlers/lifecycle.py), the CLI and the worker call.
Only analysts and admins act here, and only on collections they may write.

* revoke_indicator: in every such collection that holds it, the indicator gets
  a revoked version and a note saying why (steppe.lifecycle.revocation); a
  SIEM pulling over TAXII then drops it, and a collection that serves only
  active objects stops serving it.
* revoke_submission: every indicator a submission produced, in its collection.
  A submission of more than settings.sync_observables observables is revoked
  by the worker, one job per chunk: REVOKE_TASK messages, handled by
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
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import orjson

from steppe.access.caller import Caller
from steppe.access.ownership import visible_submission
from steppe.access.visibility import may_see, may_see_false_positive
from steppe.errors import Conflict, Forbidden, InvalidInput, NotFound
from steppe.lifecycle.revocation import (
    MAX_REASON,
    note_id,
    revocation_note,
    revocation_stamp,
    revoked_version,
)
from steppe.observables.keys import display, parse_query
from steppe.runtime import Services
from steppe.stix import tlp
from steppe.stix.identities import org_identity, org_identity_id
from steppe.stix.timestamps import format_stix, format_taxii, now_micros
from steppe.store.blob_keys import bundle_key
from steppe.store.latest import BATCH as LOOKUP_BATCH
from steppe.store.latest import latest_versions
from steppe.store.port import (
    Collection,
    FalsePositive,
    Revocation,
    Store,
    StoredObject,
    Submission,
)
from steppe.store.write_path import STEPPE, Candidate, WritePath, candidate

REVOKE_TASK = "revoke_chunk"
# How many occurrences of a false-positive value the index is asked for.
FALSE_POSITIVE_OCCURRENCES = 5000
MAX_LISTED = 1000


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

    def to_dict(self) -> dict[str, int]:
        return {
            "revoked": len(self.revoked),
            "already_revoked": len(self.already_revoked),
            "not_found": len(self.missing),
        }


def revoke_message(submission_id: str, chunk: int, reason: str, analyst: str) -> dict[str, object]:
    """The worker message asking to revoke the indicators of one chunk of a submission."""
    return {
        "task": REVOKE_TASK,
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


def describe_false_positive(entry: FalsePositive) -> dict[str, object]:
    return {
        "value": display(entry.key),
        "key": entry.key,
        "reason": entry.reason,
        "analyst": entry.analyst,
        "created": format_taxii(entry.created),
    }


def declared_for(store: Store, key: str, caller: Caller) -> tuple[tuple[str, ...], int]:
    """The collections and TLP a false-positive declaration is made for (who may read its reason).

    Where the declaring caller sees the value: those collections, at the
    strictest TLP it sees it at; a value it sees nowhere, its own writable
    collections at its clearance.
    """
    seen = [
        o
        for o in store.find_values([key], limit_per_key=FALSE_POSITIVE_OCCURRENCES).get(key, ())
        if may_see(caller, o.collection_id, o.tlp)
    ]
    if seen:
        return tuple(sorted({o.collection_id for o in seen})), max(o.tlp for o in seen)
    return tuple(sorted(caller.can_write)), max(caller.clearance, 0)


class LifecycleService:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.store = services.store
        self.settings = services.settings
        self.producer_id = org_identity_id(self.settings.org_name)
        self.writes = WritePath(self.store, self.store, self.producer_id)

    # -- indicators ------------------------------------------------------------------

    def revoke_indicator(self, indicator_id: str, reason: object, caller: Caller) -> dict:
        """Revoke the indicator in every collection the caller may write that holds it."""
        caller.require_role("admin", "analyst")
        check_indicator_id(indicator_id)
        text = check_reason(reason)
        holders: list[tuple[Collection, StoredObject]] = []
        for collection in self.store.list_collections(self.settings.api_root):
            if not (caller.may_read(collection.id) or caller.may_write(collection.id)):
                continue
            found = latest_versions(self.store, collection.id, [indicator_id]).get(indicator_id)
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
            outcome = "revoked" if counts.revoked else "already revoked"
            entry = {"id": collection.id, "title": collection.title, "outcome": outcome}
            if counts.revoked:
                entry["modified"] = counts.revoked[0][1]
            outcomes.append(entry)
        newly = any(entry["outcome"] == "revoked" for entry in outcomes)
        return {
            "indicator": indicator_id,
            "revoked": newly,
            "message": (
                f"revoked in {sum(e['outcome'] == 'revoked' for e in outcomes)} collection(s)"
                if newly
                else "the indicator was already revoked; nothing was written"
            ),
            "reason": text,
            "note": note_id(indicator_id),
            "collections": outcomes,
        }

    # -- submissions -----------------------------------------------------------------

    def revoke_submission(
        self, submission_id: str, reason: object, caller: Caller
    ) -> tuple[int, dict]:
        """Revoke what a submission produced: at once (200), or by the worker (202)."""
        caller.require_role("admin", "analyst")
        # Its submitter or an admin; to anyone else it does not exist (404).
        submission = visible_submission(self.store, submission_id, caller)
        text = check_reason(reason)
        collection_id = submission.collection_id
        if not caller.may_write(collection_id):
            raise Forbidden(
                f"'{caller.partner}' may no longer write to the collection of submission "
                f"'{submission_id}'",
                where="submission_id",
            )
        results = self.store.chunk_results(submission_id, with_objects=False)
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
            self.store.update_submission_meta(
                submission_id,
                replace(submission.meta, revoked=Revocation(reason=text, analyst=analyst, at=now)),
            )
        chunks = [result.chunk for result in results if result.error is None]
        body: dict[str, object] = {
            "submission_id": submission_id,
            "collection": collection_id,
            "reason": text,
        }
        if submission.observables > self.settings.sync_observables:
            self.services.queue.send(
                [revoke_message(submission_id, chunk, text, analyst) for chunk in chunks]
            )
            body |= {
                "status": "queued",
                "chunks": len(chunks),
                "message": f"its {len(chunks)} chunk(s) are revoked by the worker",
            }
            return 202, body
        counts = RevokeCounts()
        for chunk in chunks:
            counts.add(self.revoke_chunk(submission_id, chunk, text, analyst))
        body |= {"status": "revoked", "counts": counts.to_dict()}
        return 200, body

    def revoke_chunk(
        self, submission_id: str, chunk: int, reason: str, analyst: str
    ) -> RevokeCounts:
        """Revoke the indicators one chunk of a submission produced (the worker's job)."""
        submission = self._submission(submission_id)
        data = self.services.blobs.get(bundle_key(submission_id, chunk))
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
    ) -> tuple[int, dict]:
        """Record the value as a false positive and revoke the indicators known to carry it.

        201 for a new entry, 200 when it replaces one (a new reason).
        """
        caller.require_role("admin", "analyst")
        keys = value_keys(value)
        text = check_reason(reason)
        analyst = caller.partner or ""
        existed = self.store.find_false_positives(keys)
        now = now_micros()
        entries = [
            FalsePositive(key, text, analyst, now, *declared_for(self.store, key, caller))
            for key in keys
        ]
        for entry in entries:
            # First, so that submissions arriving from now on leave the value out.
            self.store.put_false_positive(entry)
        occurrences = self.store.find_values(keys, limit_per_key=FALSE_POSITIVE_OCCURRENCES)
        by_collection: dict[str, dict[str, str]] = defaultdict(dict)
        for key in keys:
            for occurrence in occurrences.get(key, ()):
                if (
                    occurrence.object_id.startswith("indicator--")
                    and caller.may_write(occurrence.collection_id)
                    and occurrence.tlp <= caller.clearance
                ):
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
                        reason=text,
                        analyst=analyst,
                        abstract=f"False positive: {display(key)}",
                    )
                )
        body = {
            "value": value,
            "false_positives": [describe_false_positive(entry) for entry in entries],
            "indicators": counts.to_dict(),
        }
        return (200 if existed else 201), body

    def list_false_positives(self, caller: Caller, limit: int = MAX_LISTED) -> list[dict]:
        caller.require_role("admin", "analyst")
        return [
            describe_false_positive(e)
            for e in self.store.list_false_positives(limit)
            if may_see_false_positive(caller, e)
        ]

    def remove_false_positive(self, value: object, caller: Caller) -> dict:
        """Forget the entry: later submissions publish the value again."""
        caller.require_role("admin", "analyst")
        keys = value_keys(value)
        removed = [key for key in keys if self.store.remove_false_positive(key)]
        if not removed:
            raise NotFound(f"'{value}' is not marked as a false positive", where="value")
        return {"value": value, "removed": [display(key) for key in removed]}

    # -- the writes ------------------------------------------------------------------

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
            found = latest_versions(self.store, collection_id, batch)
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
        if self.producer_id not in latest_versions(self.store, collection_id, [self.producer_id]):
            to_write[:0] = [
                candidate(tlp.CLEAR.marking_definition(), tlp.CLEAR.rank),
                candidate(org_identity(self.settings.org_name, now), tlp.CLEAR.rank),
            ]
        written = self.writes.write(collection_id, to_write, STEPPE)
        refused = {item.id for item in written.refused}
        for indicator_id, stamp_text in stamps.items():
            if indicator_id in refused:
                counts.already_revoked.append(indicator_id)
            else:
                counts.revoked.append((indicator_id, stamp_text))
        return counts

    def _submission(self, submission_id: str) -> Submission:
        submission = self.store.get_submission(submission_id)
        if submission is None:
            raise NotFound(f"there is no submission '{submission_id}'", where="submission_id")
        return submission
