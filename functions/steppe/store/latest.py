"""The latest stored version of objects known by id, read through the port in bounded batches."""

from __future__ import annotations

from collections.abc import Iterable

from steppe.store.port.objects import ObjectQuery, ObjectStore, StoredObject

# Ids per query: well under SQLite's bound-parameter limit and a page's 1,000 records.
BATCH = 900


def latest_versions(
    store: ObjectStore, collection_id: str, ids: Iterable[str]
) -> dict[str, StoredObject]:
    """The latest version (with its body) of each of `ids` the collection holds."""
    wanted = list(dict.fromkeys(ids))
    found: dict[str, StoredObject] = {}
    for start in range(0, len(wanted), BATCH):
        batch = frozenset(wanted[start : start + BATCH])
        after = None
        while True:
            page = store.list_objects(
                collection_id, ObjectQuery(ids=batch, after=after, limit=len(batch))
            )
            found.update((record.id, record) for record in page.records)
            if not page.more:
                break
            after = page.last_position
    return found
