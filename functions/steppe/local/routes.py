"""The route table of the embedded server, read from the SAM template.

template.yaml is the one source of truth for routes and functions: every
`Type: Api` event of an AWS::Serverless::Function becomes a route here, with
the authorizer API Gateway would run in front of it, and every `Type: SQS`
event becomes a trigger for the local worker. The table is built once, at
start; matching follows API Gateway REST: literal segments beat {param},
{proxy+} is greedy, a single trailing slash is tolerated.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml

HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
ANY = "ANY"

# SAM's defaults when neither the function nor Globals say otherwise.
_DEFAULT_TIMEOUT = 3
_DEFAULT_MEMORY = 128
_DEFAULT_SQS_BATCH = 10
_DEFAULT_VISIBILITY_TIMEOUT = 30
_IMPLICIT_API = "ServerlessRestApi"  # the API SAM creates for events without RestApiId
_IMPLICIT_STAGE = "Prod"


class TemplateError(ValueError):
    """template.yaml declares something the embedded runtime cannot serve."""


# --------------------------------------------------------------------------
# YAML with CloudFormation short-form tags
# --------------------------------------------------------------------------


class _CloudFormationLoader(yaml.SafeLoader):
    """SafeLoader that reads !Ref, !GetAtt, !Sub, !If... as their long-form dicts."""


def _construct_intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    key = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    return {key: value}


_CloudFormationLoader.add_multi_constructor("!", _construct_intrinsic)


def load_template(path: Path) -> dict[str, Any]:
    """Parse a CloudFormation/SAM template; intrinsic functions stay as plain data."""
    with open(path, encoding="utf-8") as stream:
        try:
            document = yaml.load(stream, Loader=_CloudFormationLoader)
        except yaml.YAMLError as error:
            raise TemplateError(f"{path} is not valid YAML: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        raise TemplateError(f"{path} is not a CloudFormation template (no Resources mapping)")
    return document


def default_template_path() -> Path:
    """STEPPE_TEMPLATE, else the template.yaml at the root of the source tree."""
    configured = os.environ.get("STEPPE_TEMPLATE")
    if configured:
        return Path(configured)
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "template.yaml"
        if candidate.is_file():
            return candidate
    raise TemplateError(
        "template.yaml not found above the steppe package; set STEPPE_TEMPLATE to its path"
    )


# --------------------------------------------------------------------------
# What the template declares
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """A Lambda function as the template declares it (Globals merged in)."""

    logical_id: str
    handler: str  # dotted path, e.g. steppe.handlers.api.lambda_handler
    timeout: int  # seconds
    memory_mb: int


@dataclass(frozen=True, slots=True)
class GatewayResponse:
    """An API's customised gateway response (AWS::Serverless::Api GatewayResponses)."""

    status: int | None
    headers: tuple[tuple[str, str], ...]
    template: str | None  # the application/json response template, if any


@dataclass(frozen=True, slots=True)
class Authorizer:
    name: str
    function: FunctionSpec
    payload_type: str  # "REQUEST" or "TOKEN"
    identity_headers: tuple[str, ...]
    identity_query_strings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RestApi:
    logical_id: str
    api_id: str  # what requestContext.apiId and methodArn carry
    stage: str
    gateway_responses: Mapping[str, GatewayResponse] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Route:
    resource: str  # the path template as declared, e.g. /api/v1/submissions/{submission_id}
    method: str  # an HTTP method or ANY
    function: FunctionSpec
    api: RestApi
    authorizer: Authorizer | None
    event_name: str


@dataclass(frozen=True, slots=True)
class SqsTrigger:
    function: FunctionSpec
    queue: str  # the queue's logical id
    batch_size: int
    report_batch_item_failures: bool
    visibility_timeout: int  # the queue's, in seconds
    max_receive_count: int | None  # from its RedrivePolicy


@dataclass(frozen=True, slots=True)
class ScheduleTrigger:
    """A `Type: Schedule` event: the function runs every `period` seconds with `input`."""

    function: FunctionSpec
    event_name: str
    period: int  # seconds
    input: dict[str, Any]


_RATE = re.compile(r"rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86_400}


@dataclass(frozen=True, slots=True)
class RouteMatch:
    route: Route
    path: str  # event.path: the request path, less a stage prefix if one was stripped
    path_parameters: dict[str, str] | None


@dataclass(frozen=True, slots=True)
class MethodNotAllowed:
    resource: str
    allowed: tuple[str, ...]


# --------------------------------------------------------------------------
# Matching
# --------------------------------------------------------------------------


@dataclass(slots=True)
class _Resource:
    template: str
    methods: dict[str, Route] = field(default_factory=dict)


@dataclass(slots=True)
class _Node:
    literals: dict[str, _Node] = field(default_factory=dict)
    param: tuple[str, _Node] | None = None
    greedy: tuple[str, _Resource] | None = None
    resource: _Resource | None = None


def _segments(path: str) -> list[str]:
    """Split a path into segments, tolerating a single trailing slash."""
    if path.endswith("/") and path != "/":
        path = path[:-1]
    return [] if path in ("", "/") else path[1:].split("/")


def _walk(
    node: _Node, segments: list[str], index: int, params: dict[str, str]
) -> tuple[_Resource, dict[str, str]] | None:
    if index == len(segments):
        return (node.resource, params) if node.resource is not None else None
    raw = segments[index]
    decoded = unquote(raw)
    child = node.literals.get(decoded)
    if child is not None:
        found = _walk(child, segments, index + 1, params)
        if found is not None:
            return found
    if node.param is not None and raw:
        name, child = node.param
        found = _walk(child, segments, index + 1, {**params, name: decoded})
        if found is not None:
            return found
    if node.greedy is not None:
        rest = "/".join(segments[index:])
        if rest:
            name, resource = node.greedy
            return resource, {**params, name: unquote(rest)}
    return None


class RouteTable:
    """Routes, authorizers and SQS triggers of one template, ready to match requests."""

    def __init__(
        self,
        routes: list[Route],
        sqs_triggers: list[SqsTrigger],
        environment: dict[str, str],
        source: str = "<template>",
        schedules: list[ScheduleTrigger] | None = None,
    ) -> None:
        self.routes: tuple[Route, ...] = tuple(routes)
        self.sqs_triggers: tuple[SqsTrigger, ...] = tuple(sqs_triggers)
        self.schedules: tuple[ScheduleTrigger, ...] = tuple(schedules or ())
        self.environment = dict(environment)  # Globals.Function Environment, literal values only
        self.source = source
        self._root = _Node()
        for route in routes:
            self._add(route)
        self._stages = sorted({route.api.stage for route in routes})

    def _add(self, route: Route) -> None:
        node = self._root
        segments = _segments(route.resource)
        for position, segment in enumerate(segments):
            if segment.startswith("{") and segment.endswith("+}"):
                if position != len(segments) - 1:
                    raise TemplateError(
                        f"{route.event_name}: greedy {segment} must be the last segment of "
                        f"{route.resource}"
                    )
                name = segment[1:-2]
                if node.greedy is None:
                    node.greedy = (name, _Resource(route.resource))
                elif node.greedy[0] != name:
                    raise TemplateError(
                        f"{route.event_name}: {route.resource} names its greedy parameter "
                        f"'{name}' where another route names it '{node.greedy[0]}'"
                    )
                self._put(node.greedy[1], route)
                return
            if segment.startswith("{") and segment.endswith("}"):
                name = segment[1:-1]
                if node.param is None:
                    node.param = (name, _Node())
                elif node.param[0] != name:
                    raise TemplateError(
                        f"{route.event_name}: {route.resource} names a path parameter "
                        f"'{name}' where another route names it '{node.param[0]}'"
                    )
                node = node.param[1]
            else:
                node = node.literals.setdefault(segment, _Node())
        if node.resource is None:
            node.resource = _Resource(route.resource)
        self._put(node.resource, route)

    @staticmethod
    def _put(resource: _Resource, route: Route) -> None:
        existing = resource.methods.get(route.method)
        if existing is not None:
            raise TemplateError(
                f"{route.method} {route.resource} is declared twice "
                f"({existing.event_name} and {route.event_name})"
            )
        resource.methods[route.method] = route

    def match(self, method: str, path: str) -> RouteMatch | MethodNotAllowed | None:
        """The route for a request path (as sent, still percent-encoded), or why there is none.

        A path that only matches once a leading /<stage> is removed (the form
        execute-api URLs take) is served too, with the stage removed from
        event.path as API Gateway does.
        """
        found = _walk(self._root, _segments(path), 0, {})
        event_path = path
        if found is None:
            for stage in self._stages:
                prefix = f"/{stage}"
                if path == prefix or path.startswith(prefix + "/"):
                    rest = path[len(prefix) :] or "/"
                    found = _walk(self._root, _segments(rest), 0, {})
                    if found is not None:
                        event_path = rest
                        break
        if found is None:
            return None
        resource, params = found
        route = resource.methods.get(method) or resource.methods.get(ANY)
        if route is None:
            return MethodNotAllowed(resource.template, tuple(sorted(resource.methods)))
        return RouteMatch(route, event_path, params or None)

    def sqs_trigger(self) -> SqsTrigger:
        """The one SQS-triggered function the local job queue feeds."""
        if len(self.sqs_triggers) != 1:
            names = ", ".join(t.function.logical_id for t in self.sqs_triggers) or "none"
            raise TemplateError(
                "the embedded runtime has one job queue and needs exactly one SQS-triggered "
                f"function in {self.source}; found {names}"
            )
        return self.sqs_triggers[0]

    @classmethod
    def from_template(cls, path: Path | None = None) -> RouteTable:
        path = default_template_path() if path is None else path
        return _TemplateReader(load_template(path), str(path)).read()


# --------------------------------------------------------------------------
# Reading the template
# --------------------------------------------------------------------------


def _logical_id(reference: Any, attribute: str | None = None) -> str | None:
    """The logical id in !Ref X / !GetAtt X.Attr (or their long forms)."""
    if isinstance(reference, dict):
        if attribute is None and "Ref" in reference:
            return str(reference["Ref"])
        target = reference.get("Fn::GetAtt")
        if (
            isinstance(target, list)
            and len(target) == 2
            and (attribute is None or target[1] == attribute)
        ):
            return str(target[0])
    return None


def _int(value: Any, default: int) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return default


def _quoted_literal(value: Any) -> str | None:
    """A gateway-response header value: '...' in single quotes is a literal."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1]
    return None


class _TemplateReader:
    def __init__(self, template: dict[str, Any], source: str) -> None:
        self.template = template
        self.source = source
        self.resources: dict[str, Any] = template["Resources"]
        globals_ = template.get("Globals") or {}
        self.function_globals: dict[str, Any] = globals_.get("Function") or {}
        self.api_globals: dict[str, Any] = globals_.get("Api") or {}
        self._functions: dict[str, FunctionSpec] = {}
        self._apis: dict[str, tuple[RestApi, dict[str, Authorizer], str | None]] = {}

    def read(self) -> RouteTable:
        routes: list[Route] = []
        triggers: list[SqsTrigger] = []
        schedules: list[ScheduleTrigger] = []
        for logical_id, resource in self.resources.items():
            if (
                not isinstance(resource, dict)
                or resource.get("Type") != "AWS::Serverless::Function"
            ):
                continue
            events = (resource.get("Properties") or {}).get("Events") or {}
            for event_name, event in events.items():
                kind = event.get("Type")
                properties = event.get("Properties") or {}
                if kind == "Api":
                    routes.append(self._route(logical_id, event_name, properties))
                elif kind == "SQS":
                    triggers.append(self._sqs_trigger(logical_id, event_name, properties))
                elif kind == "Schedule":
                    schedules.append(self._schedule(logical_id, event_name, properties))
        return RouteTable(routes, triggers, self._environment(), self.source, schedules)

    def _schedule(
        self, function_id: str, event_name: str, properties: dict[str, Any]
    ) -> ScheduleTrigger:
        where = f"{function_id}.{event_name}"
        rate = _RATE.fullmatch(str(properties.get("Schedule") or "").strip())
        if rate is None:
            raise TemplateError(f"{where}: Schedule must be rate(N minutes|hours|days)")
        period = int(rate.group(1)) * _UNIT_SECONDS[rate.group(2).rstrip("s")]
        try:
            event_input = json.loads(properties.get("Input") or "{}")
        except json.JSONDecodeError as problem:
            raise TemplateError(f"{where}: Input is not JSON: {problem}") from None
        if not isinstance(event_input, dict) or period < 1:
            raise TemplateError(f"{where}: Input must be a JSON object and the rate above 0")
        return ScheduleTrigger(self.function(function_id), event_name, period, event_input)

    def _environment(self) -> dict[str, str]:
        variables = (self.function_globals.get("Environment") or {}).get("Variables") or {}
        return {k: str(v) for k, v in variables.items() if isinstance(v, str | int | float)}

    def function(self, logical_id: str) -> FunctionSpec:
        spec = self._functions.get(logical_id)
        if spec is not None:
            return spec
        resource = self.resources.get(logical_id)
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::Serverless::Function":
            raise TemplateError(
                f"{logical_id} is not an AWS::Serverless::Function in {self.source}"
            )
        properties = resource.get("Properties") or {}
        handler = properties.get("Handler", self.function_globals.get("Handler"))
        if not isinstance(handler, str) or "." not in handler:
            raise TemplateError(f"{logical_id} has no Handler of the form module.function")
        spec = FunctionSpec(
            logical_id=logical_id,
            handler=handler,
            timeout=_int(
                properties.get("Timeout", self.function_globals.get("Timeout")), _DEFAULT_TIMEOUT
            ),
            memory_mb=_int(
                properties.get("MemorySize", self.function_globals.get("MemorySize")),
                _DEFAULT_MEMORY,
            ),
        )
        self._functions[logical_id] = spec
        return spec

    def _api(self, logical_id: str) -> tuple[RestApi, dict[str, Authorizer], str | None]:
        known = self._apis.get(logical_id)
        if known is not None:
            return known
        if logical_id == _IMPLICIT_API and logical_id not in self.resources:
            api = RestApi(logical_id, logical_id.lower(), _IMPLICIT_STAGE)
            self._apis[logical_id] = (api, {}, None)
            return self._apis[logical_id]
        resource = self.resources.get(logical_id)
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::Serverless::Api":
            raise TemplateError(f"RestApiId {logical_id} is not an AWS::Serverless::Api")
        properties = {**self.api_globals, **(resource.get("Properties") or {})}
        stage = properties.get("StageName")
        if not isinstance(stage, str):
            raise TemplateError(f"{logical_id} needs a literal StageName")
        auth = properties.get("Auth") or {}
        authorizers = {
            name: self._authorizer(logical_id, name, config)
            for name, config in (auth.get("Authorizers") or {}).items()
        }
        default = auth.get("DefaultAuthorizer")
        if default is not None and default not in authorizers:
            raise TemplateError(f"{logical_id}: DefaultAuthorizer {default} is not declared")
        api = RestApi(
            logical_id=logical_id,
            api_id=logical_id.lower(),
            stage=stage,
            gateway_responses=self._gateway_responses(properties.get("GatewayResponses") or {}),
        )
        self._apis[logical_id] = (api, authorizers, default)
        return self._apis[logical_id]

    def _authorizer(self, api: str, name: str, config: dict[str, Any]) -> Authorizer:
        target = _logical_id(config.get("FunctionArn"), "Arn")
        if target is None:
            raise TemplateError(
                f"{api}: authorizer {name} needs FunctionArn: !GetAtt <Function>.Arn "
                "(the embedded runtime only runs Lambda authorizers from this template)"
            )
        payload_type = str(config.get("FunctionPayloadType", "TOKEN")).upper()
        identity = config.get("Identity") or {}
        if payload_type == "TOKEN":
            headers: tuple[str, ...] = (str(identity.get("Header", "Authorization")),)
            queries: tuple[str, ...] = ()
        elif payload_type == "REQUEST":
            headers = tuple(str(h) for h in identity.get("Headers") or ())
            queries = tuple(str(q) for q in identity.get("QueryStrings") or ())
        else:
            raise TemplateError(f"{api}: authorizer {name} has FunctionPayloadType {payload_type}")
        return Authorizer(name, self.function(target), payload_type, headers, queries)

    @staticmethod
    def _gateway_responses(config: dict[str, Any]) -> dict[str, GatewayResponse]:
        responses = {}
        for kind, spec in config.items():
            spec = spec or {}
            parameters = (spec.get("ResponseParameters") or {}).get("Headers") or {}
            headers = tuple(
                (name, literal)
                for name, value in parameters.items()
                if (literal := _quoted_literal(value)) is not None
            )
            templates = spec.get("ResponseTemplates") or {}
            template = templates.get("application/json")
            status = spec.get("StatusCode")
            responses[str(kind)] = GatewayResponse(
                status=_int(status, 0) or None,
                headers=headers,
                template=template if isinstance(template, str) else None,
            )
        return responses

    def _route(self, function_id: str, event_name: str, properties: dict[str, Any]) -> Route:
        path = properties.get("Path")
        method = str(properties.get("Method", "")).upper()
        if not isinstance(path, str) or not path.startswith("/"):
            raise TemplateError(
                f"{function_id}.{event_name}: Path must be a literal starting with /"
            )
        if method != ANY and method not in HTTP_METHODS:
            raise TemplateError(f"{function_id}.{event_name}: unknown Method {method!r}")
        api_ref = properties.get("RestApiId")
        api_id = _IMPLICIT_API if api_ref is None else _logical_id(api_ref)
        if api_id is None:
            raise TemplateError(f"{function_id}.{event_name}: RestApiId must be !Ref <Api>")
        api, authorizers, default = self._api(api_id)
        wanted = (properties.get("Auth") or {}).get("Authorizer", default)
        if wanted is None or wanted == "NONE":
            authorizer = None
        elif wanted in authorizers:
            authorizer = authorizers[wanted]
        else:
            raise TemplateError(
                f"{function_id}.{event_name}: authorizer {wanted} is not a Lambda authorizer "
                f"declared on {api_id}"
            )
        return Route(path, method, self.function(function_id), api, authorizer, event_name)

    def _sqs_trigger(
        self, function_id: str, event_name: str, properties: dict[str, Any]
    ) -> SqsTrigger:
        queue = _logical_id(properties.get("Queue"), "Arn")
        if queue is None:
            raise TemplateError(f"{function_id}.{event_name}: Queue must be !GetAtt <Queue>.Arn")
        queue_properties = (self.resources.get(queue) or {}).get("Properties") or {}
        redrive = queue_properties.get("RedrivePolicy") or {}
        max_receive = redrive.get("maxReceiveCount")
        response_types = properties.get("FunctionResponseTypes") or ()
        return SqsTrigger(
            function=self.function(function_id),
            queue=queue,
            batch_size=_int(properties.get("BatchSize"), _DEFAULT_SQS_BATCH),
            report_batch_item_failures="ReportBatchItemFailures" in response_types,
            visibility_timeout=_int(
                queue_properties.get("VisibilityTimeout"), _DEFAULT_VISIBILITY_TIMEOUT
            ),
            max_receive_count=None if max_receive is None else _int(max_receive, 0) or None,
        )
