"""Submissions and their per-chunk results in the DynamoDB store.

A submission is one item; each chunk result is an item in the submission's
partition, written with a conditional put so that a retried job records
nothing twice. The list of submissions, newest first, is one Query (read
backwards) of a fixed partition sorted by (created, arrival, id); its entries
point at the submission items, which hold the current status.
"""

from __future__ import annotations

import itertools
import json
import zlib
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from steppe.errors import Conflict, NotFound
from steppe.stix.timestamps import now_micros
from steppe.store.aws import table_keys as keys
from steppe.store.aws.recovery import open_work_put
from steppe.store.aws.table import Item, Table, b, get_s, n, s
from steppe.store.port.access import legacy_partner_id
from steppe.store.port.submissions import (
    ChunkResult,
    Submission,
    SubmissionMeta,
    SubmissionStatus,
    SubmissionStore,
)

SPILL_BYTES = 300_000  # compressed chunk results above this go to S3

_arrivals = itertools.count()


class DynamoSubmissions(SubmissionStore):
    """SubmissionStore methods; mixed into DynamoStore."""

    _table: Table
    _put_blob: Callable[[str, bytes], None]
    _get_blob: Callable[[str], bytes | None]

    def create_submission(self, submission: Submission, dispatch_pending: bool = False) -> None:
        # Arrival order breaks ties between equal `created` instants.
        arrival = now_micros() * 1000 + next(_arrivals) % 1000
        item: Item = {
            "pk": s(keys.submission(submission.id)),
            "sk": s(keys.SUBMISSION_SK),
            "collection_id": s(submission.collection_id),
            "submitter": s(submission.submitter),
            "submitter_id": s(submission.submitter_id or legacy_partner_id(submission.submitter)),
            "created": n(submission.created),
            "chunks_total": n(submission.chunks_total),
            "observables": n(submission.observables),
            "meta": s(json.dumps(submission.meta.to_dict())),
        }
        if submission.status_override is not None:
            item["status_override"] = s(submission.status_override)
        listing: Item = {
            "pk": s(keys.SUBMISSIONS),
            "sk": s(keys.submission_listing_sk(submission.created, arrival, submission.id)),
            "id": s(submission.id),
        }
        writes: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._table.name,
                    "Item": item,
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {"Put": {"TableName": self._table.name, "Item": listing}},
        ]
        if dispatch_pending:
            writes.append(
                open_work_put(self._table.name, "submission", submission.id, submission.created)
            )
        try:
            self._table.client.transact_write_items(TransactItems=writes)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            raise Conflict(f"a submission with id '{submission.id}' already exists") from None

    def get_submission(self, submission_id: str) -> Submission | None:
        item = self._table.get(keys.submission(submission_id), keys.SUBMISSION_SK)
        return None if item is None else _submission(item)

    def set_submission_status(self, submission_id: str, status: SubmissionStatus | None) -> None:
        if status is None:
            self._update(submission_id, "REMOVE status_override", {})
        else:
            self._update(submission_id, "SET status_override = :v", {":v": s(status)})

    def update_submission_meta(self, submission_id: str, meta: SubmissionMeta) -> None:
        self._update(submission_id, "SET meta = :v", {":v": s(json.dumps(meta.to_dict()))})

    def _update(self, submission_id: str, update: str, values: dict[str, Any]) -> None:
        params: dict[str, Any] = {
            "TableName": self._table.name,
            "Key": {"pk": s(keys.submission(submission_id)), "sk": s(keys.SUBMISSION_SK)},
            "UpdateExpression": update,
            "ConditionExpression": "attribute_exists(pk)",
        }
        if values:
            params["ExpressionAttributeValues"] = values
        try:
            self._table.client.update_item(**params)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise NotFound(f"there is no submission with id '{submission_id}'") from None
            raise

    def record_chunk(self, submission_id: str, result: ChunkResult) -> bool:
        pk = keys.submission(submission_id)
        item: Item = {
            "pk": s(pk),
            "sk": s(keys.chunk_sk(result.chunk)),
            "counts": s(json.dumps(result.counts)),
        }
        objects = zlib.compress(json.dumps([list(pair) for pair in result.objects]).encode(), 6)
        if len(objects) > SPILL_BYTES:
            blob_key = keys.spilled_chunk(submission_id, result.chunk)
            self._put_blob(blob_key, objects)
            item["objects_blob"] = s(blob_key)
        else:
            item["objects"] = b(objects)
        if result.error is not None:
            item["error"] = s(result.error)
        try:
            self._table.client.transact_write_items(
                TransactItems=[
                    {
                        "ConditionCheck": {
                            "TableName": self._table.name,
                            "Key": {"pk": s(pk), "sk": s(keys.SUBMISSION_SK)},
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._table.name,
                            "Item": item,
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            codes = [r.get("Code") for r in exc.response.get("CancellationReasons") or []]
            if codes and codes[0] == "ConditionalCheckFailed":
                raise NotFound(f"there is no submission with id '{submission_id}'") from None
            if len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
                return False
            raise
        return True

    def chunk_results(self, submission_id: str, with_objects: bool = True) -> list[ChunkResult]:
        pk = keys.submission(submission_id)
        if with_objects:
            items = self._table.query_all(pk, prefix=keys.CHUNK_PREFIX)
        else:  # leave the (large) object lists where they are
            items = self._table.query_all(
                pk, prefix=keys.CHUNK_PREFIX, projection="pk, sk, counts, #e", names={"#e": "error"}
            )
        return [self._chunk(item, with_objects) for item in items]

    def _chunk(self, item: Item, with_objects: bool = True) -> ChunkResult:
        if not with_objects:
            packed = zlib.compress(b"[]")
        elif "objects" in item:
            packed = item["objects"]["B"]
        else:
            packed = self._get_blob(item["objects_blob"]["S"]) or zlib.compress(b"[]")
        pairs = json.loads(zlib.decompress(packed))
        return ChunkResult(
            chunk=int(item["sk"]["S"][len(keys.CHUNK_PREFIX) :]),
            counts=json.loads(item["counts"]["S"]),
            objects=tuple((oid, outcome) for oid, outcome in pairs),
            error=get_s(item, "error"),
        )

    def clear_chunks(self, submission_id: str) -> None:
        pk = keys.submission(submission_id)
        chunks = list(self._table.query_all(pk, prefix=keys.CHUNK_PREFIX, projection="pk, sk"))
        self._table.batch_write(deletes=[(pk, item["sk"]["S"]) for item in chunks])

    def list_submissions(self, limit: int = 100) -> list[Submission]:
        if limit < 1:
            return []
        ids: list[str] = []
        start: Item | None = None
        while len(ids) < limit:
            entries, start = self._table.query_page(
                keys.SUBMISSIONS, limit=limit - len(ids), forward=False, start=start
            )
            ids.extend(entry["id"]["S"] for entry in entries)
            if start is None:
                break
        found = self._table.batch_get((keys.submission(i), keys.SUBMISSION_SK) for i in ids)
        return [
            _submission(found[key])
            for i in ids
            if (key := (keys.submission(i), keys.SUBMISSION_SK)) in found
        ]


def _submission(item: Item) -> Submission:
    return Submission(
        id=item["pk"]["S"][len(keys.submission("")) :],
        collection_id=item["collection_id"]["S"],
        submitter=item["submitter"]["S"],
        created=int(item["created"]["N"]),
        chunks_total=int(item["chunks_total"]["N"]),
        observables=int(item["observables"]["N"]),
        meta=SubmissionMeta.from_dict(json.loads(item["meta"]["S"])),
        status_override=get_s(item, "status_override"),  # type: ignore[arg-type]
        submitter_id=get_s(item, "submitter_id") or legacy_partner_id(item["submitter"]["S"]),
    )
