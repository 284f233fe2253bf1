"""Who may see and use which API root and collection, in TAXII's terms.

* A caller sees the collections it may read or write (admins: all of them).
  A collection it may neither read nor write is answered 404, exactly like
  one that does not exist: its existence is not revealed.
* Reading objects, manifests and versions needs read access; adding objects
  needs write access; a visible collection without the needed access is 403
  (sections 5.3-5.5, 5.8). DELETE needs both (section 5.7's table).
"""

from __future__ import annotations

from steppe.access.caller import Caller
from steppe.errors import Forbidden, NotFound
from steppe.store.port import ApiRoot, CatalogStore, Collection


def api_root(store: CatalogStore, root_id: str) -> ApiRoot:
    root = store.get_api_root(root_id)
    if root is None:
        raise NotFound(f"there is no API root '{root_id}' on this server", where="path")
    return root


def visible(caller: Caller, collection: Collection) -> bool:
    return caller.may_read(collection.id) or caller.may_write(collection.id)


def collection(store: CatalogStore, caller: Caller, root_id: str, collection_id: str) -> Collection:
    """The collection, if it is in this API root and the caller may see it; else 404."""
    found = store.get_collection(collection_id)
    if found is None or found.api_root != root_id or not visible(caller, found):
        if found is None and store.get_api_root(root_id) is None:
            raise NotFound(f"there is no API root '{root_id}' on this server", where="path")
        raise NotFound(
            f"there is no collection '{collection_id}' in API root '{root_id}' that you may use",
            where="path",
        )
    return found


def require_read(caller: Caller, found: Collection) -> None:
    if not caller.may_read(found.id):
        raise Forbidden(
            f"'{caller.partner}' may add objects to collection '{found.id}' but not read it "
            "(can_read is false)"
        )


def require_write(caller: Caller, found: Collection) -> None:
    if not caller.may_write(found.id):
        raise Forbidden(
            f"'{caller.partner}' may read collection '{found.id}' but not add to it "
            "(can_write is false)"
        )


def require_read_and_write(caller: Caller, found: Collection) -> None:
    if not (caller.may_read(found.id) and caller.may_write(found.id)):
        raise Forbidden(
            f"deleting from collection '{found.id}' needs both read and write access; "
            f"'{caller.partner}' has {'read' if caller.may_read(found.id) else 'write'} access only"
        )
