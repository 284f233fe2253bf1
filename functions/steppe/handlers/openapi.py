"""The OpenAPI document of the analyst API, served at /api/v1/openapi.json.

Powertools generates the paths from the routes; the submission body is read
raw (JSON or CSV, validated by steppe.observables.report_json and report_csv, whose errors name the
field or row), so its schema is added here, from observables/observation.schema.json.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from steppe.distribution.sightings import SightingReport
from steppe.templates.registry import TemplateRegistry

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "observables" / "observation.schema.json"

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


def _query(name: str, schema: dict[str, Any], text: str, required: bool = False) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "schema": schema,
        "description": text,
    }


def _limit(default: int, high: int) -> dict[str, Any]:
    schema = {"type": "integer", "minimum": 1, "maximum": high, "default": default}
    return _query("limit", schema, f"page size, 1..{high}")


# The query parameters and JSON bodies the handlers read raw (Powertools sees none of them).
_PARAMETERS: dict[tuple[str, str], list[dict[str, Any]]] = {
    ("/api/v1/submissions", "get"): [_limit(50, 500)],
    ("/api/v1/submissions/{submission_id}/bundle", "get"): [
        _query("part", {"type": "integer", "minimum": 1, "default": 1}, "the bundle's part")
    ],
    ("/api/v1/observables", "get"): [
        _query("value", {"type": "string"}, "the value to look up", required=True)
    ],
    ("/api/v1/campaigns", "get"): [
        _limit(50, 1000),
        _query("after", {"type": "string"}, "the `next` of the previous page"),
    ],
    ("/api/v1/campaigns/graph", "get"): [
        _query("since", {"type": "string"}, "campaigns last seen at or after (RFC 3339)"),
        _query("until", {"type": "string"}, "campaigns first seen at or before (RFC 3339)"),
        _query("kind", {"type": "string"}, "attack kinds (repeatable or a comma list)"),
        _query("collection", {"type": "string"}, "collection ids (repeatable or a comma list)"),
        _query(
            "tlp",
            {"type": "string", "enum": ["clear", "green", "amber", "amber+strict", "red"]},
            "the highest TLP level shown",
        ),
        _query(
            "strength",
            {"type": "string"},
            "link strengths shown: exact, sample, family, network, asn (a comma list)",
        ),
        _limit(2000, 5000),
    ],
    ("/api/v1/false-positives", "get"): [_limit(1000, 1000)],
    ("/api/v1/false-positives", "delete"): [
        _query("value", {"type": "string"}, "the value, as it was declared", required=True)
    ],
}
_REASON = {
    "type": "object",
    "properties": {"reason": {"type": "string"}},
    "additionalProperties": False,
}
_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("/api/v1/observables/lookup", "post"): {
        "type": "object",
        "properties": {
            "values": {"type": "array", "items": {"type": "string"}, "maxItems": 10_000},
            "text": {
                "type": "string",
                "description": "free text (at most 1 MB) whose values are looked up, "
                "instead of `values`",
            },
            "detail": {"type": "string", "enum": ["summary", "full"]},
        },
        "additionalProperties": False,
    },
    ("/api/v1/false-positives", "post"): {
        "type": "object",
        "required": ["value"],
        "properties": {"value": {"type": "string"}, "reason": {"type": "string"}},
        "additionalProperties": False,
    },
    ("/api/v1/indicators/{indicator_id}/revoke", "post"): _REASON,
    ("/api/v1/submissions/{submission_id}/revoke", "post"): _REASON,
    ("/api/v1/sightings", "post"): SightingReport.model_json_schema(),
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
    for (path, method), parameters in _PARAMETERS.items():
        operation = document["paths"][path][method]
        operation["parameters"] = [*operation.get("parameters", []), *parameters]
    for (path, method), body in _BODIES.items():
        document["paths"][path][method]["requestBody"] = {
            "required": False,
            "content": {"application/json": {"schema": body}},
        }
    error_ref = {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    }
    for path_item in document["paths"].values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            for status, text in (("400", "invalid input"), ("401", "no valid credentials")):
                responses.setdefault(status, {"description": text, **error_ref})
    return document
