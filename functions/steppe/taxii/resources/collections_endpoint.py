"""GET {api_root}/collections/ and {api_root}/collections/{id}/ (TAXII 2.1 sections 5.1, 5.2).

A caller sees the collections it may read or write; can_read and can_write
say what this caller may do, not what the collection allows in general.
"""

from __future__ import annotations

from steppe.access.caller import Caller
from steppe.store.port import Collection
from steppe.taxii import permissions as access
from steppe.taxii.request import Reply, TaxiiRequest
from steppe.taxii.serving import TaxiiService, json_reply


def describe(collection: Collection, caller: Caller) -> dict[str, object]:
    resource: dict[str, object] = {"id": collection.id, "title": collection.title}
    if collection.description:
        resource["description"] = collection.description
    if collection.alias:
        resource["alias"] = collection.alias
    resource["can_read"] = caller.may_read(collection.id)
    resource["can_write"] = caller.may_write(collection.id)
    if collection.media_types:
        resource["media_types"] = list(collection.media_types)
    return resource


def list_all(taxii: TaxiiService, request: TaxiiRequest, api_root: str) -> Reply:
    access.api_root(taxii.catalog, api_root)
    caller = request.caller
    shown = [
        describe(collection, caller)
        for collection in taxii.catalog.list_collections(api_root)
        if access.visible(caller, collection)
    ]
    return json_reply(200, {"collections": shown} if shown else {})


def get(taxii: TaxiiService, request: TaxiiRequest, api_root: str, collection_id: str) -> Reply:
    collection = access.collection(taxii.catalog, request.caller, api_root, collection_id)
    return json_reply(200, describe(collection, request.caller))
