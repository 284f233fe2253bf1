"""Submissions: from an analyst's observations to stored STIX, in bounded chunks.

The flow, the same in both shapes:

1. `submit` validates the whole body first (bad input is refused and nothing is
   written), then archives the raw body verbatim in the blob store before
   anything else is stored, so an accepted submission can always be
   reprocessed and is never lost.
2. The observables are cut into chunks of `chunk_observables`. A submission
   of one chunk is processed before the answer (complete); a larger one
   stores each chunk as a blob, queues one job per chunk and is answered at
   once (queued, pending). No invocation ever processes more than one chunk.
   These steps are the one job runner's (steppe.jobs.runner): the service is
   its kind of batch for submissions.
3. `process_chunk` converts one chunk (plus the submission-level objects:
   campaign, targets...) through the kind's template, reconciles it with what
   the collection already holds (same id -> a new version or nothing),
   writes it in one store call, keeps the chunk's bundle as a blob and
   records the chunk's result; its correlation follows as a job of its own.
   Retrying a chunk is harmless.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial

import orjson

from steppe.access.bootstrap import default_collection
from steppe.access.caller import Caller
from steppe.access.collections import resolve_collection
from steppe.access.ownership import may_see_submission, visible_submission
from steppe.conversion.converter import DERIVED_IDS_SECRET, ConversionContext, Converter, Producer
from steppe.errors import Conflict, Forbidden, InvalidInput, NotFound, UnsupportedMediaType
from steppe.ingest.progress import SubmissionProgress, submission_progress
from steppe.jobs import crash_recovery
from steppe.jobs.runner import JobRunner, OpenBatch, PartDone, PartJob, part_count
from steppe.jobs.tasks import PROCESS_CHUNK, correlate_message
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
from steppe.observables.tool_fields import tool_observables
from steppe.stix.identities import org_identity_id
from steppe.stix.ids import derived_id
from steppe.stix.timestamps import now_micros
from steppe.stix.versioning import reconcile, version_of
from steppe.store.blob_keys import bundle_key
from steppe.store.latest import latest_versions
from steppe.store.port import (
    BlobStore,
    CatalogStore,
    ChunkResult,
    Collection,
    FalsePositiveStore,
    IdentityClaims,
    ObjectStore,
    SecretStore,
    Submission,
    SubmissionMeta,
    SubmissionProducer,
    SubmissionStore,
    WorkKind,
)
from steppe.store.port.feed_index import FeedIndex
from steppe.store.write_path import STEPPE, Candidate, Latest, WritePath, candidate
from steppe.templates.registry import TemplateRegistry

JSON_TYPES = ("application/json", "application/stix+json")
CSV_TYPES = ("text/csv", "application/csv")
# The job of one chunk: {"task": "process_chunk", "submission_id": ..., "chunk": n}.
CHUNK_JOB = PartJob(PROCESS_CHUNK, "submission_id", "chunk")


@dataclass(frozen=True, slots=True)
class Accepted:
    submission_id: str
    queued: bool  # False: complete before the answer; True: its chunks are queued


def chunk_key(submission_id: str, chunk: int) -> str:
    return f"submissions/{submission_id}/chunks/{chunk:05d}"


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


class IngestService:
    """Analyst submissions; also the runner's kind of batch for their chunks (BatchKind)."""

    job = CHUNK_JOB
    mark: WorkKind = "submission"

    def __init__(
        self,
        *,
        submissions: SubmissionStore,
        keys: crash_recovery.KeyBindings,
        catalog: CatalogStore,
        objects: ObjectStore,
        claims: IdentityClaims,
        feed_index: FeedIndex,
        index: FalsePositiveStore,
        secrets: SecretStore,
        blobs: BlobStore,
        runner: JobRunner,
        org_name: str,
        api_root: str,
        max_observables: int,
        sync_observables: int,
        chunk_observables: int,
        correlate: bool,
        registry: TemplateRegistry | None = None,
    ) -> None:
        self.submissions = submissions
        self.keys = keys
        self.catalog = catalog
        self.objects = objects
        self.index = index
        self.secrets = secrets
        self.blobs = blobs
        self.runner = runner
        self.org_name = org_name
        self.api_root = api_root
        self.max_observables = max_observables
        self.sync_observables = sync_observables
        self.chunk_observables = chunk_observables
        self.correlate = correlate
        self.registry = registry or TemplateRegistry.load()
        self.converter = Converter(self.registry)
        self.writes = WritePath(objects, claims, org_identity_id(org_name), feed_index)
        self._id_secret: bytes | None = None

    @property
    def id_secret(self) -> bytes:
        """The installation's secret for derived ids, read from the store once per service."""
        if self._id_secret is None:
            self._id_secret = self.secrets.server_secret(DERIVED_IDS_SECRET)
        return self._id_secret

    # -- accepting ---------------------------------------------------------------

    def parse(
        self, body: bytes, content_type: str | None, params: Mapping[str, str]
    ) -> SubmissionRequest:
        kind = media_type(content_type)
        if not body:
            raise InvalidInput("the request body is empty", where="body")
        limit = self.max_observables
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
        root = self.api_root
        if requested:
            try:
                collection = resolve_collection(self.catalog, root, requested, where="collection")
            except NotFound as missing:  # a reference inside the submitted report
                raise InvalidInput(missing.message, where="collection") from None
        else:
            found = default_collection(self.catalog, root)
            if found is None:
                raise NotFound(
                    "this server has no default collection; name one", where="collection"
                )
            collection = found
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
            submission_id, found = crash_recovery.bind_submission(
                self.keys, *idempotency, submission_id
            )
            if found is not None:  # a retry of a request whose answer was lost
                return Accepted(submission_id, self._pending(found))
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
        collection = self.catalog.get_collection(submission.collection_id)
        if collection is None:
            raise NotFound(f"the collection of submission '{submission_id}' no longer exists")
        self.submissions.clear_chunks(submission_id)
        self.submissions.set_submission_status(submission_id, None)
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
        size = self.chunk_observables
        observables = request.observables
        chunks = part_count(len(observables), size)
        inline = len(observables) <= self.sync_observables and chunks == 1
        meta = replace(
            meta,
            report=report_to_dict(request.report),
            # Reprocessing keeps the first processing time, so unchanged input yields
            # identical objects (nothing to write) and changed ones newer versions.
            now=meta.now or now_micros(),
            run=crash_recovery.new_run(),
            chunk_keys=()
            if inline
            else tuple(chunk_key(submission_id, n) for n in range(1, chunks + 1)),
        )
        record = Submission(
            id=submission_id,
            collection_id=collection.id,
            submitter=submitter,
            submitter_id=submitter_id,
            created=meta.now,
            chunks_total=chunks,
            observables=len(observables),
            meta=meta,
        )
        batch = _NewSubmission(self, record, existing is not None)
        self.runner.start(batch, observables, part_size=size, inline=inline)
        return Accepted(submission_id, not inline)

    def write_record(self, submission: Submission, existing: bool) -> None:
        """Record a submission being started (a new one with its open-work mark)."""
        if existing:
            self.submissions.update_submission_meta(submission.id, submission.meta)
        else:
            self.submissions.create_submission(submission, dispatch_pending=True)

    # -- processing ----------------------------------------------------------------

    def process_chunk(
        self, submission_id: str, chunk: int, observables: Sequence[Observable] | None = None
    ) -> ChunkResult:
        """Store one chunk, record its result and queue its correlation."""
        done = self.store_chunk(submission_id, chunk, observables)
        self.runner.follow_up(done)
        return done.result

    def store_chunk(
        self, submission_id: str, chunk: int, observables: Sequence[Observable] | None = None
    ) -> PartDone[ChunkResult]:
        """Store one chunk and record its result; its correlation is the follow-up."""
        submission = self._submission(submission_id)
        meta = submission.meta
        started, rerun = crash_recovery.chunk_started(self.blobs, submission_id, meta.run, chunk)
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
            organisation=Producer(org_identity_id(self.org_name), self.org_name),
        )
        produced = self.converter.header_objects(report, ctx)
        produced += self.converter.chunk_objects(report, observables, chunk, ctx)
        # The same object can come out twice (a country both a target's and a source's).
        desired = list({obj["id"]: obj for obj in reversed(produced)}.values())[::-1]
        # Values analysts declared false positives stay out unless the report overrides.
        skipped = 0
        if not report.override_false_positives:
            false_positives = publishing.false_positives_among(
                self.index, [*observables, *tool_observables(report.tools)]
            )
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
            result = crash_recovery.settle_rerun(
                self.submissions, self.objects, submission, result, started
            )
        self.submissions.record_chunk(submission_id, result)
        crash_recovery.chunk_recorded(self.blobs, submission_id, meta.run, chunk)
        if not self.correlate:
            return PartDone(result)
        return PartDone(
            result, [correlate_message("submission", submission_id=submission_id, chunk=chunk)]
        )

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
        for obj in desired:
            object_id = obj["id"]
            stored = existing.get(object_id)
            if stored is not None:
                [item] = reconcile([obj], {object_id: stored[0]})
                if not item.changed:
                    bodies.append(stored[1])
                    continue
                obj = item.obj
            written = candidate(obj, default_rank)
            to_write.append(written)
            bodies.append(written.version.body)
        return to_write, bodies

    def record_failure(self, submission_id: str, chunk: int, error: str) -> None:
        """A chunk that failed for good: the submission shows it, the raw body stays."""
        self.submissions.record_chunk(
            submission_id, ChunkResult(chunk=chunk, counts={}, objects=(), error=error)
        )

    # -- the runner's kind of batch (steppe.jobs.runner.BatchKind) --------------------

    def run_part(self, batch_id: str, part: int) -> PartDone[ChunkResult]:
        return self.store_chunk(batch_id, part)

    def fail_part(self, batch_id: str, part: int, error: str) -> None:
        self.record_failure(batch_id, part, error)

    def open_batch(self, batch_id: str) -> OpenBatch | None:
        submission = self.submissions.get_submission(batch_id)
        if submission is None or submission.status_override is not None:
            return None
        done = self.submissions.chunk_results(batch_id, with_objects=False)
        return OpenBatch(
            parts=submission.chunks_total,
            done=frozenset(result.chunk for result in done),
            inline=not submission.meta.chunk_keys,
        )

    def run_inline_again(self, batch_id: str) -> PartDone[ChunkResult]:
        """A submission processed inline whose process died before the answer: its
        one chunk is the whole archived body."""
        meta = self._submission(batch_id).meta
        raw = self.blobs.get(str(meta.raw_key))
        if raw is None:
            raise RuntimeError(f"the archived body of submission {batch_id} is missing")
        request = self.parse(raw, meta.content_type, dict(meta.params or {}))
        return self.store_chunk(batch_id, 1, observables=request.observables)

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
            for object_id, record in latest_versions(self.objects, collection_id, ids).items()
        }

    # -- reading -------------------------------------------------------------------

    def _pending(self, submission: Submission) -> bool:
        if submission.status_override is not None:
            return submission.status_override == "pending"
        done = len(self.submissions.chunk_results(submission.id, with_objects=False))
        return done < submission.chunks_total

    def _submission(self, submission_id: str) -> Submission:
        submission = self.submissions.get_submission(submission_id)
        if submission is None:
            raise NotFound(f"there is no submission '{submission_id}'", where="submission_id")
        return submission

    def submission(self, submission_id: str) -> Submission:
        """The submission, whoever submitted it (the command line's view); 404 if there is none."""
        return self._submission(submission_id)

    def visible_submission(self, submission_id: str, caller: Caller) -> Submission:
        """The submission, if the caller may see it; 404 otherwise, as if it did not exist."""
        return visible_submission(self.submissions, submission_id, caller)

    def visible_submissions(self, caller: Caller, limit: int) -> list[Submission]:
        """The latest submissions the caller may see (its own; an admin's: all), at most `limit`."""
        caller.require_authenticated()
        recent = self.submissions.list_submissions(limit=limit if caller.role == "admin" else 500)
        return [s for s in recent if may_see_submission(caller, s)][:limit]

    def describe(self, submission: Submission) -> SubmissionProgress:
        """How far the submission got: cheap to poll (see steppe.ingest.progress)."""
        return submission_progress(self.submissions, self.catalog, submission)

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
        org_id = org_identity_id(self.org_name)
        identity = caller.identity_id or org_id
        name = self.org_name if identity == org_id else (caller.partner or "unknown")
        return Producer(identity_id=identity, name=name)


def _producer_record(producer: Producer) -> SubmissionProducer:
    return SubmissionProducer(identity_id=producer.identity_id, name=producer.name)


def _producer_of(recorded: SubmissionProducer) -> Producer:
    return Producer(identity_id=recorded.identity_id, name=recorded.name)


class _NewSubmission:
    """A submission being started, as the runner sees it (steppe.jobs.runner.NewBatch)."""

    kind: IngestService
    # Its record (with the open-work mark) is written before its one chunk is stored inline.
    marked_inline = True

    def __init__(self, service: IngestService, record: Submission, existing: bool) -> None:
        self.kind = service
        self.submission = record
        self.existing = existing

    @property
    def batch_id(self) -> str:
        return self.submission.id

    def part_key(self, part: int) -> str:
        return chunk_key(self.batch_id, part)

    def encode_part(self, items: Sequence[Observable]) -> tuple[bytes, str]:
        return encode_observables(items), "application/octet-stream"

    def record(self, parts: int) -> None:
        self.kind.write_record(self.submission, self.existing)

    def run_inline(self, items: Sequence[Observable]) -> PartDone[ChunkResult]:
        self.kind.write_record(self.submission, self.existing)
        return self.kind.store_chunk(self.batch_id, 1, observables=items)


__all__ = ["Accepted", "IngestService", "Report"]
