"""HTTP facts every edge reads the same way: request bodies, headers, the last-resort 500.

Pure functions of an API Gateway proxy event (or of header pairs), free of
Powertools and of the process's services, so that the embedded gateway
(steppe.local) and every handler share them.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from typing import Any

from steppe.errors import PayloadTooLarge

# The body of a 500 that escaped every other handler: nothing of the failure is told.
_INTERNAL_ERROR = (
    '{"title":"Internal error","description":"the request failed on the '
    'server; it has been logged","http_status":"500"}'
)


def raw_body(event: Mapping[str, Any]) -> bytes:
    """The request body exactly as the client sent it (API Gateway base64-encodes binary)."""
    body = event.get("body")
    if body is None:
        return b""
    if event.get("isBase64Encoded"):
        return base64.b64decode(body)
    return body.encode("utf-8")


def bounded_body(event: Mapping[str, Any], limit: int) -> bytes:
    """The request body; 413 when it is larger than `limit` bytes."""
    body = raw_body(event)
    if len(body) > limit:
        raise PayloadTooLarge(
            f"the body is {len(body):,} bytes; the limit is {limit:,}", where="body"
        )
    return body


def header_value(
    headers: Mapping[str, str] | Iterable[tuple[str, str]] | None, name: str
) -> str | None:
    """A header's value, its name in any case; of a repeated header, the last one sent.

    `headers`: a proxy event's `headers` map, or (name, value) pairs as a client sent them.
    """
    pairs = headers.items() if isinstance(headers, Mapping) else headers or ()
    wanted = name.lower()
    found = None
    for key, value in pairs:
        if key.lower() == wanted:
            found = value
    return found


def header(event: Mapping[str, Any], name: str) -> str | None:
    """A header of a proxy event (its single-value map), its name in any case."""
    return header_value(event.get("headers"), name)


def internal_error_result(content_type: str) -> dict[str, Any]:
    """The Lambda proxy result of a request that failed past every error handler."""
    return {
        "statusCode": 500,
        "headers": {"Content-Type": content_type},
        "body": _INTERNAL_ERROR,
        "isBase64Encoded": False,
    }
