"""The TAXII 2.1 server (TaxiiFunction): every endpoint under /taxii2/.

A thin shell: each route names its resource in steppe.taxii.resources, and
steppe.taxii.serving runs it (authentication, content negotiation, errors,
audit). Routes match with and without the trailing slash TAXII clients send.
stix2 is never imported on the read path (only when objects are added).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.utilities.typing import LambdaContext

from steppe import runtime
from steppe.errors import NotFound
from steppe.handlers.common import RestResolver, per_services
from steppe.handlers.http import internal_error_result
from steppe.handlers.taxii_events import request_from_event
from steppe.taxii.media import TAXII_21
from steppe.taxii.request import Reply, TaxiiRequest
from steppe.taxii.resources import (
    api_root,
    collections_endpoint,
    discovery,
    manifest,
    objects_endpoint,
    status,
    versions,
)
from steppe.taxii.resources import object as single_object
from steppe.taxii.serving import Resource, TaxiiService

logger = Logger()
app = RestResolver()
taxii = per_services(runtime.taxii_service)

_COLLECTION = "/taxii2/<api_root>/collections/<collection_id>"
_OBJECT = _COLLECTION + "/objects/<object_id>"


def _respond(reply: Reply) -> Response:
    return Response(
        status_code=reply.status,
        content_type=reply.content_type,
        body=reply.body.decode("utf-8"),
        headers=reply.headers,
    )


def _serve(resource: Resource) -> Response:
    event = app.current_event.raw_event
    # API Gateway's pathParameters are decoded; the route's own captures would not be.
    path = {name: str(value) for name, value in (event.get("pathParameters") or {}).items()}
    return _respond(taxii().handle(resource, request_from_event(event), **path))


@app.get("/taxii2")
def get_discovery(**_: str) -> Response:
    return _serve(discovery.get)


@app.get("/taxii2/<api_root>")
def get_api_root(**_: str) -> Response:
    return _serve(api_root.get)


@app.get("/taxii2/<api_root>/status/<status_id>")
def get_status(**_: str) -> Response:
    return _serve(status.get)


@app.get("/taxii2/<api_root>/collections")
def get_collections(**_: str) -> Response:
    return _serve(collections_endpoint.list_all)


@app.get(_COLLECTION)
def get_collection(**_: str) -> Response:
    return _serve(collections_endpoint.get)


@app.get(_COLLECTION + "/manifest")
def get_manifest(**_: str) -> Response:
    return _serve(manifest.get)


@app.get(_COLLECTION + "/objects")
def get_objects(**_: str) -> Response:
    return _serve(objects_endpoint.get)


@app.post(_COLLECTION + "/objects")
def add_objects(**_: str) -> Response:
    return _serve(objects_endpoint.post)


@app.get(_OBJECT)
def get_object(**_: str) -> Response:
    return _serve(single_object.get)


@app.delete(_OBJECT)
def delete_object(**_: str) -> Response:
    return _serve(single_object.delete)


@app.get(_OBJECT + "/versions")
def get_versions(**_: str) -> Response:
    return _serve(versions.get)


def _no_such_endpoint(_: TaxiiService, request: TaxiiRequest, **__: str) -> Reply:
    raise NotFound(f"there is no TAXII endpoint {request.method} {request.path}", where="path")


@app.not_found
def handle_not_found(_: NotFoundError) -> Response:
    return _serve(_no_such_endpoint)


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        return app.resolve(event, context)
    except Exception:  # the last line of defence: a TAXII 500, never a stack trace
        logger.exception("unhandled error")
        return internal_error_result(TAXII_21)
