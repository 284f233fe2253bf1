"""{api_root}/collections/{id}/objects/{object_id}/ - get (5.6) and delete (5.7) an object.

An object the caller may not receive (none of its versions at or below its
TLP clearance) does not exist for it: 404, on GET and on DELETE. A collection
that serves only active objects does not serve an object none of whose
versions is active either: GET answers 404 for it. DELETE ignores the
lifecycle: expired and revoked objects can be deleted like any other.
"""

from __future__ import annotations

from steppe.errors import Forbidden, NotFound
from steppe.store.port import ObjectQuery, StoredObject, VersionFilter
from steppe.taxii import access
from steppe.taxii import filters as taxii_filters
from steppe.taxii.envelope import envelope
from steppe.taxii.filters import MAX_PAGE, Endpoint
from steppe.taxii.listing import object_is_visible, page_bodies, read_page, served_at
from steppe.taxii.request import Reply, TaxiiRequest
from steppe.taxii.service import TaxiiService


def _not_found(collection_id: str, object_id: str) -> NotFound:
    return NotFound(
        f"there is no object '{object_id}' in collection '{collection_id}' that you may read",
        where="path",
    )


def get(
    taxii: TaxiiService, request: TaxiiRequest, api_root: str, collection_id: str, object_id: str
) -> Reply:
    collection = access.collection(taxii.store, request.caller, api_root, collection_id)
    access.require_read(request.caller, collection)
    page = read_page(taxii, request, Endpoint.OBJECT, collection, object_id=object_id)
    if (
        not page.count
        and not page.more
        and not object_is_visible(
            taxii, request, collection, object_id, active_at=served_at(collection)
        )
    ):
        raise _not_found(collection_id, object_id)
    return Reply(
        status=200,
        body=envelope(page_bodies(page), page.more, page.next),
        headers=page.headers,
        objects=page.count,
    )


def _matching_versions(
    taxii: TaxiiService, collection_id: str, object_id: str, selection: taxii_filters.Selection
) -> list[StoredObject]:
    """Every stored version the DELETE's filters select, whatever its TLP."""
    found: list[StoredObject] = []
    after = None
    while True:
        page = taxii.store.list_objects(
            collection_id,
            ObjectQuery(
                after=after,
                ids=frozenset({object_id}),
                versions=selection.filters.versions,
                spec_versions=selection.filters.spec_versions,
                limit=MAX_PAGE,
                with_body=False,
            ),
        )
        found.extend(page.records)
        if not page.more:
            return found
        after = page.last_position


def delete(
    taxii: TaxiiService, request: TaxiiRequest, api_root: str, collection_id: str, object_id: str
) -> Reply:
    caller = request.caller
    collection = access.collection(taxii.store, caller, api_root, collection_id)
    access.require_read_and_write(caller, collection)
    selection = taxii_filters.parse(request.params, Endpoint.DELETE)
    matching = _matching_versions(taxii, collection.id, object_id, selection)
    hidden = [version for version in matching if version.tlp > caller.clearance]
    if not matching or (hidden and not object_is_visible(taxii, request, collection, object_id)):
        raise _not_found(collection_id, object_id)
    if hidden:
        raise Forbidden(
            f"{len(hidden)} of the versions of '{object_id}' this request selects are marked "
            f"above your TLP clearance ({caller.clearance_name}); they can only be deleted by "
            "someone cleared to read them"
        )
    # Exactly the versions judged above: a version added meanwhile is not deleted unseen.
    deleted = taxii.store.delete_object(
        collection.id,
        object_id,
        VersionFilter(exact=frozenset(version.version for version in matching)),
    )
    return Reply(status=200, objects=deleted)
