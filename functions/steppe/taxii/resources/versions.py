"""GET {api_root}/collections/{id}/objects/{object_id}/versions/ (TAXII 2.1 section 5.8).

A collection that serves only active objects (Collection.active_only) lists
versions through the same lifecycle filter as its objects endpoint, applied
to each version on its own (this endpoint selects every version): a version
that is revoked or past its valid_until is not listed. A revoked object so
lists the versions before its revocation but not the revocation itself, while
the objects endpoint, whose default match[version]=last judges the latest
version only, does not serve it at all. An object none of whose versions is
active is not served: 404, as for an object the caller may not read.
"""

from __future__ import annotations

import orjson

from steppe.errors import NotFound
from steppe.stix.timestamps import format_stix
from steppe.taxii import permissions as access
from steppe.taxii.envelope import paged
from steppe.taxii.filters import Endpoint
from steppe.taxii.listing import object_is_visible, read_page, served_at
from steppe.taxii.request import Reply, TaxiiRequest
from steppe.taxii.serving import TaxiiService


def get(
    taxii: TaxiiService, request: TaxiiRequest, api_root: str, collection_id: str, object_id: str
) -> Reply:
    collection = access.collection(taxii.catalog, request.caller, api_root, collection_id)
    access.require_read(request.caller, collection)
    page = read_page(
        taxii, request, Endpoint.VERSIONS, collection, object_id=object_id, with_body=False
    )
    if (
        not page.records
        and not page.more
        and not object_is_visible(
            taxii, request, collection, object_id, active_at=served_at(collection)
        )
    ):
        raise NotFound(
            f"there is no object '{object_id}' in collection '{collection_id}' that you may read",
            where="path",
        )
    items = [orjson.dumps(format_stix(record.version)) for record in page.records]
    return Reply(
        status=200,
        body=paged("versions", items, page.more, page.next),
        headers=page.headers,
        objects=len(items),
    )
