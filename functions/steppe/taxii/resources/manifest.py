"""GET {api_root}/collections/{id}/manifest/ - object manifests (TAXII 2.1 section 5.3)."""

from __future__ import annotations

import orjson

from steppe.stix.timestamps import format_stix, format_taxii
from steppe.store.port import StoredObject
from steppe.taxii import permissions as access
from steppe.taxii.envelope import paged
from steppe.taxii.filters import Endpoint
from steppe.taxii.listing import read_page
from steppe.taxii.request import Reply, TaxiiRequest
from steppe.taxii.serving import TaxiiService


def manifest_record(record: StoredObject) -> bytes:
    return orjson.dumps(
        {
            "id": record.id,
            "date_added": format_taxii(record.date_added),
            "version": format_stix(record.version),
            "media_type": f"application/stix+json;version={record.spec_version}",
        }
    )


def get(taxii: TaxiiService, request: TaxiiRequest, api_root: str, collection_id: str) -> Reply:
    collection = access.collection(taxii.catalog, request.caller, api_root, collection_id)
    access.require_read(request.caller, collection)
    page = read_page(taxii, request, Endpoint.MANIFEST, collection, with_body=False)
    items = [manifest_record(record) for record in page.records]
    return Reply(
        status=200,
        body=paged("objects", items, page.more, page.next),
        headers=page.headers,
        objects=len(items),
    )
