"""GET {api_root}/collections/{id}/objects/{object_id}/versions/ (TAXII 2.1 section 5.8)."""

from __future__ import annotations

import orjson

from steppe.errors import NotFound
from steppe.stix.timestamps import format_stix
from steppe.taxii import access
from steppe.taxii.envelope import paged
from steppe.taxii.filters import Endpoint
from steppe.taxii.listing import object_is_visible, read_page
from steppe.taxii.request import Reply, TaxiiRequest
from steppe.taxii.service import TaxiiService


def get(
    taxii: TaxiiService, request: TaxiiRequest, api_root: str, collection_id: str, object_id: str
) -> Reply:
    collection = access.collection(taxii.store, request.caller, api_root, collection_id)
    access.require_read(request.caller, collection)
    page = read_page(
        taxii, request, Endpoint.VERSIONS, collection, object_id=object_id, with_body=False
    )
    if (
        not page.records
        and not page.more
        and not object_is_visible(taxii, request, collection, object_id)
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
