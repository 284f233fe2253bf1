"""What every HTTP handler shares: the caller, the raw body, JSON errors."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import orjson
from aws_lambda_powertools.event_handler import Response

from steppe.access.caller import Caller
from steppe.errors import SteppeError
from steppe.runtime import Services, services

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
