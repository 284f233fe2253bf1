"""What every HTTP handler shares: the caller, the raw body, JSON errors."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Collection, Mapping
from typing import Any, TypeVar

import orjson
from aws_lambda_powertools.event_handler import Response

from steppe.access.caller import Caller
from steppe.errors import InvalidInput, SteppeError
from steppe.runtime import Services, services
from steppe.stix.bounds import whole_number

JSON = "application/json"
T = TypeVar("T")

# Powertools' REST resolvers keep the event they are resolving in a class
# attribute (BaseRouter.current_event) that every resolver of the process
# shares. A Lambda instance resolves one event at a time; the embedded server
# runs every HTTP function in one process on several threads, where two
# requests resolved at once could each be routed, authorised and answered with
# the other's event. Every resolver-based handler resolves under this lock.
RESOLVING = threading.Lock()


def per_services(factory: Callable[[Services], T]) -> Callable[[], T]:
    """Build something from the process's services once, and again only if they change.

    A warm Lambda keeps one Services for its life; the embedded server and the
    tests may install new ones, and nothing may keep using the old.
    """
    built: list[tuple[Services, T]] = []

    def get() -> T:
        current = services()
        if not built or built[0][0] is not current:
            built[:] = [(current, factory(current))]
        return built[0][1]

    return get


def caller_of(event: Mapping[str, Any]) -> Caller:
    return Caller.from_event(event)


def raw_body(event: Mapping[str, Any]) -> bytes:
    """The request body exactly as the client sent it."""
    body = event.get("body")
    if body is None:
        return b""
    if event.get("isBase64Encoded"):
        return base64.b64decode(body)
    return body.encode("utf-8")


def json_fields(
    event: Mapping[str, Any], allowed: Collection[str], required: Collection[str] = ()
) -> dict[str, Any]:
    """The body as a JSON object of `allowed` fields ({} when there is none).

    400 naming the problem when it is not JSON, not an object, has a field not
    allowed or lacks a required one.
    """
    raw = raw_body(event)
    try:
        document = orjson.loads(raw) if raw.strip() else {}
    except orjson.JSONDecodeError as problem:
        raise InvalidInput(f"the body is not valid JSON: {problem}", where="body") from None
    if not isinstance(document, dict):
        raise InvalidInput("the body must be a JSON object", where="body")
    unknown = sorted(set(document) - set(allowed))
    if unknown:
        raise InvalidInput(
            f"unknown field '{unknown[0]}'; allowed: {', '.join(sorted(allowed))}",
            where=unknown[0] or "body",
        )
    missing = sorted(set(required) - set(document))
    if missing:
        raise InvalidInput(f"the field '{missing[0]}' is required", where=missing[0])
    return document


def query_params(
    event: Mapping[str, Any], allowed: Collection[str] | None = None
) -> dict[str, str]:
    """The query string as a dict; 400 for a parameter given twice or (with `allowed`) unknown."""
    multi = event.get("multiValueQueryStringParameters") or {}
    params: dict[str, str] = {}
    for name, values in multi.items():
        if len(values) > 1:
            raise InvalidInput(
                f"the query parameter '{name}' is given more than once", where=name or "query"
            )
        params[name] = values[0]
    if not multi:
        params = dict(event.get("queryStringParameters") or {})
    if allowed is not None:
        unknown = sorted(set(params) - set(allowed))
        if unknown:
            raise InvalidInput(
                f"unknown query parameter '{unknown[0]}'; allowed: {', '.join(sorted(allowed))}",
                where=unknown[0] or "query",
            )
    return params


def integer_param(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """A query parameter that is a whole number from low to high; 400 naming it otherwise.

    The one parser of integer parameters: never int() of an unbounded string
    (5,000 digits are a 400, not a 500).
    """
    raw = params.get(name)
    if raw is None:
        return default
    try:
        return whole_number(raw, low, high)
    except ValueError as problem:
        raise InvalidInput(f"the query parameter {name} {problem}", where=name) from None


def header(event: Mapping[str, Any], name: str) -> str | None:
    wanted = name.lower()
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == wanted:
            return value
    return None


def json_response(
    status: int, body: object, headers: Mapping[str, str] | None = None, content_type: str = JSON
) -> Response:
    return Response(
        status_code=status,
        content_type=content_type,
        body=orjson.dumps(body).decode("utf-8"),
        headers=dict(headers or {}),
    )


def error_response(error: SteppeError, content_type: str = JSON) -> Response:
    body = {**error.to_dict(), "http_status": str(error.status)}
    headers = {}
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="steppe", charset="UTF-8"'
    return json_response(error.status, body, headers, content_type)
