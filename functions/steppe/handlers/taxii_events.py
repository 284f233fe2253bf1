"""TAXII requests from API Gateway REST proxy events (payload format 1.0), in both shapes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from steppe.access.caller import Caller
from steppe.handlers.http import raw_body
from steppe.taxii.request import TaxiiRequest

# Hosts of API Gateway's default endpoints: https://{api-id}.execute-api.{region}.amazonaws.com/{stage}
_EXECUTE_API_HOST = re.compile(r"\.execute-api\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$", re.IGNORECASE)


def _headers(event: Mapping[str, Any]) -> dict[str, str]:
    multi = event.get("multiValueHeaders") or {}
    if multi:
        return {name.lower(): ", ".join(values) for name, values in multi.items() if values}
    return {name.lower(): value for name, value in (event.get("headers") or {}).items()}


def _params(event: Mapping[str, Any]) -> dict[str, list[str]]:
    multi = event.get("multiValueQueryStringParameters")
    if multi:
        return {name: list(values) for name, values in multi.items()}
    return {name: [value] for name, value in (event.get("queryStringParameters") or {}).items()}


def base_url(headers: Mapping[str, str], request_context: Mapping[str, Any], path: str) -> str:
    """Where the client reached this API: scheme, host and, on execute-api URLs, the stage.

    Behind an execute-api host the client's URL carries the stage
    (requestContext.path is /{stage}{path}); on any other host (the embedded
    server, a custom domain mapped at its root, as TAXII wants discovery at
    /taxii2/ of the server) the path is the client's path.
    """
    proto = (headers.get("x-forwarded-proto") or "https").split(",")[0].strip().lower()
    host = headers.get("host") or str(request_context.get("domainName") or "localhost")
    prefix = ""
    if _EXECUTE_API_HOST.search(host.split(":")[0]):
        full = str(request_context.get("path") or "")
        if path and full.endswith(path) and len(full) > len(path):
            prefix = full[: len(full) - len(path)]
        else:
            prefix = "/" + str(request_context.get("stage") or "")
        prefix = prefix.rstrip("/")
    return f"{proto}://{host}{prefix}"


def request_from_event(event: Mapping[str, Any]) -> TaxiiRequest:
    """The TAXII request an API Gateway REST proxy event (payload format 1.0) carries."""
    context = event.get("requestContext") or {}
    headers = _headers(event)
    path = str(event.get("path") or "/")
    return TaxiiRequest(
        method=str(event.get("httpMethod") or "GET").upper(),
        path=path,
        params=_params(event),
        headers=headers,
        body=raw_body(event),
        caller=Caller.from_event(event),
        request_id=str(context.get("requestId") or ""),
        base_url=base_url(headers, context, path),
    )
