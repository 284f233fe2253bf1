"""RecoveryStore on DynamoDB: open work and idempotency keys (see steppe.jobs.crash_recovery).

Open work is one item per record in the fixed partition UNDISPATCHED, written
in the same transaction as the record and deleted once its jobs are queued:
the partition holds only what is in flight, so a sweep reads it whole. A key
binding is one item per key (by its hash), expired by TTL.
"""

from __future__ import annotations

import hashlib
from typing import Any

from botocore.exceptions import ClientError

from steppe.store.aws.table import Item, Table, is_condition_failure, n, s
from steppe.store.port.recovery import OpenWork, RecoveryStore, SubmissionKey, WorkKind

UNDISPATCHED = "UNDISPATCHED"
_KEY_SK = "KEY"


def open_work_put(table: str, kind: WorkKind, record_id: str, created: int) -> dict[str, Any]:
    """The transaction item that records open work next to its record."""
    return {
        "Put": {
            "TableName": table,
            "Item": {
                "pk": s(UNDISPATCHED),
                "sk": s(f"{kind}#{record_id}"),
                "created": n(created),
                "available_at": n(created),
            },
        }
    }


def _key_pk(key: str) -> str:
    return "SUBKEY#" + hashlib.sha256(key.encode("utf-8")).hexdigest()


class DynamoRecovery(RecoveryStore):
    """RecoveryStore methods; mixed into DynamoStore."""

    _table: Table

    def take_undispatched(
        self, recorded_before: int, now: int, lease_until: int, limit: int = 100
    ) -> list[OpenWork]:
        due = sorted(
            (
                item
                for item in self._table.query_all(UNDISPATCHED)
                if int(item["created"]["N"]) < recorded_before
                and int(item["available_at"]["N"]) <= now
            ),
            key=lambda item: (int(item["created"]["N"]), item["sk"]["S"]),
        )
        taken: list[OpenWork] = []
        for item in due:
            if len(taken) >= limit:
                break
            try:  # another sweep may take it first: only one lease succeeds
                self._table.client.update_item(
                    TableName=self._table.name,
                    Key={"pk": item["pk"], "sk": item["sk"]},
                    UpdateExpression="SET available_at = :lease",
                    ConditionExpression="available_at = :seen",
                    ExpressionAttributeValues={
                        ":lease": n(lease_until),
                        ":seen": item["available_at"],
                    },
                )
            except ClientError as exc:
                if is_condition_failure(exc):
                    continue
                raise
            kind, _, record_id = item["sk"]["S"].partition("#")
            taken.append(OpenWork(kind, record_id, int(item["created"]["N"])))  # type: ignore[arg-type]
        return taken

    def mark_dispatched(self, kind: WorkKind, record_id: str) -> None:
        self._table.delete(UNDISPATCHED, f"{kind}#{record_id}")

    def bind_submission_key(self, binding: SubmissionKey, now: int) -> SubmissionKey:
        item: Item = {
            "pk": s(_key_pk(binding.key)),
            "sk": s(_KEY_SK),
            "submission_id": s(binding.submission_id),
            "digest": s(binding.digest),
            "expires": n(binding.expires),
            "expires_at": n(-(-binding.expires // 1_000_000)),  # TTL, epoch seconds
        }
        try:
            self._table.client.put_item(
                TableName=self._table.name,
                Item=item,
                ConditionExpression="attribute_not_exists(pk) OR expires <= :now",
                ExpressionAttributeValues={":now": n(now)},
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            found = self._table.get(_key_pk(binding.key), _KEY_SK)
            if found is None:  # expired and deleted by TTL in between: bind again
                return self.bind_submission_key(binding, now)
            return SubmissionKey(
                binding.key,
                found["submission_id"]["S"],
                found["digest"]["S"],
                int(found["expires"]["N"]),
            )
        return binding
