"""The intelligence part of the analyst API: "have we seen this?", the campaigns behind it,
their graph, and who the caller is (the console's sign-in check).

Every caller may ask (partners and their SIEMs too); every answer is filtered
for the caller by steppe.correlate.lookup and steppe.correlate.graph.
"""

from __future__ import annotations

import orjson
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from steppe import runtime
from steppe.access.caller import Caller
from steppe.correlate.graph import parse_graph_query
from steppe.correlate.lookup import DETAILS, MAX_VALUES, summary
from steppe.errors import InvalidInput, PayloadTooLarge
from steppe.handlers.common import (
    JSON,
    caller_of,
    json_response,
    limit_param,
    per_services,
    query_params,
)
from steppe.handlers.http import bounded_body
from steppe.observables.value_text import values_in_text
from steppe.runtime import services
from steppe.templates.registry import TemplateRegistry

router = APIGatewayRouter()
lookups = per_services(runtime.lookup_service)
graphs = per_services(runtime.campaign_graph)
administration = per_services(runtime.administration_service)

MAX_CAMPAIGNS_PAGE = 1000
# A synchronous Lambda response carries at most 6 MB; the embedded shape keeps the same rule.
MAX_RESPONSE_BYTES = 5_500_000


def _caller() -> Caller:
    caller = caller_of(router.current_event.raw_event)
    caller.require_authenticated()
    return caller


def _values_body() -> tuple[list[str], str, bool]:
    """The values to look up, the detail asked for, and whether they came from a text."""
    raw = bounded_body(router.current_event.raw_event, services().settings.max_body_bytes)
    if not raw.strip():
        raise InvalidInput(
            'the body is empty; send {"values": ["198.51.100.7", ...]} or {"text": "..."}',
            where="body",
        )
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as problem:
        raise InvalidInput(f"the body is not valid JSON: {problem}", where="body") from None
    if not isinstance(document, dict):
        raise InvalidInput('the body must be a JSON object: {"values": [...]}', where="body")
    unknown = sorted(set(document) - {"values", "text", "detail"})
    if unknown:
        raise InvalidInput(
            f"unknown field '{unknown[0]}'; allowed: values, text, detail",
            where=unknown[0] or "body",
        )
    detail = document.get("detail", "summary")
    if detail not in DETAILS:
        raise InvalidInput(
            f"detail must be one of: {', '.join(DETAILS)}, not {detail!r}", where="detail"
        )
    if "text" in document:
        return _text_values(document), detail, True
    values = document.get("values")
    if not isinstance(values, list):
        raise InvalidInput("values must be a list of strings", where="values")
    if not values:
        raise InvalidInput("values is empty; give at least one value to look up", where="values")
    if len(values) > MAX_VALUES:
        raise PayloadTooLarge(
            f"{len(values):,} values in one request; the limit is {MAX_VALUES:,}: "
            "split them into several requests",
            where="values",
        )
    for index, value in enumerate(values):
        if not isinstance(value, str):
            raise InvalidInput(
                f"values[{index}] is a {type(value).__name__}, not a string",
                where=f"values[{index}]",
            )
    return values, detail, False


def _text_values(document: dict) -> list[str]:
    if "values" in document:
        raise InvalidInput("give either values or text, not both", where="text")
    text = document["text"]
    if not isinstance(text, str):
        raise InvalidInput(f"text is a {type(text).__name__}, not a string", where="text")
    values = values_in_text(text, limit=MAX_VALUES + 1)
    if len(values) > MAX_VALUES:
        raise PayloadTooLarge(
            f"the text holds more than {MAX_VALUES:,} values; the limit is {MAX_VALUES:,} "
            "per lookup: split it into several requests",
            where="text",
        )
    if not values:
        raise InvalidInput(
            "the text holds no value steppe can look up (an IP address or CIDR block, a "
            "domain, a URL, an MD5/SHA-1/SHA-256/SHA-512 hash or an AS number)",
            where="text",
        )
    return values


@router.get(
    "/api/v1/observables",
    summary="Have we seen this value?",
    description="`?value=` an IPv4/IPv6 address or CIDR block, a domain, a URL, an email "
    "address, an MD5/SHA-1/SHA-256/SHA-512 hash, an AS number (AS64496), or a malware or "
    "tool family (malware:BlackEnergy, tool:Mimikatz, or one bare word no other kind takes; "
    "any spelling or alias). A hash also answers `sample_of` (the malware and tools it is a "
    "sample of), a family `tools` (its malware or tool objects). The answer lists "
    "its exact matches, the indexed networks it lies within, what it contains (a network of "
    "at most a /24 or /48, an AS), the campaigns, indicators, sources and producers behind "
    "them with first/last seen, whether it is a false positive, and, apart, weak evidence "
    "(campaigns with other addresses in its /24 or /48). Only what the caller may read, at "
    "or below its TLP clearance. A value that is none of these kinds is a 400.",
    tags=["intelligence"],
)
def lookup_observable() -> Response[dict]:
    caller = _caller()
    value = query_params(router.current_event.raw_event, {"value"}).get("value")
    if value is None or not value.strip():
        raise InvalidInput("give the value to look up: ?value=198.51.100.7", where="value")
    return json_response(200, lookups().lookup_one(value, caller))


@router.post(
    "/api/v1/observables/lookup",
    summary="Have we seen these values? (bulk, for SIEM enrichment)",
    description='Body: `{"values": ["198.51.100.7", "example.org", ...], "detail": '
    '"summary"}`, at most 10,000 values; or `{"text": "..."}` instead of `values`: free '
    "text of at most 1 MB whose IP addresses, CIDR blocks, domains, URLs, hashes and AS "
    "numbers (defanged ones too: `198.51.100[.]7`, `hxxp://`) are looked up, in order and "
    "once each, and listed in `values`. One answer per value, in the order sent: with "
    '`detail: "summary"` (the default) whether it was seen, how often, first and last '
    "seen, up to 10 campaigns and indicators and how many weak-evidence campaigns; with "
    '`detail: "full"` each answer is shaped like GET /api/v1/observables. A value of no '
    "known kind is answered `recognised: false, found: false` instead of failing the request.",
    responses={
        200: {"description": "one result per value"},
        413: {"description": "more than 10,000 values, or an answer larger than a response"},
    },
    tags=["intelligence"],
)
def lookup_observables() -> Response[dict]:
    caller = _caller()
    values, detail, from_text = _values_body()
    results = lookups().lookup(values, caller)
    if detail == "summary":
        results = [summary(result) for result in results]
    found = sum(1 for result in results if result["found"])
    answer: dict = {"results": results, "count": len(results), "found": found}
    if from_text:
        answer["values"] = values
    body = orjson.dumps(answer)
    if len(body) > MAX_RESPONSE_BYTES:
        fits = max(1, len(values) * MAX_RESPONSE_BYTES // len(body) * 9 // 10)
        raise PayloadTooLarge(
            f"the answer to these {len(values):,} values ({found:,} of them seen) would be "
            f"{len(body) / 1e6:.1f} MB, more than one response carries "
            f"({MAX_RESPONSE_BYTES / 1e6:.1f} MB); send at most about {fits:,} values per request",
            where="values",
        )
    return Response(status_code=200, content_type=JSON, body=body.decode("utf-8"))


@router.get(
    "/api/v1/campaigns",
    summary="The campaigns the caller may see",
    description="In id order, `?limit=` (1-1000, default 50) per page; `next` (and "
    "`links.next`) is the `?after=` of the following page, null on the last.",
    tags=["intelligence"],
)
def list_campaigns() -> Response[dict]:
    caller = _caller()
    params = query_params(router.current_event.raw_event, {"after", "limit"})
    limit = limit_param(params, 50, MAX_CAMPAIGNS_PAGE)
    page = lookups().list_campaigns(caller, limit=limit, after=params.get("after") or None)
    if page["next"]:
        page["links"] = {"next": f"/api/v1/campaigns?after={page['next']}&limit={limit}"}
    return json_response(200, page)


@router.get(
    "/api/v1/campaigns/graph",
    summary="The campaign graph: campaigns as nodes, what they share as edges",
    description="The campaigns the caller may see (`nodes`, in id order, at most `limit`) and "
    "one edge per pair and strength between them (`source` < `target`), with exactly the "
    "evidence GET /api/v1/campaigns/{campaign_id} lists as `related` for this caller: "
    "strength, evidence (strong, medium, weak), confidence, count and up to 5 shared values. "
    "Filters (all optional): `since`, `until` (RFC 3339 or a date: campaigns last seen at or "
    "after / first seen at or before), `kind` and `collection` (repeatable or comma lists), "
    "`tlp` (the highest level shown: the graph as a reader cleared to it sees it), "
    "`strength` (exact, sample, family, network, asn; repeatable or a comma list), `limit` "
    "(1-5000 nodes, default 2000). `truncated` is true when campaigns or edges were left out.",
    responses={
        200: {"description": "the graph"},
        400: {"description": "a filter that is not valid, named in `where`"},
        413: {"description": "a graph larger than a response: lower `limit`"},
    },
    tags=["intelligence"],
)
def campaign_graph() -> Response[dict]:
    caller = _caller()
    event = router.current_event.raw_event
    params = event.get("multiValueQueryStringParameters") or {
        name: [value] for name, value in (event.get("queryStringParameters") or {}).items()
    }
    query = parse_graph_query(params, TemplateRegistry.load().kinds())
    body = orjson.dumps(graphs().graph(caller, query))
    if len(body) > MAX_RESPONSE_BYTES:
        raise PayloadTooLarge(
            f"the graph of these {query.limit:,} campaigns would be {len(body) / 1e6:.1f} MB, "
            f"more than one response carries ({MAX_RESPONSE_BYTES / 1e6:.1f} MB); ask for "
            "fewer with limit or the filters",
            where="limit",
        )
    return Response(status_code=200, content_type=JSON, body=body.decode("utf-8"))


@router.get(
    "/api/v1/me",
    summary="Who the key is: partner, role, clearance and the collections it may use",
    description="The console's sign-in check. `clearance` is the highest TLP level the "
    "caller may receive; `can_read` / `can_write` list the collections (id and title) it "
    "may read / write (an admin: every collection).",
    tags=["intelligence"],
)
def who_am_i() -> Response[dict]:
    caller = _caller()
    query_params(router.current_event.raw_event, set())
    collections = administration().list_collections()
    return json_response(
        200,
        {
            "partner": caller.partner,
            "role": caller.role,
            "clearance": caller.clearance_name,
            "can_read": [
                {"id": c.id, "title": c.title} for c in collections if caller.may_read(c.id)
            ],
            "can_write": [
                {"id": c.id, "title": c.title} for c in collections if caller.may_write(c.id)
            ],
        },
    )


@router.get(
    "/api/v1/campaigns/<campaign_id>",
    summary="One campaign: its indicators, targets, timeline and related campaigns",
    description="Related campaigns come with the strength of the link (strong: exact, "
    "sample; medium: family; weak: network, asn), its confidence, how many values they share "
    "and a sample of them. A "
    "campaign the caller may not see is answered 404, like one that does not exist.",
    responses={
        200: {"description": "the campaign view"},
        404: {"description": "no such campaign, or not one the caller may see"},
    },
    tags=["intelligence"],
)
def get_campaign(campaign_id: str) -> Response[dict]:
    caller = _caller()
    query_params(router.current_event.raw_event, set())
    return json_response(200, lookups().campaign(campaign_id, caller))
