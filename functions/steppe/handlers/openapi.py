"""The OpenAPI document of the analyst API, served at /api/v1/openapi.json.

Powertools generates the paths from the routes; the submission body is read
raw (JSON or CSV, validated by steppe.ingest.models with errors that name the
field or row), so its schema is added here, from ingest/observation.schema.json.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from steppe.ingest.templates import TemplateRegistry

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "ingest" / "observation.schema.json"

_ERROR = {
    "type": "object",
    "required": ["title", "description", "http_status"],
    "properties": {
        "title": {"type": "string"},
        "description": {"type": "string", "description": "what was wrong, in a sentence"},
        "where": {"type": "string", "description": "the field, row, header or parameter at fault"},
        "errors": {"type": "array", "items": {"type": "object"}},
        "http_status": {"type": "string"},
    },
}


@cache
def openapi_document(app: APIGatewayRestResolver) -> dict[str, Any]:
    from aws_lambda_powertools.event_handler.openapi.models import (
        HTTPBase,
        HTTPBearer,
        SecuritySchemeType,
    )

    schema = app.get_openapi_schema(
        title="steppe analyst API",
        version="1",
        description="Submit attack observations; steppe turns them into STIX 2.1 and shares "
        "them over TAXII 2.1 (/taxii2/). Authenticate with `Authorization: Basic "
        "base64(<partner>:<key>)`, `Bearer <key>` or `Token <key>`.",
        security_schemes={
            "basic": HTTPBase(type_=SecuritySchemeType.http, scheme="basic"),
            "bearer": HTTPBearer(type_=SecuritySchemeType.http, scheme="bearer"),
        },
        security=[{"basic": []}, {"bearer": []}],
    )
    document = json.loads(schema.model_dump_json(by_alias=True, exclude_none=True))
    document.setdefault("components", {}).setdefault("schemas", {})["Error"] = _ERROR
    observation = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    kind = observation["properties"]["attack"]["properties"]["kind"]
    kind["enum"] = sorted(TemplateRegistry.load().kinds())
    document["components"]["schemas"]["Observations"] = observation
    post = document["paths"]["/api/v1/observations"]["post"]
    post["requestBody"] = {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Observations"}},
            "text/csv": {
                "schema": {"type": "string"},
                "description": "observables, one per row, with a header row; the report "
                "fields go in query parameters",
            },
        },
    }
    post["parameters"] = [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "schema": {"type": "string"},
            "description": "a retry with the same key returns the first result and "
            "creates nothing new (the same body without a key does too)",
        }
    ]
    error_ref = {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    }
    for path_item in document["paths"].values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            for status, text in (("400", "invalid input"), ("401", "no valid credentials")):
                responses.setdefault(status, {"description": text, **error_ref})
    return document
