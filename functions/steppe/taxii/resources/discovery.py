"""GET /taxii2/ - the discovery resource (TAXII 2.1 section 4.1)."""

from __future__ import annotations

from urllib.parse import quote

from steppe.taxii.request import Reply, TaxiiRequest
from steppe.taxii.serving import TaxiiService, json_reply


def api_root_url(request: TaxiiRequest, root_id: str) -> str:
    return request.url(f"/taxii2/{quote(root_id, safe='')}/")


def get(taxii: TaxiiService, request: TaxiiRequest) -> Reply:
    org = taxii.settings.org_name
    roots = [root.id for root in taxii.catalog.list_api_roots()]
    resource: dict[str, object] = {
        "title": f"{org} TAXII 2.1 server",
        "description": f"STIX 2.1 indicators and their context, shared by {org} (steppe).",
    }
    if roots:
        resource["api_roots"] = [api_root_url(request, root) for root in roots]
        default = taxii.settings.api_root if taxii.settings.api_root in roots else roots[0]
        resource["default"] = api_root_url(request, default)
    return json_reply(200, resource)
