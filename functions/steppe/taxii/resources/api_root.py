"""GET /taxii2/{api_root}/ - the API root resource (TAXII 2.1 section 4.2)."""

from __future__ import annotations

from steppe.taxii import permissions as access
from steppe.taxii.media import TAXII_21
from steppe.taxii.request import Reply, TaxiiRequest
from steppe.taxii.serving import TaxiiService, json_reply


def get(taxii: TaxiiService, request: TaxiiRequest, api_root: str) -> Reply:
    root = access.api_root(taxii.catalog, api_root)
    resource: dict[str, object] = {"title": root.title}
    if root.description:
        resource["description"] = root.description
    resource["versions"] = [TAXII_21]
    # The largest request body accepted: what the gateway and the function take.
    resource["max_content_length"] = taxii.settings.max_body_bytes
    return json_reply(200, resource)
