"""{api_root}/collections/{id}/objects/{object_id}/ - get (5.6) and delete (5.7) an object.

An object the caller may not receive (none of its versions at or below its
TLP clearance) does not exist for it: 404, on GET and on DELETE. A collection
that serves only active objects does not serve an object none of whose
versions is active either: GET answers 404 for it.

DELETE sees the object as the caller does: only the versions at or below its
clearance exist for it. match[version] first/last are judged among those,
those are what it deletes, and versions above its clearance are neither
deleted nor mentioned, so that the answer is the same whether or not they
exist. It ignores the lifecycle (expired objects can be deleted like any
other) but keeps the rules of the write path (steppe.store.write_path): a
revoked version goes only with every other version the caller sees, and a
partner deletes only objects created by its own identity.
"""

from __future__ import annotations

from steppe.errors import Forbidden, NotFound
from steppe.store.port import ALL_VERSIONS, ObjectQuery, StoredObject, VersionFilter
from steppe.taxii import adding
from steppe.taxii import filters as taxii_filters
from steppe.taxii import permissions as access
from steppe.taxii.envelope import envelope
from steppe.taxii.filters import MAX_PAGE, Endpoint
from steppe.taxii.listing import object_is_visible, page_bodies, read_page, served_at
from steppe.taxii.request import Reply, TaxiiRequest
from steppe.taxii.serving import TaxiiService


def _not_found(collection_id: str, object_id: str) -> NotFound:
    return NotFound(
        f"there is no object '{object_id}' in collection '{collection_id}' that you may read",
        where="path",
    )


def get(
    taxii: TaxiiService, request: TaxiiRequest, api_root: str, collection_id: str, object_id: str
) -> Reply:
    collection = access.collection(taxii.catalog, request.caller, api_root, collection_id)
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


def _visible_versions(
    taxii: TaxiiService, collection_id: str, object_id: str, clearance: int
) -> list[StoredObject]:
    """Every stored version of the object at or below the clearance, with bodies, oldest first."""
    found: list[StoredObject] = []
    after = None
    while True:
        page = taxii.objects.list_objects(
            collection_id,
            ObjectQuery(
                after=after,
                ids=frozenset({object_id}),
                versions=ALL_VERSIONS,
                max_tlp=clearance,
                limit=MAX_PAGE,
            ),
        )
        found.extend(page.records)
        if not page.more:
            return sorted(found, key=lambda record: record.version)
        after = page.last_position


def _select(versions: list[StoredObject], selection: taxii_filters.Selection) -> list[StoredObject]:
    """The versions the DELETE's filters select among `versions` (oldest first)."""
    wanted = selection.filters.versions
    if not versions:
        return []
    if wanted.all:
        chosen = versions
    else:
        picked = {v.version for v in versions if v.version in wanted.exact}
        if wanted.first:
            picked.add(versions[0].version)
        if wanted.last:
            picked.add(versions[-1].version)
        chosen = [v for v in versions if v.version in picked]
    specs = selection.filters.spec_versions
    return chosen if specs is None else [v for v in chosen if v.spec_version in specs]


def delete(
    taxii: TaxiiService, request: TaxiiRequest, api_root: str, collection_id: str, object_id: str
) -> Reply:
    caller = request.caller
    collection = access.collection(taxii.catalog, caller, api_root, collection_id)
    access.require_read_and_write(caller, collection)
    selection = taxii_filters.parse(request.params, Endpoint.DELETE)
    seen = _visible_versions(taxii, collection.id, object_id, caller.clearance)
    chosen = _select(seen, selection)
    if not chosen:
        raise _not_found(collection_id, object_id)
    refusal = taxii.adding.writes.may_delete(adding.writer_for(caller), chosen, seen)
    if refusal is not None:
        raise Forbidden(refusal, where="path")
    # Exactly the versions judged above: a version added meanwhile is not deleted unseen.
    deleted = taxii.objects.delete_object(
        collection.id,
        object_id,
        VersionFilter(exact=frozenset(version.version for version in chosen)),
    )
    return Reply(status=200, objects=deleted)
