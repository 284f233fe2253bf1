"""What every HTTP handler shares: the caller, the raw body, JSON errors."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Route
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

from steppe.access.auth import challenge
from steppe.access.caller import Caller
from steppe.errors import InvalidInput, SteppeError
from steppe.handlers.http import raw_body
from steppe.runtime import Services, services
from steppe.stix.bounds import whole_number

JSON = "application/json"
T = TypeVar("T")


@dataclass(slots=True)
class _RequestState:
    """What a Powertools resolver keeps about the one request it is resolving."""

    event: BaseProxyEvent | None = None
    lambda_context: Any = None
    context: dict[str, Any] = field(default_factory=dict)
    processed_stack_frames: list[str] = field(default_factory=list)


class RestResolver(APIGatewayRestResolver):
    """APIGatewayRestResolver whose per-request state belongs to the request.

    Powertools keeps the event being resolved in class attributes shared by
    every resolver of the process (BaseRouter.current_event, .lambda_context)
    and the matched route, its path arguments and the request in one dict per
    resolver (context). A Lambda instance resolves one event at a time; the
    embedded server runs every function in one process on many threads, where
    that sharing would route, authorise and answer one request with another's
    event. Here each of those attributes reads and writes a state held in a
    context variable that resolve() sets for the request (a thread's own, so
    requests on different threads never see each other's), and routers
    included with include_router() delegate to it. Nothing is locked.
    """

    def __init__(self, **options: Any) -> None:
        self._outside = _RequestState()  # before and between requests (route registration)
        self._current: ContextVar[_RequestState | None] = ContextVar(
            f"steppe_request_{id(self)}", default=None
        )
        # A route builds its middleware chain on its first call; two first calls
        # at once would wrap it twice.
        self._building = threading.Lock()
        super().__init__(**options)

    @property
    def _state(self) -> _RequestState:
        return self._current.get() or self._outside

    @property  # type: ignore[override]
    def current_event(self) -> BaseProxyEvent:
        event = self._state.event
        if event is None:
            raise RuntimeError("current_event is only set while a request is being resolved")
        return event

    @current_event.setter
    def current_event(self, value: BaseProxyEvent) -> None:
        self._state.event = value

    @property  # type: ignore[override]
    def lambda_context(self) -> Any:
        return self._state.lambda_context

    @lambda_context.setter
    def lambda_context(self, value: Any) -> None:
        self._state.lambda_context = value

    @property  # type: ignore[override]
    def context(self) -> dict[str, Any]:
        return self._state.context

    @context.setter
    def context(self, value: dict[str, Any]) -> None:
        self._state.context = value

    @property  # type: ignore[override]
    def processed_stack_frames(self) -> list[str]:
        return self._state.processed_stack_frames

    @processed_stack_frames.setter
    def processed_stack_frames(self, value: list[str]) -> None:
        self._state.processed_stack_frames = value

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        state = _RequestState(
            event=self._to_proxy_event(dict(event)),
            lambda_context=context,
            context=dict(self._outside.context),
        )
        token = self._current.set(state)
        try:
            # The parent also assigns BaseRouter.current_event / lambda_context
            # (class attributes): nothing here reads them, the properties above
            # shadow them.
            return super().resolve(event, context)
        finally:
            self._current.reset(token)

    def _call_route(self, route: Route, route_arguments: dict[str, str]) -> Any:
        if not route._middleware_stack_built:
            with self._building:
                if not route._middleware_stack_built:
                    route._build_middleware_stack(
                        router_middlewares=self._router_middlewares, app=self
                    )
        return super()._call_route(route, route_arguments)


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


def json_object(raw: bytes) -> dict[str, Any]:
    """A body that must be a JSON object ({} when empty); 400 when it is not one."""
    try:
        document = orjson.loads(raw) if raw.strip() else {}
    except orjson.JSONDecodeError as problem:
        raise InvalidInput(f"the body is not valid JSON: {problem}", where="body") from None
    if not isinstance(document, dict):
        raise InvalidInput("the body must be a JSON object", where="body")
    return document


def json_fields(
    event: Mapping[str, Any], allowed: Collection[str], required: Collection[str] = ()
) -> dict[str, Any]:
    """The body as a JSON object of `allowed` fields ({} when there is none).

    400 naming the problem when it is not JSON, not an object, has a field not
    allowed or lacks a required one.
    """
    document = json_object(raw_body(event))
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


def limit_param(params: Mapping[str, str], default: int, high: int) -> int:
    """The page size a list endpoint was asked for: ?limit= from 1 to high."""
    return integer_param(params, "limit", default, 1, high)


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
        headers["WWW-Authenticate"] = challenge(bearer=False)
    return json_response(error.status, body, headers, content_type)
