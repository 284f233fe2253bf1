"""moto's Query on a table's own key, made to read only the partition it names.

moto answers a Query by listing and sorting every item of the table and then
keeping those of the asked partition, so each Query costs the whole table: a
benchmark that writes a chunk and reads it back by id (one Query per id on
the layout before issue 11) grew with the square of its size and did not
finish. This keeps moto's own Query (conditions, paging, filters,
projections) and changes only the items it starts from: for a Query on the
table's key (no index), the named partition's items. They come out in the
same order (moto sorts the partition by sort key either way); queries on an
index still read the whole table.
"""

from __future__ import annotations

import inspect
import threading
from typing import Any

from moto.dynamodb.models.table import Table

_original_query = Table.query
_original_all_items = Table.all_items
_signature = inspect.signature(_original_query)
_partition = threading.local()  # the hash key the current thread's Query reads


def all_items(self: Any) -> list[Any]:
    hash_key = getattr(_partition, "key", None)
    if hash_key is None:
        return _original_all_items(self)
    if hash_key not in self.items:  # not .get on a defaultdict: a miss must not add a partition
        return []
    stored = self.items[hash_key]
    return list(stored.values()) if self.range_key_attr else [stored]


def query(self: Any, *args: Any, **kwargs: Any) -> Any:
    arguments = _signature.bind(self, *args, **kwargs).arguments
    hash_key = arguments.get("hash_key")
    if arguments.get("index_name") or hash_key is None:
        return _original_query(self, *args, **kwargs)
    _partition.key = hash_key
    try:
        return _original_query(self, *args, **kwargs)
    finally:
        _partition.key = None


def install() -> None:
    Table.query = query  # type: ignore[method-assign]
    Table.all_items = all_items  # type: ignore[method-assign]
