"""Managing collections: what the administration service calls, and finding one by id or title."""

from __future__ import annotations

import uuid
from dataclasses import replace

from steppe.errors import InvalidInput, NotFound
from steppe.stix import tlp
from steppe.stix.timestamps import now_micros
from steppe.store.port import CatalogStore, Collection

MAX_TITLE = 200


def _title(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > MAX_TITLE:
        raise InvalidInput(f"a collection title is 1 to {MAX_TITLE} characters", where="title")
    return value.strip()


def _unmarked(value: object) -> int:
    if not isinstance(value, str):
        raise InvalidInput("unmarked_tlp is a TLP level name such as 'green'", where="unmarked_tlp")
    try:
        return tlp.level(value).rank
    except ValueError as problem:
        raise InvalidInput(str(problem), where="unmarked_tlp") from None


def _flag(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"{name} is true or false", where=name)
    return value


def add_collection(
    catalog: CatalogStore,
    api_root: str,
    title: str,
    *,
    description: str = "",
    alias: str | None = None,
    unmarked_tlp: str = "green",
    active_only: bool = False,
) -> Collection:
    """A new collection with a UUIDv4 id (Microsoft Sentinel accepts no other kind).

    Conflict if the title is taken in the API root (Cortex XSOAR finds
    collections by title, so titles must be unique). active_only: serve only
    objects that are not revoked and not past their valid_until, for SIEMs
    that cannot handle expiry and revocation themselves.
    """
    collection = Collection(
        id=str(uuid.uuid4()),
        api_root=api_root,
        title=_title(title),
        description=description or "",
        alias=alias or None,
        created=now_micros(),
        unmarked_tlp=_unmarked(unmarked_tlp),
        active_only=_flag(active_only, "active_only"),
    )
    catalog.create_collection(collection)
    return collection


def update_collection(
    catalog: CatalogStore,
    collection_id: str,
    *,
    title: str | None = None,
    description: str | None = None,
    alias: str | None = None,
    unmarked_tlp: str | None = None,
    active_only: bool | None = None,
) -> Collection:
    collection = catalog.get_collection(collection_id)
    if collection is None:
        raise NotFound(f"there is no collection '{collection_id}'", where="collection_id")
    changes: dict[str, object] = {}
    if title is not None:
        changes["title"] = _title(title)
    if description is not None:
        changes["description"] = description
    if alias is not None:
        changes["alias"] = alias or None
    if unmarked_tlp is not None:
        changes["unmarked_tlp"] = _unmarked(unmarked_tlp)
    if active_only is not None:
        changes["active_only"] = _flag(active_only, "active_only")
    updated = replace(collection, **changes)  # type: ignore[arg-type]
    catalog.update_collection(updated)
    return updated


def resolve_collection(
    catalog: CatalogStore, api_root: str, ref: str, *, where: str = "collection_id"
) -> Collection:
    """The collection of `api_root` whose id or title is `ref`; NotFound naming it otherwise.

    The id is tried first: a title that happens to be another collection's id
    loses to that collection.
    """
    found = catalog.get_collection(ref)
    if found is None or found.api_root != api_root:
        found = catalog.find_collection_by_title(api_root, ref)
    if found is None:
        raise NotFound(f"there is no collection with the id or title '{ref}'", where=where)
    return found
