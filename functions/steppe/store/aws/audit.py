"""The audit trail of TAXII requests in the DynamoDB store.

An append is one PutItem into the partition of its UTC day, AUDIT#<day>,
sorted by <time>#<request id>; the TTL attribute `expires_at` lets DynamoDB
delete it a year later. Day partitions spread the writes (no partition
grows for ever) and make a listing a bounded walk: from the day of `until`
(today, UTC, without one) backwards, each day read newest first, until
`limit` records are found or the day of `since` is passed; without `since`,
the walk stops a retention period (plus TTL's lag) before its first day.
A quiet stretch costs one small Query per empty day, so a walk costs at most
about 370 Queries; days are read a few at a time, in parallel, once the
first ones come up short. Records with the same time come back in
descending request_id order.

A partner filter (by name or by id) is a FilterExpression: DynamoDB reads, and bills, every
record of the walked days within the time range, matching or not, and only
then drops the other partners' records. Listing a rare partner's requests
costs about as much as listing everyone's over the same days.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from steppe.stix.timestamps import now_micros
from steppe.store.aws import table_keys as keys
from steppe.store.aws.table import Item, Table, get_n, get_s, n, s
from steppe.store.port.audit import AuditRecord, AuditStore

RETENTION_DAYS = 366  # the TTL: a record is kept at least a year
# TTL deletes late (typically within a few days): a walk without `since`
# covers that many more days, so nothing still in the table is skipped.
TTL_LAG_DAYS = 2
_MAX_WINDOW = 8  # day partitions read at once
_FILTERED_PAGE = 100  # items read per Query when a partner filter drops some


def _item(record: AuditRecord) -> Item:
    item: Item = {
        "pk": s(keys.audit(keys.audit_day(record.time))),
        "sk": s(keys.audit_sk(record.time, record.request_id)),
        "time": n(record.time),
        "request_id": s(record.request_id),
        "method": s(record.method),
        "path": s(record.path),
        "status": n(record.status),
        "objects": n(record.objects),
        "detail": s(record.detail),
        "expires_at": n(record.time // 1_000_000 + RETENTION_DAYS * 86_400),
    }
    if record.partner is not None:
        item["partner"] = s(record.partner)
    if record.partner_id is not None:
        item["partner_id"] = s(record.partner_id)
    if record.collection_id is not None:
        item["collection_id"] = s(record.collection_id)
    return item


def _record(item: Item) -> AuditRecord:
    return AuditRecord(
        time=int(item["time"]["N"]),
        request_id=item["request_id"]["S"],
        partner=get_s(item, "partner"),
        method=item["method"]["S"],
        path=item["path"]["S"],
        status=int(item["status"]["N"]),
        collection_id=get_s(item, "collection_id"),
        objects=get_n(item, "objects", 0) or 0,
        detail=get_s(item, "detail", "") or "",
        partner_id=get_s(item, "partner_id"),
    )


class DynamoAudit(AuditStore):
    """AuditStore methods; mixed into DynamoStore."""

    _table: Table

    def append_audit(self, record: AuditRecord) -> None:
        self._table.put(_item(record))

    def list_audit(
        self,
        *,
        since: int | None = None,
        until: int | None = None,
        partner: str | None = None,
        limit: int = 100,
        partner_id: str | None = None,
    ) -> list[AuditRecord]:
        if limit < 1 or (since is not None and until is not None and since >= until):
            return []
        newest = keys.audit_day(now_micros() if until is None else until - 1)
        oldest = newest - RETENTION_DAYS - TTL_LAG_DAYS
        if since is not None:
            oldest = max(oldest, keys.audit_day(since))
        found: list[Item] = []
        day, window = newest, 1
        while day >= oldest and len(found) < limit:
            days = list(range(day, max(day - window, oldest - 1), -1))
            read = partial(self._audit_day, since, until, partner, partner_id, limit - len(found))
            for items in self._table.map(read, days):
                found.extend(items)
                if len(found) >= limit:
                    break
            day -= len(days)
            window = min(window * 2, _MAX_WINDOW)
        return [_record(item) for item in found[:limit]]

    def _audit_day(
        self,
        since: int | None,
        until: int | None,
        partner: str | None,
        partner_id: str | None,
        wanted: int,
        day: int,
    ) -> list[Item]:
        """Up to `wanted` records of one day within [since, until), newest first."""
        start = day * keys.DAY_MICROS
        end = start + keys.DAY_MICROS  # exclusive
        if since is not None:
            start = max(start, since)
        if until is not None:
            end = min(end, until)
        # Every sort key of an instant t is pad(t) + "#" + id, and "$" sorts after "#".
        between = (keys.pad(start), keys.pad(end - 1) + "$")
        conditions: list[str] = []
        values: dict[str, Any] = {}
        names: dict[str, str] = {}
        if partner is not None:
            conditions.append("#partner = :partner")
            values[":partner"] = s(partner)
            names["#partner"] = "partner"
        if partner_id is not None:
            conditions.append("#partner_id = :partner_id")
            values[":partner_id"] = s(partner_id)
            names["#partner_id"] = "partner_id"
        where = (" AND ".join(conditions), values) if conditions else None
        found: list[Item] = []
        cursor: Item | None = None
        while len(found) < wanted:
            page = wanted - len(found)
            items, cursor = self._table.query_page(
                keys.audit(day),
                between=between,
                start=cursor,
                limit=page if where is None else max(page, _FILTERED_PAGE),
                forward=False,
                names=names or None,
                where=where,
            )
            found.extend(items)
            if cursor is None:
                break
        return found[:wanted]
