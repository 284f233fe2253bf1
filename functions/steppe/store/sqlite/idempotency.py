"""A Powertools idempotency persistence layer over the embedded SQLite file.

It keeps the DynamoDB layer's conditional semantics: a put succeeds only when
no record exists, the record has expired, or it is INPROGRESS and its
in-progress expiry has passed; otherwise it raises
IdempotencyItemAlreadyExistsError carrying the stored record. The condition
and the write are one UPSERT statement inside a write transaction, so of two
concurrent puts of one key exactly one wins.
"""

from __future__ import annotations

import datetime as dt

from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import (
    STATUS_CONSTANTS,
    DataRecord,
)

from steppe.store.sqlite.store import SqliteStore

_COLUMNS = "key, status, expiry, in_progress_expiry, data, validation"
_PUT = f"""
INSERT INTO idempotency ({_COLUMNS})
VALUES (:key, :status, :expiry, :in_progress_expiry, NULL, :validation)
ON CONFLICT (key) DO UPDATE SET
    status = excluded.status,
    expiry = excluded.expiry,
    in_progress_expiry = excluded.in_progress_expiry,
    data = NULL,
    validation = excluded.validation
WHERE idempotency.expiry < :now
   OR (idempotency.status = :in_progress
       AND idempotency.in_progress_expiry IS NOT NULL
       AND idempotency.in_progress_expiry < :now_ms)
"""
_UPDATE = f"""
INSERT INTO idempotency ({_COLUMNS}) VALUES (:key, :status, :expiry, NULL, :data, :validation)
ON CONFLICT (key) DO UPDATE SET
    status = excluded.status,
    expiry = excluded.expiry,
    data = excluded.data,
    validation = coalesce(excluded.validation, idempotency.validation)
"""


class SqliteIdempotencyLayer(BasePersistenceLayer):
    """Idempotency records in the `idempotency` table of steppe.db."""

    def __init__(self, store: SqliteStore) -> None:
        super().__init__()
        self._db = store.database

    def _record(self, row: tuple) -> DataRecord:
        key, status, expiry, in_progress_expiry, data, validation = row
        return DataRecord(
            idempotency_key=key,
            status=status,
            expiry_timestamp=expiry,
            in_progress_expiry_timestamp=in_progress_expiry,
            response_data=data or "",
            payload_hash=validation or "",
        )

    def _read(self, idempotency_key: str) -> DataRecord | None:
        row = (
            self._db.connection()
            .execute(f"SELECT {_COLUMNS} FROM idempotency WHERE key = ?", (idempotency_key,))
            .fetchone()
        )
        return None if row is None else self._record(row)

    def _get_record(self, idempotency_key: str) -> DataRecord:
        record = self._read(idempotency_key)
        if record is None:
            raise IdempotencyItemNotFoundError
        return record

    def _validation(self, data_record: DataRecord) -> str | None:
        if self.payload_validation_enabled and data_record.payload_hash:
            return data_record.payload_hash
        return None

    def _put_record(self, data_record: DataRecord) -> None:
        now = dt.datetime.now().timestamp()
        with self._db.write() as conn:
            written = conn.execute(
                _PUT,
                {
                    "key": data_record.idempotency_key,
                    "status": data_record.status,
                    "expiry": data_record.expiry_timestamp,
                    "in_progress_expiry": data_record.in_progress_expiry_timestamp,
                    "validation": self._validation(data_record),
                    "now": int(now),
                    "in_progress": STATUS_CONSTANTS["INPROGRESS"],
                    "now_ms": int(now * 1000),
                },
            ).rowcount
            existing = None if written else self._read(data_record.idempotency_key)
        if existing is not None:
            # As the DynamoDB layer does with ReturnValuesOnConditionCheckFailure.
            self._validate_payload(data_payload=data_record, stored_data_record=existing)
            self._save_to_cache(data_record=existing)
            raise IdempotencyItemAlreadyExistsError(old_data_record=existing)

    def _update_record(self, data_record: DataRecord) -> None:
        with self._db.write() as conn:
            conn.execute(
                _UPDATE,
                {
                    "key": data_record.idempotency_key,
                    "status": data_record.status,
                    "expiry": data_record.expiry_timestamp,
                    "data": data_record.response_data,
                    "validation": self._validation(data_record),
                },
            )

    def _delete_record(self, data_record: DataRecord) -> None:
        with self._db.write() as conn:
            conn.execute("DELETE FROM idempotency WHERE key = ?", (data_record.idempotency_key,))

    def release_in_progress(self) -> int:
        """At start-up: requests in progress belonged to a process that is gone.

        Their records expire now, so a retry runs at once (and finds the
        submission its key is bound to) instead of waiting out the dead
        request's time.
        """
        with self._db.write() as conn:
            return conn.execute(
                "UPDATE idempotency SET in_progress_expiry = 0 WHERE status = ?",
                (STATUS_CONSTANTS["INPROGRESS"],),
            ).rowcount

    def purge_expired(self) -> int:
        """Remove expired records (DynamoDB's TTL does this on AWS)."""
        with self._db.write() as conn:
            return conn.execute(
                "DELETE FROM idempotency WHERE expiry < ?", (int(dt.datetime.now().timestamp()),)
            ).rowcount
