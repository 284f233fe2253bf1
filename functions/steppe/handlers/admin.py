"""The admin part of the analyst API: partners, keys, collections, feeds, push, the audit trail.

A thin shell over steppe.access.administration (which the CLI calls too):
check the admin role, parse the body, path and query into the models of
steppe.access.admin_models (400 naming the field), call, shape the answer.
Every route needs the admin role, checked before anything is parsed. Keys and
feed tokens (in the feed's URL) and webhook keys are returned once, when issued;
a Sentinel client secret never is. The models are
stated in the OpenAPI document.
"""

from __future__ import annotations

from typing import Any, TypeVar

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel

from steppe.access.admin_models import (
    AuditQuery,
    CollectionCreate,
    CollectionUpdate,
    FeedCreate,
    PartnerCreate,
    PartnerUpdate,
    parse,
)
from steppe.access.administration import Administration
from steppe.access.caller import Caller
from steppe.access.feed_definitions import FEED_TYPES, FILES, IssuedFeed
from steppe.access.push_destinations import PUSH_TYPES, IssuedDestination
from steppe.access.push_models import PushCreate, PushRotate
from steppe.handlers.common import (
    caller_of,
    json_object,
    json_response,
    per_services,
    query_params,
)
from steppe.handlers.http import bounded_body
from steppe.handlers.taxii_events import base_url
from steppe.runtime import administration_service
from steppe.stix import tlp
from steppe.stix.timestamps import format_taxii
from steppe.store.port import AuditRecord, Collection, Destination, Feed, Partner

router = APIGatewayRouter()
administration = per_services(administration_service)

MAX_BODY = 256 * 1024  # the largest body: two lists of 1,000 collection references
TAGS = ["Administration"]
M = TypeVar("M", bound=BaseModel)

_DESCRIBED = {
    200: {"description": "done"},
    403: {"description": "the caller is not an admin"},
}


def _docs(
    summary: str,
    *,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    status: int = 200,
    missing: bool = False,
    conflict: bool = False,
) -> dict[str, Any]:
    """The route's OpenAPI entry: its models (inline: they nest nothing) and answers."""
    responses: dict[int, dict[str, str]] = {**_DESCRIBED}
    if status != 200:
        responses[status] = responses.pop(200)
    if missing:
        responses[404] = {"description": "no such partner, collection or feed"}
    if conflict:
        responses[409] = {"description": "the name or title is taken"}
    if body is not None:
        responses[413] = {"description": f"the body is larger than {MAX_BODY:,} bytes"}
    extensions: dict[str, Any] = {}
    if body is not None:
        extensions["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body.model_json_schema()}},
        }
    if query is not None:
        schema = query.model_json_schema()
        extensions["parameters"] = [
            {"name": name, "in": "query", "required": False, "schema": field}
            for name, field in schema["properties"].items()
        ]
    return {
        "summary": summary,
        "description": (body or query).__doc__ if (body or query) else None,
        "tags": TAGS,
        "responses": responses,
        "openapi_extensions": extensions or None,
    }


def _admin() -> Caller:
    caller = caller_of(router.current_event.raw_event)
    caller.require_role("admin")
    return caller


def _path(name: str, captured: str) -> str:
    """A path parameter as the client meant it.

    API Gateway's pathParameters are decoded ('steppe%20indicators' is the
    title 'steppe indicators'); the route's own capture would not be.
    """
    decoded = (router.current_event.raw_event.get("pathParameters") or {}).get(name)
    return str(decoded) if decoded is not None else captured


def _no_query() -> None:
    query_params(router.current_event.raw_event, allowed=())


def _body(model: type[M]) -> M:
    return parse(model, json_object(bounded_body(router.current_event.raw_event, MAX_BODY)))


def _service() -> Administration:
    return administration()


def describe_partner(partner: Partner) -> dict[str, object]:
    return {
        "name": partner.name,
        "id": partner.id,
        "role": partner.role,
        "tlp": tlp.BY_RANK[partner.tlp_clearance].name,
        "read": sorted(partner.can_read),
        "write": sorted(partner.can_write),
        "identity": partner.identity_id,
        "created": format_taxii(partner.created),
    }


def describe_collection(collection: Collection) -> dict[str, object]:
    return {
        "id": collection.id,
        "api_root": collection.api_root,
        "title": collection.title,
        "description": collection.description,
        "alias": collection.alias,
        "default": collection.default,
        "unmarked_tlp": tlp.BY_RANK[collection.unmarked_tlp].name,
        "active_only": collection.active_only,
        "media_types": list(collection.media_types),
    }


def describe_feed(feed: Feed) -> dict[str, object]:
    """A feed as listed and shown: never its token, nor the token's hash."""
    return {
        "name": feed.name,
        "id": feed.id,
        "format": feed.format,
        "collections": sorted(feed.collections),
        "tlp": tlp.BY_RANK[feed.tlp_clearance].name,
        "types": [t for t in FEED_TYPES if t in feed.types],
        "min_score": feed.min_score,
        "max_entries": feed.max_entries,
        "file": FILES[feed.format],
        "created": format_taxii(feed.created),
    }


def _issued_feed(issued: IssuedFeed) -> dict[str, object]:
    event = router.current_event.raw_event
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    base = base_url(headers, event.get("requestContext") or {}, str(event.get("path") or ""))
    return {**describe_feed(issued.feed), "token": issued.token, "url": issued.url(base)}


def describe_destination(destination: Destination) -> dict[str, object]:
    """A push destination as listed and shown: its settings, never its secret."""
    return {
        "name": destination.name,
        "id": destination.id,
        "kind": destination.kind,
        "collections": sorted(destination.collections),
        "tlp": tlp.BY_RANK[destination.tlp_clearance].name,
        "types": [t for t in PUSH_TYPES if t in destination.types],
        "settings": dict(sorted(destination.settings.items())),
        "created": format_taxii(destination.created),
    }


def _issued_destination(issued: IssuedDestination) -> dict[str, object]:
    described = describe_destination(issued.destination)
    if issued.shown_secret is not None:
        described["secret"] = issued.shown_secret
    return described


def describe_audit(record: AuditRecord) -> dict[str, object]:
    return {
        "time": format_taxii(record.time),
        "request_id": record.request_id,
        "partner": record.partner,
        "partner_id": record.partner_id,
        "method": record.method,
        "path": record.path,
        "status": record.status,
        "collection": record.collection_id,
        "objects": record.objects,
        "detail": record.detail,
    }


@router.get("/api/v1/admin/partners", **_docs("List partners"))
def list_partners() -> Response[dict]:
    _admin()
    _no_query()
    return json_response(
        200, {"partners": [describe_partner(p) for p in _service().list_partners()]}
    )


@router.post(
    "/api/v1/admin/partners",
    **_docs("Add a partner and issue its first key", body=PartnerCreate, status=201, conflict=True),
)
def add_partner() -> Response[dict]:
    _admin()
    _no_query()
    issued = _service().add_partner(_body(PartnerCreate))
    return json_response(
        201,
        {**describe_partner(issued.partner), "key": issued.key},
        {"Location": f"/api/v1/admin/partners/{issued.partner.name}"},
    )


@router.get("/api/v1/admin/partners/<name>", **_docs("Show a partner", missing=True))
def get_partner(name: str) -> Response[dict]:
    _admin()
    _no_query()
    return json_response(200, describe_partner(_service().partner(_path("name", name))))


@router.patch(
    "/api/v1/admin/partners/<name>",
    **_docs("Change a partner's role, clearance or rights", body=PartnerUpdate, missing=True),
)
def update_partner(name: str) -> Response[dict]:
    _admin()
    _no_query()
    name = _path("name", name)
    service = _service()
    service.partner(name)  # a bad or unknown name first, then the body
    return json_response(200, describe_partner(service.update_partner(name, _body(PartnerUpdate))))


@router.delete(
    "/api/v1/admin/partners/<name>", **_docs("Delete a partner and its keys", missing=True)
)
def delete_partner(name: str) -> Response[dict]:
    caller = _admin()
    _no_query()
    deleted = _service().delete_partner(_path("name", name), by=caller)
    return json_response(200, {"deleted": deleted.name, "id": deleted.id})


@router.post(
    "/api/v1/admin/partners/<name>/rotate",
    **_docs("Issue a new key; older keys stop working", missing=True),
)
def rotate(name: str) -> Response[dict]:
    _admin()
    _no_query()
    issued = _service().rotate_key(_path("name", name))
    return json_response(200, {**describe_partner(issued.partner), "key": issued.key})


@router.post(
    "/api/v1/admin/partners/<name>/revoke", **_docs("Revoke every key of a partner", missing=True)
)
def revoke(name: str) -> Response[dict]:
    _admin()
    _no_query()
    partner, count = _service().revoke_keys(_path("name", name))
    return json_response(200, {"name": partner.name, "revoked_keys": count})


@router.get("/api/v1/admin/collections", **_docs("List collections"))
def list_collections() -> Response[dict]:
    _admin()
    _no_query()
    found = _service().list_collections()
    return json_response(200, {"collections": [describe_collection(c) for c in found]})


@router.post(
    "/api/v1/admin/collections",
    **_docs("Add a collection", body=CollectionCreate, status=201, conflict=True),
)
def add_collection() -> Response[dict]:
    _admin()
    _no_query()
    collection = _service().add_collection(_body(CollectionCreate))
    return json_response(201, describe_collection(collection))


@router.patch(
    "/api/v1/admin/collections/<collection_id>",
    **_docs(
        "Change a collection (named by id or title)",
        body=CollectionUpdate,
        missing=True,
        conflict=True,
    ),
)
def update_collection(collection_id: str) -> Response[dict]:
    _admin()
    _no_query()
    collection_id = _path("collection_id", collection_id)
    service = _service()
    service.collection(collection_id)
    updated = service.update_collection(collection_id, _body(CollectionUpdate))
    return json_response(200, describe_collection(updated))


@router.get("/api/v1/admin/feeds", **_docs("List feeds"))
def list_feeds() -> Response[dict]:
    _admin()
    _no_query()
    return json_response(200, {"feeds": [describe_feed(f) for f in _service().list_feeds()]})


@router.post(
    "/api/v1/admin/feeds",
    **_docs(
        "Add a feed; its URL, with its secret token, is returned once",
        body=FeedCreate,
        status=201,
        conflict=True,
    ),
)
def add_feed() -> Response[dict]:
    _admin()
    _no_query()
    issued = _service().add_feed(_body(FeedCreate))
    return json_response(
        201, _issued_feed(issued), {"Location": f"/api/v1/admin/feeds/{issued.feed.name}"}
    )


@router.get("/api/v1/admin/feeds/<name>", **_docs("Show a feed", missing=True))
def get_feed(name: str) -> Response[dict]:
    _admin()
    _no_query()
    return json_response(200, describe_feed(_service().feed(_path("name", name))))


@router.delete("/api/v1/admin/feeds/<name>", **_docs("Remove a feed", missing=True))
def remove_feed(name: str) -> Response[dict]:
    _admin()
    _no_query()
    removed = _service().remove_feed(_path("name", name))
    return json_response(200, {"deleted": removed.name, "id": removed.id})


@router.post(
    "/api/v1/admin/feeds/<name>/rotate",
    **_docs(
        "Issue a new token (returned once, in the URL); the old URL stops working", missing=True
    ),
)
def rotate_feed(name: str) -> Response[dict]:
    _admin()
    _no_query()
    return json_response(200, _issued_feed(_service().rotate_feed(_path("name", name))))


@router.get("/api/v1/admin/push", **_docs("List push destinations"))
def list_destinations() -> Response[dict]:
    _admin()
    _no_query()
    destinations = _service().list_destinations()
    return json_response(200, {"destinations": [describe_destination(d) for d in destinations]})


@router.post(
    "/api/v1/admin/push",
    **_docs(
        "Add a push destination; a webhook's signing key is returned once",
        body=PushCreate,
        status=201,
        conflict=True,
    ),
)
def add_destination() -> Response[dict]:
    _admin()
    _no_query()
    issued = _service().add_destination(_body(PushCreate))
    return json_response(
        201,
        _issued_destination(issued),
        {"Location": f"/api/v1/admin/push/{issued.destination.name}"},
    )


@router.get("/api/v1/admin/push/<name>", **_docs("Show a push destination", missing=True))
def get_destination(name: str) -> Response[dict]:
    _admin()
    _no_query()
    return json_response(200, describe_destination(_service().destination(_path("name", name))))


@router.delete("/api/v1/admin/push/<name>", **_docs("Remove a push destination", missing=True))
def remove_destination(name: str) -> Response[dict]:
    _admin()
    _no_query()
    removed = _service().remove_destination(_path("name", name))
    return json_response(200, {"deleted": removed.name, "id": removed.id})


@router.post(
    "/api/v1/admin/push/<name>/rotate",
    **_docs(
        "A webhook's new signing key (returned once), or Sentinel's new client secret",
        body=PushRotate,
        missing=True,
    ),
)
def rotate_destination(name: str) -> Response[dict]:
    _admin()
    _no_query()
    name = _path("name", name)
    service = _service()
    service.destination(name)
    issued = service.rotate_destination(name, _body(PushRotate))
    return json_response(200, _issued_destination(issued))


@router.get("/api/v1/admin/audit", **_docs("The TAXII requests partners made", query=AuditQuery))
def list_audit() -> Response[dict]:
    _admin()
    query = parse(AuditQuery, query_params(router.current_event.raw_event), noun="query parameter")
    records = _service().audit(query)
    return json_response(200, {"records": [describe_audit(r) for r in records]})
