"""Adding objects to a collection (TAXII 2.1 section 5.5) and the status that follows it.

A posted envelope is parsed once (it must be JSON with an `objects` list).
Each object is then judged on its own: it must be a STIX 2.1 object that
`stix2` accepts (custom objects and properties allowed). The common shapes are
judged by steppe.stix.surely_valid, which accepts only what stix2 surely
accepts; anything else is parsed by stix2, whose message a refusal carries. An object that fails
becomes a failure in the status, with the reason; the others go to the one
write path (steppe.store.write_path), which stores them or refuses them under
the rules every producer keeps: the TLP rank, revocation is final, and a
partner posts only its own objects and versions of its own objects. A refusal
is a failure in the status too. Objects are stored as their producer sent
them: the body kept is the JSON of the dict parsed from the request, never a
re-serialisation by stix2.

* version: modified, else created, else (SCOs) the store's first date_added;
* an exact duplicate of a stored version is a success (section 5.5: no error);
* the success messages depend only on what the poster may read: "added" for
  a new object and a new version alike.

Envelopes of up to `sync_objects` objects are stored before the POST is
answered (status complete). Larger ones are kept as blobs of `part_objects`
objects each, one "taxii_add" job per part, and answered at once (status
pending); the worker stores each part and records its outcomes, and the
status is complete when every object has an outcome. The poster's owner key
and clearance travel in the status record, for the worker. The steps are the
one job runner's (steppe.jobs.runner); `EnvelopeAdding` is its kind of batch
for envelopes.

stix2 is imported here only, on first use: it is not needed to read, nor to
judge the common shapes.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import orjson

from steppe.access.caller import Caller
from steppe.errors import InvalidInput, NotFound, PayloadTooLarge
from steppe.jobs.runner import JobRunner, OpenBatch, PartDone, PartJob
from steppe.jobs.tasks import TAXII_ADD, correlate_message
from steppe.stix.bounds import check_envelope_size, object_problem
from steppe.stix.identities import org_identity_id
from steppe.stix.surely_valid import surely_valid
from steppe.stix.timestamps import format_stix, now_micros
from steppe.stix.versioning import version_of
from steppe.store.port import (
    BlobStore,
    CatalogStore,
    Collection,
    IdentityClaims,
    ObjectStore,
    StatusPart,
    StatusRecord,
    StatusStore,
    WorkKind,
)
from steppe.store.port.feed_index import FeedIndex
from steppe.store.port.objects import PutOutcome
from steppe.store.write_path import Candidate, WritePath, Writer, candidate
from steppe.taxii.error_resources import Unprocessable

logger = logging.getLogger(__name__)

# The job of one part: {"task": "taxii_add", "status_id": ..., "part": n}.
PART_JOB = PartJob(TAXII_ADD, "status_id", "part")
# Status resources are kept well beyond the 24 hours after processing that
# section 4.3 asks for, so that a queued envelope's status outlives its processing.
STATUS_KEPT_MICROS = 3 * 24 * 3600 * 1_000_000
# A failure's message is cut to this many characters (stix2's can be long).
MAX_MESSAGE = 200
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_STIX_ID = re.compile(rf"^([a-z0-9][a-z0-9-]*)--{_UUID}$")

Detail = tuple[str, str | None, str | None]  # (id, version, message), as StatusPart keeps them
# What is told of the sightings a POST stored anew (collection id, the sightings, their poster):
# steppe.distribution.sightings feeds them back into the scores of the indicators they sight.
SightingFeedback = Callable[[str, Sequence[Mapping[str, Any]], Writer], object]
STAFF = ("admin", "analyst")


def writer_for(caller: Caller) -> Writer:
    """Staff post as the organisation; a partner posts as itself, bound by ownership."""
    if caller.role in STAFF:
        return Writer(None, caller.clearance)
    return Writer(caller.partner_id or "", caller.clearance)


def _writer_meta(writer: Writer) -> dict[str, object]:
    return {"owner_id": writer.owner_id, "clearance": writer.clearance}


def _writer_of(record: StatusRecord) -> Writer:
    """The poster of a queued envelope, as accept recorded it.

    A status recorded before the write path kept its poster is treated as a
    partner's with the lowest clearance: the rules then hold, and no message
    says more than the least a poster may be told.
    """
    kept = record.meta.get("writer")
    if isinstance(kept, dict):
        owner = kept.get("owner_id")
        return Writer(
            owner if isinstance(owner, str) else None,
            int(kept.get("clearance", 0)),  # type: ignore[call-overload]
        )
    return Writer(record.owner, 0)


def part_key(status_id: str, part: int) -> str:
    return f"taxii/status/{status_id}/part-{part:05d}.json"


def parse_envelope(body: bytes, max_bytes: int) -> list[Any]:
    """The envelope's objects; 413, 400 or 422 when the body is not one."""
    if len(body) > max_bytes:
        raise PayloadTooLarge(
            f"the envelope is {len(body):,} bytes; this API root accepts at most {max_bytes:,} "
            "(max_content_length)",
            where="body",
        )
    try:
        envelope = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise InvalidInput(f"the body is not JSON: {error}", where="body") from None
    if not isinstance(envelope, dict):
        raise Unprocessable(
            'the body must be a TAXII envelope: a JSON object such as {"objects": [...]}',
            where="body",
        )
    objects = envelope.get("objects", [])
    if not isinstance(objects, list):
        raise Unprocessable(
            "the envelope's objects must be a list of STIX objects", where="objects"
        )
    return objects


class EnvelopeAdding:
    """Posted envelopes, stored now or in queued parts; the runner's kind of batch for them."""

    job = PART_JOB
    mark: WorkKind = "status"

    def __init__(
        self,
        *,
        statuses: StatusStore,
        catalog: CatalogStore,
        objects: ObjectStore,
        claims: IdentityClaims,
        feed_index: FeedIndex,
        blobs: BlobStore,
        runner: JobRunner,
        org_name: str,
        max_body_bytes: int,
        max_envelope_objects: int,
        sync_objects: int,
        sync_bytes: int,
        part_objects: int,
        correlate: bool,
        sighting_feedback: SightingFeedback | None = None,
    ) -> None:
        self.statuses = statuses
        self.sighting_feedback = sighting_feedback
        self.catalog = catalog
        self.blobs = blobs
        self.runner = runner
        self.writes = WritePath(objects, claims, org_identity_id(org_name), feed_index)
        self.max_body_bytes = max_body_bytes
        self.max_envelope_objects = max_envelope_objects
        # Envelopes up to sync_objects (and sync_bytes) are stored before the POST is
        # answered; larger ones are queued in parts of part_objects for the worker.
        self.sync_objects = sync_objects
        self.sync_bytes = sync_bytes
        self.part_objects = part_objects
        self.correlate = correlate

    def accept(
        self, owner: str, collection: Collection, body: bytes, writer: Writer
    ) -> tuple[StatusRecord, list[StatusPart]]:
        """Take a posted envelope: store it now or queue it; the status record and its parts.

        owner: the stable id of the posting partner (Caller.partner_id): only it reads the status;
        writer: on whose behalf the objects are written.
        """
        objects = parse_envelope(body, self.max_body_bytes)
        check_envelope_size(len(objects), self.max_envelope_objects)
        now = now_micros()
        record = StatusRecord(
            id=str(uuid.uuid4()),
            owner=owner,
            collection_id=collection.id,
            created=now,
            total=len(objects),
            expires=now + STATUS_KEPT_MICROS,
        )
        inline = len(objects) <= self.sync_objects and len(body) <= self.sync_bytes
        batch = _NewEnvelope(self, record, collection, writer)
        done = self.runner.start(batch, objects, part_size=self.part_objects, inline=inline)
        return batch.record_of, [] if done is None else [done.result]

    # -- the runner's kind of batch (steppe.jobs.runner.BatchKind) --------------------

    def run_part(self, batch_id: str, part: int) -> PartDone[StatusPart] | None:
        """Store one queued part and record its outcomes; None if there was nothing left to do."""
        store = self.statuses
        record = store.get_status(batch_id)
        if record is None:
            logger.warning("status %s is gone (expired?); part %d dropped", batch_id, part)
            return None
        if part in store.status_part_numbers(batch_id):
            return None  # a retried job whose first run got as far as recording
        data = self.blobs.get(part_key(batch_id, part))
        if data is None:
            raise NotFound(f"part {part} of status {batch_id} is missing from the blob store")
        objects = orjson.loads(data)
        collection = self.catalog.get_collection(record.collection_id)
        if collection is None:
            outcome = StatusPart(
                part,
                failures=tuple(
                    _failure(obj, i, format_stix(record.created), "the collection no longer exists")
                    for i, obj in enumerate(objects)
                ),
            )
        else:
            outcome = store_objects(
                self.writes,
                collection,
                part,
                objects,
                record.created,
                _writer_of(record),
                self.sighting_feedback,
            )
        store.record_status_part(batch_id, outcome)
        self.blobs.delete(part_key(batch_id, part))
        parts_total = int(record.meta.get("parts", 1))  # type: ignore[call-overload]
        if len(store.status_part_numbers(batch_id)) >= parts_total:
            # The envelope is all stored: correlate it as one (its relationships may
            # span parts). Two parts finishing together both queue it: harmless.
            return PartDone(outcome, self._correlation(batch_id, True))
        return PartDone(outcome)

    def fail_part(self, batch_id: str, part: int, error: str) -> None:
        """A part failed for good: each of its objects fails, so the status completes."""
        record = self.statuses.get_status(batch_id)
        data = self.blobs.get(part_key(batch_id, part))
        if record is None or data is None:
            logger.error("cannot record the failure of part %d of status %s", part, batch_id)
            return
        fallback = format_stix(record.created)
        message = f"could not be stored: {error}"
        failures = tuple(
            _failure(obj, i, fallback, message) for i, obj in enumerate(orjson.loads(data))
        )
        self.statuses.record_status_part(batch_id, StatusPart(part, failures=failures))

    def open_batch(self, batch_id: str) -> OpenBatch | None:
        record = self.statuses.get_status(batch_id)
        if record is None:  # expired: nobody can read it any more
            return None
        return OpenBatch(
            parts=int(record.meta.get("parts", 1)),  # type: ignore[call-overload]
            done=self.statuses.status_part_numbers(batch_id),
        )

    def run_inline_again(self, batch_id: str) -> PartDone[StatusPart]:
        # An envelope stored inline is recorded after its objects, without an open-work mark.
        raise RuntimeError(f"status {batch_id} was stored inline; there is nothing to run again")

    def _correlation(self, status_id: str, stored_any: object) -> list[dict[str, object]]:
        if self.correlate and stored_any:
            return [correlate_message("taxii", status_id=status_id)]
        return []


class _NewEnvelope:
    """An envelope being accepted, as the runner sees it (steppe.jobs.runner.NewBatch)."""

    # Stored inline, an envelope is recorded after its objects, without an open-work mark.
    marked_inline = False

    def __init__(
        self, kind: EnvelopeAdding, record: StatusRecord, collection: Collection, writer: Writer
    ) -> None:
        self.kind = kind
        self.record_of = record
        self.collection = collection
        self.writer = writer

    @property
    def batch_id(self) -> str:
        return self.record_of.id

    def part_key(self, part: int) -> str:
        return part_key(self.batch_id, part)

    def encode_part(self, items: Sequence[Any]) -> tuple[bytes, str]:
        return orjson.dumps(items), "application/json"

    def record(self, parts: int) -> None:
        self.record_of = replace(
            self.record_of, meta={"parts": parts, "writer": _writer_meta(self.writer)}
        )
        self.kind.statuses.create_status(self.record_of, dispatch_pending=True)

    def run_inline(self, items: Sequence[Any]) -> PartDone[StatusPart]:
        record = self.record_of
        part = store_objects(
            self.kind.writes,
            self.collection,
            1,
            items,
            record.created,
            self.writer,
            self.kind.sighting_feedback,
        )
        self.kind.statuses.create_status(record)
        self.kind.statuses.record_status_part(record.id, part)
        return PartDone(part, self.kind._correlation(record.id, part.successes))


# -- judging and storing objects ----------------------------------------------------


def store_objects(
    writes: WritePath,
    collection: Collection,
    part: int,
    objects: Sequence[Any],
    request_time: int,
    writer: Writer,
    sighting_feedback: SightingFeedback | None = None,
) -> StatusPart:
    """Judge each object, write the valid ones in one call, and say what happened to each.

    sighting_feedback: told of the sightings stored anew (not duplicates: a
    retried POST counts once).
    """
    fallback = format_stix(request_time)
    candidates: list[Candidate] = []
    failures: list[Detail] = []
    for index, obj in enumerate(objects):
        checked = check_object(obj, index, collection.unmarked_tlp, fallback)
        if isinstance(checked, Candidate):
            candidates.append(checked)
        else:
            failures.append(checked)
    result = writes.write(collection.id, candidates, writer)
    if sighting_feedback is not None:
        _feed_back(sighting_feedback, collection.id, candidates, result.outcomes, writer)
    successes = tuple(
        (item.outcome.id, format_stix(item.outcome.version), item.message) for item in result.stored
    )
    failures.extend(
        (
            refused.id,
            fallback if refused.version is None else format_stix(refused.version),
            refused.reason,
        )
        for refused in result.refused
    )
    return StatusPart(part, successes=successes, failures=tuple(failures))


def _feed_back(
    feedback: SightingFeedback,
    collection_id: str,
    candidates: Sequence[Candidate],
    outcomes: Sequence[PutOutcome],
    writer: Writer,
) -> None:
    new = {(put.id, put.version) for put in outcomes if put.outcome != "duplicate"}
    sightings = [
        orjson.loads(item.version.body)
        for item in candidates
        if item.version.type == "sighting" and (item.version.id, item.version.version) in new
    ]
    if not sightings:
        return
    try:
        feedback(collection_id, sightings, writer)
    except Exception:  # the sightings are stored; a score not moved must not fail the POST
        logger.exception("the feedback of %d sighting(s) failed", len(sightings))


def check_object(
    obj: Any, index: int, unmarked_tlp: int, fallback_version: str
) -> Candidate | Detail:
    """The candidate version to write, or a failure (id, version, message) saying why not."""
    if not isinstance(obj, dict):
        return (f"objects[{index}]", fallback_version, "not a JSON object")
    body = orjson.dumps(obj)  # before anything else sees the dict: stored exactly as received
    # The common shapes are judged fast; stix2 reads the rest (and words every refusal).
    surely = surely_valid(obj)
    if (problem := object_problem(obj, len(body), simple_pattern=surely)) is not None:
        return _failure(obj, index, fallback_version, problem)  # before stix2 reads it
    try:
        _identity(obj)
        if not surely:
            _validate(obj)
        version_of(obj)
    except Exception as error:  # stix2 signals invalid content with many exception types
        return _failure(obj, index, fallback_version, _reason(error))
    # stix2 never read a surely valid dict: it still is what `body` was made from.
    return candidate(obj, unmarked_tlp, body, body_is_obj=surely)


def _identity(obj: dict[str, Any]) -> tuple[str, str]:
    stix_type, object_id = obj.get("type"), obj.get("id")
    if not isinstance(stix_type, str) or not stix_type:
        raise ValueError("the object has no type")
    if not isinstance(object_id, str):
        raise ValueError("the object has no id")
    match = _STIX_ID.match(object_id)
    if match is None or match.group(1) != stix_type:
        raise ValueError(f"the id '{object_id}' is not of the form {stix_type}--<UUID>")
    return stix_type, object_id


def _validate(obj: dict[str, Any]) -> None:
    import stix2  # here, not at the top: the read path never loads it

    stix2.parse(obj, allow_custom=True, version="2.1")


def _reason(error: Exception) -> str:
    text = str(error) or type(error).__name__
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def _failure(obj: Any, index: int, fallback_version: str, message: str) -> Detail:
    if not isinstance(obj, dict):
        return (f"objects[{index}]", fallback_version, message)
    object_id = obj.get("id")
    version = obj.get("modified") or obj.get("created")
    return (
        object_id if isinstance(object_id, str) and object_id else f"objects[{index}]",
        version if isinstance(version, str) else fallback_version,
        message,
    )
