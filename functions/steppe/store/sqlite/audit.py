"""The audit trail of TAXII requests in the embedded store.

An append is one INSERT in its own implicit transaction (one sqlite3 step:
it runs on every TAXII request). A listing reads one of two indexes, on time
on (partner, time) or on (partner_id, time), backwards from `until`, and stops after `limit`
entries, so its cost does not grow with the size of the trail; the rows come
back in one aggregated row (see objects.py on row-by-row reads).
Records are kept until the file is deleted: nothing here expires them.
"""

from __future__ import annotations

from operator import itemgetter

import orjson

from steppe.store.port.audit import AuditRecord, AuditStore
from steppe.store.sqlite.database import Database

_FIELDS = (
    "time, request_id, partner, method, path, status, collection_id, objects, detail, partner_id"
)
_APPEND = f"INSERT INTO audit ({_FIELDS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_NEWEST = """
SELECT json_group_array(json_array(seq, {fields}))
FROM (
    SELECT seq, {fields} FROM audit INDEXED BY {index}
    WHERE {partner} time >= :since AND time < :until
    ORDER BY time DESC, seq DESC
    LIMIT :limit
)
"""
_NEWEST_ALL = _NEWEST.format(fields=_FIELDS, index="audit_by_time", partner="")
_NEWEST_OF_PARTNER = _NEWEST.format(
    fields=_FIELDS, index="audit_by_partner", partner="partner = :partner AND"
)
_NEWEST_OF_PARTNER_ID = _NEWEST.format(
    fields=_FIELDS, index="audit_by_partner_id", partner="partner_id = :partner_id AND"
)
# Open ends of the time range, as bounds the indexes can use.
_MIN_TIME = -(2**63)
_MAX_TIME = 2**63 - 1


class SqliteAudit(AuditStore):
    """AuditStore methods; mixed into SqliteStore."""

    _db: Database

    def append_audit(self, record: AuditRecord) -> None:
        self._db.write_one(
            _APPEND,
            (
                record.time,
                record.request_id,
                record.partner,
                record.method,
                record.path,
                record.status,
                record.collection_id,
                record.objects,
                record.detail,
                record.partner_id,
            ),
        )

    def list_audit(
        self,
        *,
        since: int | None = None,
        until: int | None = None,
        partner: str | None = None,
        limit: int = 100,
        partner_id: str | None = None,
    ) -> list[AuditRecord]:
        if limit < 1:
            return []
        params: dict[str, object] = {
            "since": _MIN_TIME if since is None else since,
            "until": _MAX_TIME if until is None else until,
            "limit": limit,
        }
        if partner_id is not None:
            sql, params["partner_id"] = _NEWEST_OF_PARTNER_ID, partner_id
            if partner is not None:
                sql = sql.replace("AND time", "AND partner = :partner AND time", 1)
                params["partner"] = partner
        elif partner is not None:
            sql, params["partner"] = _NEWEST_OF_PARTNER, partner
        else:
            sql = _NEWEST_ALL
        [found] = self._db.connection().execute(sql, params).fetchone()
        rows = orjson.loads(found)
        # SQLite does not promise the order in which an aggregate sees rows.
        rows.sort(key=itemgetter(1, 0), reverse=True)  # time, then arrival: newest first
        return [AuditRecord(*row[1:]) for row in rows]
