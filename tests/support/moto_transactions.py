"""moto's TransactWriteItems, made to cost what the transaction touches.

moto emulates a transaction's all-or-nothing by deep-copying every table it
touches before applying it, and putting the copies back if any action fails.
A test table holds thousands of items, and steppe's feed index writes one
transaction per 20 entries, so a 1,000-observable submission spent most of
its time copying. This keeps moto's own implementation of every action and
its checks, and replaces only the snapshot: the items the transaction names
are copied before it runs and restored if it fails, which is the same
all-or-nothing for a backend that serves one call at a time (tests/support
serialises the calls of each moto backend).
"""

from __future__ import annotations

import copy
import threading
import types
from typing import Any

from moto.dynamodb import models

_original = models.DynamoDBBackend.transact_write_items
_lock = threading.Lock()
# What the original sees as the `copy` module: deepcopy hands the table back
# itself, so its own rollback (restoring "the copy") changes nothing and the
# item snapshots below do the undoing.
_NO_TABLE_COPY = types.SimpleNamespace(deepcopy=lambda value: value)


def _key_of(backend: Any, op_type: str, op: dict[str, Any]) -> dict[str, Any] | None:
    table = backend.tables.get(op.get("TableName"))
    if table is None:
        return None
    if op_type != "Put":
        return op.get("Key")
    attrs = op.get("Item") or {}
    key = {table.hash_key_attr: attrs.get(table.hash_key_attr)}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs.get(table.range_key_attr)
    return key


def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    snapshots: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
    for item in transact_items:
        if len(item) != 1:
            continue  # the original refuses it before writing anything
        op_type, op = next(iter(item.items()))
        key = _key_of(self, op_type, op)
        if key is None or None in key.values():
            continue
        try:
            current = self.get_item(op["TableName"], key)
        except Exception:  # a malformed key: the original answers for it
            continue
        before = copy.deepcopy(current.to_json()["Attributes"]) if current is not None else None
        snapshots.append((op["TableName"], key, before))
    with _lock:
        models.copy = _NO_TABLE_COPY  # type: ignore[assignment]
        try:
            return _original(self, transact_items)
        except Exception:
            for table_name, key, before in reversed(snapshots):
                if before is None:
                    if self.get_item(table_name, key) is not None:
                        self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, before)
            raise
        finally:
            models.copy = copy  # type: ignore[assignment]


def install() -> None:
    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
