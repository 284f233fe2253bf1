"""Submissions: from an analyst's observations to stored STIX, in bounded chunks.

The flow, the same in both shapes:

1. `submit` validates the whole body first (bad input is refused and nothing is
   written), then archives the raw body verbatim in the blob store before
   anything else is stored, so an accepted submission can always be
   reprocessed and is never lost.
2. The observables are cut into chunks of `chunk_observables`. A submission
   of one chunk is processed before the response (201, complete); a larger
   one stores each chunk as a blob, queues one job per chunk and answers 202
   pending. No invocation ever processes more than one chunk.
3. `process_chunk` converts one chunk (plus the submission-level objects:
   campaign, targets...) through the kind's template, reconciles it with what
   the collection already holds (same id -> a new version or nothing),
   writes it in one store call, keeps the chunk's bundle as a blob and
   records the chunk's result. Retrying a chunk is harmless.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial

import orjson

from steppe.access.caller import Caller
from steppe.access.ownership import visible_submission
from steppe.conversion.converter import DERIVED_IDS_SECRET, ConversionContext, Converter, Producer
from steppe.errors import Conflict, Forbidden, InvalidInput, NotFound, UnsupportedMediaType
from steppe.jobs import recovery
from steppe.jobs.tasks import correlate_message
from steppe.lifecycle import publishing
from steppe.observables.model import Observable, Report, SubmissionRequest
from steppe.observables.report_csv import parse_csv
from steppe.observables.report_json import parse_json
from steppe.observables.submission_codecs import (
    decode_observables,
    encode_observables,
    report_from_dict,
    report_to_dict,
)
from steppe.runtime import Services
from steppe.stix.identities import org_identity_id
from steppe.stix.ids import derived_id
from steppe.stix.timestamps import format_stix, now_micros
from steppe.stix.versioning import reconcile, version_of
from steppe.store.blob_keys import bundle_key
from steppe.store.latest import latest_versions
from steppe.store.port import (
    ChunkResult,
    Collection,
    Revocation,
    Submission,
    SubmissionMeta,
    SubmissionProducer,
)
from steppe.store.write_path import STEPPE, Candidate, Latest, WritePath, candidate
from steppe.templates.registry import TemplateRegistry

JSON_TYPES = ("application/json", "application/stix+json")
CSV_TYPES = ("text/csv", "application/csv")
# The submission resource lists the ids of what a submission produced up to this many objects.
MAX_LISTED_OBJECTS = 5000


@dataclass(frozen=True, slots=True)
class Accepted:
    submission_id: str
    status_code: int  # 201 when complete before the response, 202 when queued


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


class IngestService:
    def __init__(self, services: Services, registry: TemplateRegistry | None = None) -> None:
        self.services = services
        self.store = services.store
        self.blobs = services.blobs
        self.settings = services.settings
        self.registry = registry or TemplateRegistry.load()
        self.converter = Converter(self.registry)
        self.writes = WritePath(self.store, self.store, org_identity_id(self.settings.org_name))
        self._id_secret: bytes | None = None

    @property
    def id_secret(self) -> bytes:
        """The installation's secret for derived ids, read from the store once per service."""
        if self._id_secret is None:
            self._id_secret = self.store.server_secret(DERIVED_IDS_SECRET)
        return self._id_secret

    # -- accepting ---------------------------------------------------------------

    def parse(
        self, body: bytes, content_type: str | None, params: Mapping[str, str]
    ) -> SubmissionRequest:
        kind = media_type(content_type)
        if not body:
            raise InvalidInput("the request body is empty", where="body")
        limit = self.settings.max_observables
        if kind in JSON_TYPES:
            return parse_json(body, max_observables=limit)
        if kind in CSV_TYPES:
            return parse_csv(body, params, max_observables=limit)
        raise UnsupportedMediaType(
            f"Content-Type '{content_type or ''}' is not accepted here; send application/json "
            "(a report) or text/csv (observables, with the report fields as query parameters)",
            where="header Content-Type",
        )

    def resolve_collection(self, requested: str | None, caller: Caller) -> Collection:
        root = self.settings.api_root
        if requested:
            collection = self.store.get_collection(requested)
            if collection is None or collection.api_root != root:
                collection = self.store.find_collection_by_title(root, requested)
            if collection is None:
                raise InvalidInput(
                    f"there is no collection with the id or title '{requested}'",
                    where="collection",
                )
        else:
            collection = next((c for c in self.store.list_collections(root) if c.default), None)
            if collection is None:
                raise NotFound(
                    "this server has no default collection; name one", where="collection"
                )
        if not caller.may_write(collection.id):
            raise Forbidden(
                f"'{caller.partner}' may not write to the collection '{collection.title}'",
                where="collection",
            )
        return collection

    def submit(
        self,
        *,
        body: bytes,
        content_type: str | None,
        params: Mapping[str, str],
        caller: Caller,
        submission_id: str | None = None,
        idempotency: tuple[str, str] | None = None,
    ) -> Accepted:
        """Accept a submission; `idempotency` (key, request digest) makes a retry find it."""
        caller.require_role("admin", "analyst")
        request = self.parse(body, content_type, params)
        collection = self.resolve_collection(request.report.collection, caller)
        submission_id = submission_id or str(uuid.uuid4())
        if idempotency is not None:
            submission_id, found = recovery.bind_submission(self.store, *idempotency, submission_id)
            if found is not None:  # a retry of a request whose answer was lost
                return Accepted(submission_id, 202 if self._pending(found) else 201)
        raw_key = f"submissions/{submission_id}/raw"
        self.blobs.put(raw_key, body, media_type(content_type) or "application/octet-stream")
        meta = SubmissionMeta(
            raw_key=raw_key,
            content_type=content_type or "",
            params=dict(params),
            sha256=body_digest(body),
            producer=_producer_record(self._producer(caller)),
        )
        return self._start(
            submission_id,
            collection,
            caller.partner or "",
            request,
            meta,
            submitter_id=caller.partner_id or "",
        )

    def reprocess(self, submission_id: str) -> Accepted:
        """Run an archived submission through the current templates again."""
        submission = self._submission(submission_id)
        meta = submission.meta
        if meta.revoked:
            # Its indicators are revoked for good; reprocessing would publish them again.
            raise Conflict(
                f"submission '{submission_id}' was revoked; a revoked submission is not "
                "processed again (submit the observations anew if they should be published)",
                where="submission_id",
            )
        raw = self.blobs.get(str(meta.raw_key))
        if raw is None:
            raise NotFound(f"the raw body of submission '{submission_id}' is missing")
        request = self.parse(raw, meta.content_type, dict(meta.params or {}))
        collection = self.store.get_collection(submission.collection_id)
        if collection is None:
            raise NotFound(f"the collection of submission '{submission_id}' no longer exists")
        self.store.clear_chunks(submission_id)
        self.store.set_submission_status(submission_id, None)
        return self._start(
            submission_id, collection, submission.submitter, request, meta, existing=submission
        )

    def _start(
        self,
        submission_id: str,
        collection: Collection,
        submitter: str,
        request: SubmissionRequest,
        meta: SubmissionMeta,
        existing: Submission | None = None,
        submitter_id: str = "",
    ) -> Accepted:
        size = self.settings.chunk_observables
        observables = request.observables
        chunks = [observables[i : i + size] for i in range(0, len(observables), size)]
        inline = len(observables) <= self.settings.sync_observables and len(chunks) == 1
        meta = replace(
            meta,
            report=report_to_dict(request.report),
            # Reprocessing keeps the first processing time, so unchanged input yields
            # identical objects (nothing to write) and changed ones newer versions.
            now=meta.now or now_micros(),
            run=recovery.new_run(),
            chunk_keys=()
            if inline
            else tuple(
                f"submissions/{submission_id}/chunks/{n:05d}" for n in range(1, len(chunks) + 1)
            ),
        )
        for key, chunk in zip(meta.chunk_keys or (), chunks, strict=False):
            self.blobs.put(key, encode_observables(chunk))
        if existing is None:
            self.store.create_submission(
                Submission(
                    id=submission_id,
                    collection_id=collection.id,
                    submitter=submitter,
                    submitter_id=submitter_id,
                    created=meta.now,
                    chunks_total=len(chunks),
                    observables=len(observables),
                    meta=meta,
                ),
                dispatch_pending=True,
            )
        else:
            self.store.update_submission_meta(submission_id, meta)
        if inline:
            self.process_chunk(submission_id, 1, observables=chunks[0])
            self.store.mark_dispatched("submission", submission_id)
            return Accepted(submission_id, 201)
        self.services.queue.send(
            [
                {"task": "process_chunk", "submission_id": submission_id, "chunk": n}
                for n in range(1, len(chunks) + 1)
            ]
        )
        self.store.mark_dispatched("submission", submission_id)
        return Accepted(submission_id, 202)

    # -- processing ----------------------------------------------------------------

    def process_chunk(
        self, submission_id: str, chunk: int, observables: Sequence[Observable] | None = None
    ) -> ChunkResult:
        submission = self._submission(submission_id)
        meta = submission.meta
        started, rerun = recovery.chunk_started(self.blobs, submission_id, meta.run, chunk)
        if observables is None:
            data = self.blobs.get(meta.chunk_keys[chunk - 1])  # type: ignore[index]
            if data is None:
                raise NotFound(f"chunk {chunk} of submission '{submission_id}' is missing")
            observables = decode_observables(data)
        report = report_from_dict(meta.report)  # type: ignore[arg-type]
        ctx = ConversionContext(
            submission_id=submission_id,
            producer=_producer_of(meta.producer),  # type: ignore[arg-type]
            now=int(meta.now),  # type: ignore[arg-type]
            parts_total=submission.chunks_total,
            collection_id=submission.collection_id,
            id_secret=self.id_secret,
        )
        produced = self.converter.header_objects(report, ctx)
        produced += self.converter.chunk_objects(report, observables, chunk, ctx)
        # The same object can come out twice (a country both a target's and a source's).
        desired = list({obj["id"]: obj for obj in reversed(produced)}.values())[::-1]
        # Values analysts declared false positives stay out unless the report overrides.
        skipped = 0
        if not report.override_false_positives:
            false_positives = publishing.false_positives_among(self.store, observables)
            desired, skipped = publishing.drop_false_positives(desired, false_positives)
        existing = self._existing(submission.collection_id, desired)
        if revoked := publishing.revoked_indicators(existing):
            lookup = partial(self._existing_ids, submission.collection_id)
            desired = publishing.reissue_revoked(desired, existing, revoked, lookup)
        to_write, bodies = self._versions_to_write(desired, existing, report.tlp.rank)
        outcome_of = {object_id: "unchanged" for object_id in existing}
        latest = {object_id: Latest.of(obj) for object_id, (obj, _) in existing.items()}
        written = self.writes.write(submission.collection_id, to_write, STEPPE, latest)
        for put in written.outcomes:
            outcome_of[put.id] = "unchanged" if put.outcome == "duplicate" else put.outcome
        self.blobs.put(
            bundle_key(submission_id, chunk),
            b'{"type":"bundle","id":"'
            + derived_id("bundle", submission_id, str(chunk)).encode()
            + b'","objects":['
            + b",".join(bodies)
            + b"]}",
            "application/stix+json",
        )
        ids = [obj["id"] for obj in desired]
        outcomes = [outcome_of.get(object_id, "unchanged") for object_id in ids]
        counts = Counter(outcomes)
        counts.update(Counter("type:" + obj["type"] for obj in desired))
        counts["observables"] = len(observables)
        if skipped:
            counts["false_positive_skipped"] = skipped
        result = ChunkResult(
            chunk=chunk, counts=dict(counts), objects=tuple(zip(ids, outcomes, strict=True))
        )
        if rerun:  # an earlier attempt may have stored these objects and died before recording
            result = recovery.settle_rerun(self.store, submission, result, started)
        self.store.record_chunk(submission_id, result)
        recovery.chunk_recorded(self.blobs, submission_id, meta.run, chunk)
        if self.settings.correlate:
            # Correlation is a job of its own: retried, dead-lettered and timed apart.
            self.services.queue.send(
                [correlate_message("submission", submission_id=submission_id, chunk=chunk)]
            )
        return result

    @staticmethod
    def _versions_to_write(
        desired: list[dict], existing: dict[str, tuple[dict, bytes]], default_rank: int
    ) -> tuple[list[Candidate], list[bytes]]:
        """What reconciliation says to store, serialised; and every object's body for the bundle.

        Most objects of a bulk submission are new: they are serialised as they
        are, and only those the collection already holds go through reconcile.
        """
        to_write: list[Candidate] = []
        bodies: list[bytes] = []
        dumps = orjson.dumps
        for obj in desired:
            object_id = obj["id"]
            stored = existing.get(object_id)
            if stored is not None:
                [item] = reconcile([obj], {object_id: stored[0]})
                if not item.changed:
                    bodies.append(stored[1])
                    continue
                obj = item.obj
            body = dumps(obj)
            to_write.append(candidate(obj, default_rank, body))
            bodies.append(body)
        return to_write, bodies

    def record_failure(self, submission_id: str, chunk: int, error: str) -> None:
        """A chunk that failed for good: the submission shows it, the raw body stays."""
        self.store.record_chunk(
            submission_id, ChunkResult(chunk=chunk, counts={}, objects=(), error=error)
        )

    def _existing(self, collection_id: str, desired: list[dict]) -> dict[str, tuple[dict, bytes]]:
        """The latest stored version of every desired versioned object, parsed and raw."""
        return self._existing_ids(
            collection_id, [o["id"] for o in desired if version_of(o) is not None]
        )

    def _existing_ids(
        self, collection_id: str, ids: Sequence[str]
    ) -> dict[str, tuple[dict, bytes]]:
        return {
            object_id: (orjson.loads(record.body), record.body)  # type: ignore[arg-type]
            for object_id, record in latest_versions(self.store, collection_id, ids).items()
        }

    # -- reading -------------------------------------------------------------------

    def _pending(self, submission: Submission) -> bool:
        if submission.status_override is not None:
            return submission.status_override == "pending"
        done = len(self.store.chunk_results(submission.id, with_objects=False))
        return done < submission.chunks_total

    def _submission(self, submission_id: str) -> Submission:
        submission = self.store.get_submission(submission_id)
        if submission is None:
            raise NotFound(f"there is no submission '{submission_id}'", where="submission_id")
        return submission

    def visible_submission(self, submission_id: str, caller: Caller) -> Submission:
        return visible_submission(self.store, submission_id, caller)

    def describe(self, submission: Submission) -> dict[str, object]:
        """The submission resource. Cheap to poll: object ids are listed only for
        submissions of at most MAX_LISTED_OBJECTS objects (the bundle has them all)."""
        results = self.store.chunk_results(submission.id, with_objects=False)
        counts: Counter[str] = Counter()
        errors = []
        for result in results:
            counts.update(result.counts)
            if result.error:
                errors.append({"chunk": result.chunk, "message": result.error})
        by_type = {k[5:]: v for k, v in sorted(counts.items()) if k.startswith("type:")}
        total = sum(by_type.values())
        listed: dict[str, list[str]] | None = None
        if total <= MAX_LISTED_OBJECTS:
            listed = {"created": [], "updated": [], "unchanged": []}
            for result in self.store.chunk_results(submission.id):
                for object_id, outcome in result.objects:
                    listed.setdefault(outcome, []).append(object_id)
        done = len(results)
        if submission.status_override:
            status = submission.status_override
        elif done < submission.chunks_total:
            status = "pending"
        else:
            status = "failed" if errors else "complete"
        report = submission.meta.report if submission.meta.report is not None else {}
        collection = self.store.get_collection(submission.collection_id)
        self_url = f"/api/v1/submissions/{submission.id}"
        return {
            "id": submission.id,
            "status": status,
            "created": format_stix(submission.created),
            "submitted_by": submission.submitter,
            "collection": {
                "id": submission.collection_id,
                "title": collection.title if collection else None,
            },
            "kind": report.get("kind") if isinstance(report, dict) else None,
            "tlp": report.get("tlp") if isinstance(report, dict) else None,
            "observables": submission.observables,
            "chunks": {"total": submission.chunks_total, "done": done, "failed": len(errors)},
            "counts": {
                "objects": total,
                "created": counts.get("created", 0),
                "updated": counts.get("updated", 0),
                "unchanged": counts.get("unchanged", 0),
                # indicators of values analysts declared false positives, left out
                "false_positive_skipped": counts.get("false_positive_skipped", 0),
                "by_type": by_type,
            },
            # None when there are too many to list: the bundle parts have them all.
            "objects": listed,
            "errors": errors,
            "revoked": _revocation(submission.meta.revoked),
            "links": {
                "self": self_url,
                "bundle": f"{self_url}/bundle",
                "reprocess": f"{self_url}/reprocess",
            },
        }

    def bundle_part(self, submission: Submission, part: int) -> bytes:
        if not 1 <= part <= submission.chunks_total:
            raise InvalidInput(
                f"part must be between 1 and {submission.chunks_total}",
                where="query parameter part",
            )
        data = self.blobs.get(bundle_key(submission.id, part))
        if data is None:
            raise NotFound(
                f"part {part} of the bundle of submission '{submission.id}' is not ready yet"
            )
        return data

    def _producer(self, caller: Caller) -> Producer:
        org_id = org_identity_id(self.settings.org_name)
        identity = caller.identity_id or org_id
        name = self.settings.org_name if identity == org_id else (caller.partner or "unknown")
        return Producer(identity_id=identity, name=name)


def _revocation(recorded: Revocation | None) -> dict[str, object] | None:
    """How a revoked submission says so: the reason, who and when (None if it was not)."""
    if recorded is None:
        return None
    at = recorded.at
    return {
        "reason": recorded.reason,
        "analyst": recorded.analyst,
        "at": format_stix(at) if isinstance(at, int) else None,
    }


def _producer_record(producer: Producer) -> SubmissionProducer:
    return SubmissionProducer(identity_id=producer.identity_id, name=producer.name)


def _producer_of(recorded: SubmissionProducer) -> Producer:
    return Producer(identity_id=recorded.identity_id, name=recorded.name)


__all__ = ["Accepted", "IngestService", "Report"]
