"""TAXII status resources and their per-batch parts in the DynamoDB store.

A status is one item and each part one more item in the status's partition
(PART#<n> sorts before STATUS, so one Query reads the parts and the status
together). Every item carries the TTL attribute `expires_at`, in epoch
seconds, a day past the status's `expires`: DynamoDB deletes them some time
after that (TTL runs late, by up to a few days), and until then every read
compares `expires` with the clock, so an expired status is never returned.

A part holds up to a thousand successes and failures with their messages:
its outcomes are stored zlib-compressed, and spill to S3 when even that is
too large for an item (DynamoDB's limit is 400 KB).
"""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Callable
from typing import Any

import orjson
from botocore.exceptions import ClientError

from steppe.errors import Conflict, NotFound
from steppe.stix.timestamps import now_micros
from steppe.store.aws import table_keys as keys
from steppe.store.aws.recovery import open_work_put
from steppe.store.aws.table import Item, Table, b, is_condition_failure, n, s
from steppe.store.port.statuses import StatusPart, StatusRecord, StatusStore

SPILL_BYTES = 300_000  # compressed outcomes above this go to S3
TTL_GRACE_SECONDS = 86_400  # items outlive `expires` by a day before TTL may delete them

Outcomes = tuple[tuple[str, str | None, str | None], ...]


def expires_at(expires: int) -> int:
    """The TTL attribute (epoch seconds) of the items of a status expiring at `expires` (µs)."""
    return -(-expires // 1_000_000) + TTL_GRACE_SECONDS


class DynamoStatuses(StatusStore):
    """StatusStore methods; mixed into DynamoStore."""

    _table: Table
    _put_blob: Callable[[str, bytes], None]
    _get_blob: Callable[[str], bytes | None]
    _delete_blob: Callable[[str], None]

    def create_status(self, record: StatusRecord, dispatch_pending: bool = False) -> None:
        # An id that is still in the table conflicts, even past its expiry:
        # its parts are still there too (ids are UUIDv4s: this never happens
        # by chance).
        item: Item = {
            "pk": s(keys.status(record.id)),
            "sk": s(keys.STATUS_SK),
            "owner": s(record.owner),
            "collection_id": s(record.collection_id),
            "created": n(record.created),
            "total": n(record.total),
            "expires": n(record.expires),
            "meta": s(orjson.dumps(record.meta).decode()),
            "expires_at": n(expires_at(record.expires)),
        }
        if dispatch_pending:
            self._create_with_open_work(record, item)
            return
        try:
            self._table.put(item, "attribute_not_exists(pk)")
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            raise Conflict(f"a status with id '{record.id}' already exists") from None

    def _create_with_open_work(self, record: StatusRecord, item: Item) -> None:
        try:
            self._table.client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table.name,
                            "Item": item,
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    open_work_put(self._table.name, "status", record.id, record.created),
                ]
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            raise Conflict(f"a status with id '{record.id}' already exists") from None

    def get_status(self, status_id: str) -> StatusRecord | None:
        item = self._table.get(keys.status(status_id), keys.STATUS_SK)
        return None if item is None or _expired(item) else _status(item)

    def record_status_part(self, status_id: str, part: StatusPart) -> bool:
        pk = keys.status(status_id)
        status = self._table.get(pk, keys.STATUS_SK)
        if status is None or _expired(status):
            raise NotFound(f"there is no status with id '{status_id}'")
        # Nothing deletes a status before its TTL, which is a day past
        # `expires`: a conditional put of the part alone is enough from here.
        item: Item = {
            "pk": s(pk),
            "sk": s(keys.status_part_sk(part.part)),
            "expires_at": status["expires_at"],
        }
        outcomes = zlib.compress(
            orjson.dumps({"successes": part.successes, "failures": part.failures}), 6
        )
        blob_key = None
        if len(outcomes) > SPILL_BYTES:
            # A retried batch may carry other messages: each write spills to its
            # own key, so the first recorded part keeps its own outcomes.
            blob_key = keys.spilled_status_part(status_id, part.part, uuid.uuid4().hex)
            self._put_blob(blob_key, outcomes)
            item["outcomes_blob"] = s(blob_key)
        else:
            item["outcomes"] = b(outcomes)
        try:
            self._table.put(item, "attribute_not_exists(pk)")
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            if blob_key is not None:
                self._delete_blob(blob_key)
            return False
        return True

    def status_parts(self, status_id: str) -> list[StatusPart]:
        return [self._part(item) for item in self._live_part_items(status_id)]

    def status_part_numbers(self, status_id: str) -> frozenset[int]:
        # Without decoding the outcomes (nor reading those kept in S3).
        prefix = len(keys.STATUS_PART_PREFIX)
        return frozenset(int(item["sk"]["S"][prefix:]) for item in self._live_part_items(status_id))

    def _live_part_items(self, status_id: str) -> list[Item]:
        """The status's part items, none if it expired: one Query reads the parts and,
        last, the status itself."""
        parts: list[Item] = []
        live = False
        for item in self._table.query_all(keys.status(status_id)):
            sk = item["sk"]["S"]
            if sk == keys.STATUS_SK:
                live = not _expired(item)
            elif sk.startswith(keys.STATUS_PART_PREFIX):
                parts.append(item)
        return parts if live else []

    def _part(self, item: Item) -> StatusPart:
        if "outcomes" in item:
            packed = item["outcomes"]["B"]
        else:
            blob_key = item["outcomes_blob"]["S"]
            packed = self._get_blob(blob_key)
            if packed is None:
                raise RuntimeError(
                    f"the outcomes of a status part are missing from S3 ({blob_key})"
                )
        outcomes: dict[str, Any] = orjson.loads(zlib.decompress(packed))
        return StatusPart(
            part=int(item["sk"]["S"][len(keys.STATUS_PART_PREFIX) :]),
            successes=_outcomes(outcomes["successes"]),
            failures=_outcomes(outcomes["failures"]),
        )


def _expired(item: Item) -> bool:
    return int(item["expires"]["N"]) < now_micros()


def _outcomes(entries: list[list[str | None]]) -> Outcomes:
    return tuple((oid, version, message) for oid, version, message in entries)  # type: ignore[misc]


def _status(item: Item) -> StatusRecord:
    return StatusRecord(
        id=item["pk"]["S"][len(keys.status("")) :],
        owner=item["owner"]["S"],
        collection_id=item["collection_id"]["S"],
        created=int(item["created"]["N"]),
        total=int(item["total"]["N"]),
        expires=int(item["expires"]["N"]),
        meta=orjson.loads(item["meta"]["S"]),
    )
