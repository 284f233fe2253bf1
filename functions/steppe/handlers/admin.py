"""The admin part of the analyst API: partners, their keys, collections, the audit trail.

Every route here needs the admin role. Keys are returned once, when issued.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from steppe.access import collections, partners
from steppe.access.caller import Caller
from steppe.errors import InvalidInput
from steppe.handlers.common import caller_of, json_fields, json_response
from steppe.runtime import services
from steppe.stix import tlp
from steppe.stix.timestamps import format_taxii, parse_micros
from steppe.store.port import Partner

router = APIGatewayRouter()

PARTNER_FIELDS = {"name", "role", "tlp", "read", "write"}
COLLECTION_FIELDS = {"title", "description", "alias", "unmarked_tlp", "active_only"}


def _admin() -> Caller:
    caller = caller_of(router.current_event.raw_event)
    caller.require_role("admin")
    return caller


def _string_list(document: dict[str, Any], name: str) -> list[str] | None:
    value = document.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidInput(f"{name} must be a list of collection ids or titles", where=name)
    store = services().store
    root = services().settings.api_root
    ids = []
    for ref in value:
        found = store.get_collection(ref) or store.find_collection_by_title(root, ref)
        if found is None:
            raise InvalidInput(f"there is no collection with the id or title '{ref}'", where=name)
        ids.append(found.id)
    return ids


def describe_partner(partner: Partner) -> dict[str, object]:
    return {
        "name": partner.name,
        "role": partner.role,
        "tlp": tlp.BY_RANK[partner.tlp_clearance].name,
        "read": sorted(partner.can_read),
        "write": sorted(partner.can_write),
        "identity": partner.identity_id,
        "created": format_taxii(partner.created),
    }


@router.get("/api/v1/admin/partners")
def list_partners() -> Response[dict]:
    _admin()
    return json_response(
        200, {"partners": [describe_partner(p) for p in services().store.list_partners()]}
    )


@router.post("/api/v1/admin/partners")
def add_partner() -> Response[dict]:
    _admin()
    document = json_fields(router.current_event.raw_event, PARTNER_FIELDS, {"name"})
    issued = partners.add_partner(
        services().store,
        str(document["name"]),
        str(document.get("role", "partner")),
        org_name=services().settings.org_name,
        clearance=document.get("tlp"),
        can_read=_string_list(document, "read") or [],
        can_write=_string_list(document, "write") or [],
    )
    return json_response(
        201,
        {**describe_partner(issued.partner), "key": issued.key},
        {"Location": f"/api/v1/admin/partners/{issued.partner.name}"},
    )


@router.get("/api/v1/admin/partners/<name>")
def get_partner(name: str) -> Response[dict]:
    _admin()
    return json_response(200, describe_partner(partners.get_partner(services().store, name)))


@router.patch("/api/v1/admin/partners/<name>")
def update_partner(name: str) -> Response[dict]:
    _admin()
    document = json_fields(router.current_event.raw_event, PARTNER_FIELDS - {"name"})
    partner = partners.update_partner(
        services().store,
        name,
        role=document.get("role"),
        clearance=document.get("tlp"),
        can_read=_string_list(document, "read"),
        can_write=_string_list(document, "write"),
    )
    return json_response(200, describe_partner(partner))


@router.delete("/api/v1/admin/partners/<name>")
def delete_partner(name: str) -> Response[dict]:
    caller = _admin()
    if name == caller.partner:
        raise InvalidInput("an admin cannot delete itself", where="name")
    partners.get_partner(services().store, name)
    services().store.delete_partner(name)
    return json_response(200, {"deleted": name})


@router.post("/api/v1/admin/partners/<name>/rotate")
def rotate(name: str) -> Response[dict]:
    _admin()
    issued = partners.rotate_key(services().store, name)
    return json_response(200, {**describe_partner(issued.partner), "key": issued.key})


@router.post("/api/v1/admin/partners/<name>/revoke")
def revoke(name: str) -> Response[dict]:
    _admin()
    count = partners.revoke(services().store, name)
    return json_response(200, {"name": name, "revoked_keys": count})


@router.get("/api/v1/admin/collections")
def list_collections() -> Response[dict]:
    _admin()
    found = services().store.list_collections(services().settings.api_root)
    return json_response(200, {"collections": [collections.describe_collection(c) for c in found]})


@router.post("/api/v1/admin/collections")
def add_collection() -> Response[dict]:
    _admin()
    document = json_fields(router.current_event.raw_event, COLLECTION_FIELDS, {"title"})
    collection = collections.add_collection(
        services().store,
        services().settings.api_root,
        document["title"],
        description=str(document.get("description") or ""),
        alias=document.get("alias"),
        unmarked_tlp=document.get("unmarked_tlp", "green"),
        active_only=document.get("active_only", False),
    )
    return json_response(201, collections.describe_collection(collection))


@router.patch("/api/v1/admin/collections/<collection_id>")
def update_collection(collection_id: str) -> Response[dict]:
    _admin()
    document = json_fields(router.current_event.raw_event, COLLECTION_FIELDS)
    collection = collections.update_collection(
        services().store,
        collection_id,
        title=document.get("title"),
        description=document.get("description"),
        alias=document.get("alias"),
        unmarked_tlp=document.get("unmarked_tlp"),
        active_only=document.get("active_only"),
    )
    return json_response(200, collections.describe_collection(collection))


def _time_param(name: str) -> int | None:
    value = (router.current_event.query_string_parameters or {}).get(name)
    if value is None:
        return None
    try:
        return parse_micros(value)
    except ValueError as problem:
        raise InvalidInput(str(problem), where=name) from None


@router.get("/api/v1/admin/audit")
def list_audit() -> Response[dict]:
    _admin()
    params = router.current_event.query_string_parameters or {}
    try:
        limit = int(params.get("limit", "100"))
    except ValueError:
        raise InvalidInput("limit must be an integer", where="limit") from None
    if not 1 <= limit <= 1000:
        raise InvalidInput("limit must be between 1 and 1000", where="limit")
    records = services().store.list_audit(
        since=_time_param("since"),
        until=_time_param("until"),
        partner=params.get("partner"),
        limit=limit,
    )
    return json_response(
        200,
        {
            "records": [
                {
                    "time": format_taxii(r.time),
                    "request_id": r.request_id,
                    "partner": r.partner,
                    "method": r.method,
                    "path": r.path,
                    "status": r.status,
                    "collection": r.collection_id,
                    "objects": r.objects,
                    "detail": r.detail,
                }
                for r in records
            ]
        },
    )
