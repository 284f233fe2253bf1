"""{api_root}/collections/{id}/objects/ - get objects (5.4) and add objects (5.5)."""

from __future__ import annotations

from steppe.taxii import adding
from steppe.taxii import permissions as access
from steppe.taxii.envelope import envelope
from steppe.taxii.filters import Endpoint
from steppe.taxii.listing import page_bodies, read_page
from steppe.taxii.request import Reply, TaxiiRequest
from steppe.taxii.resources import status
from steppe.taxii.serving import TaxiiService, json_reply


def get(taxii: TaxiiService, request: TaxiiRequest, api_root: str, collection_id: str) -> Reply:
    collection = access.collection(taxii.catalog, request.caller, api_root, collection_id)
    access.require_read(request.caller, collection)
    page = read_page(taxii, request, Endpoint.OBJECTS, collection)
    return Reply(
        status=200,
        body=envelope(page_bodies(page), page.more, page.next),
        headers=page.headers,
        objects=page.count,
    )


def post(taxii: TaxiiService, request: TaxiiRequest, api_root: str, collection_id: str) -> Reply:
    caller = request.caller
    collection = access.collection(taxii.catalog, caller, api_root, collection_id)
    access.require_write(caller, collection)
    record, parts = taxii.adding.accept(
        caller.partner_id or "", collection, request.body, adding.writer_for(caller)
    )
    reply = json_reply(202, status.describe(record, parts))
    reply.objects = record.total
    return reply
