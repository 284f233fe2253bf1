"""HTTP requests as API Gateway REST events, and Lambda results as HTTP responses.

Everything here follows what API Gateway (REST API, Lambda proxy integration,
payload format 1.0) sends and accepts, so that a handler cannot tell the
embedded server from AWS:

* the proxy event: resource, path, httpMethod, headers / multiValueHeaders
  (original header names; the single-value map holds the last value),
  queryStringParameters / multiValueQueryStringParameters (None when there
  are none), pathParameters, stageVariables, requestContext, body (text, or
  base64 with isBase64Encoded when it is not UTF-8);
* the Lambda authorizer events (REQUEST and TOKEN) and how their result is
  judged: "Unauthorized" -> 401, a policy that does not allow
  execute-api:Invoke on the methodArn -> 403, otherwise the authorizer
  context reaches the handler with its values stringified, as AWS does;
* the proxy response (statusCode, headers, multiValueHeaders, body,
  isBase64Encoded), where anything else is a 502 "Internal server error".
"""

from __future__ import annotations

import base64
import binascii
import copy
import functools
import hashlib
import json
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from steppe.handlers.http import header_value
from steppe.local.account import ACCOUNT_ID, region
from steppe.local.routes import GatewayResponse, RestApi, RouteMatch

EXECUTE_API_INVOKE = "execute-api:Invoke"

# Headers a WSGI application may not set (PEP 3333) or that the server computes.
_SERVER_HEADERS = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "content-length",
    }
)
_PROXY_RESPONSE_KEYS = frozenset(
    {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"}
)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# --------------------------------------------------------------------------
# Requests
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One HTTP request, as the client sent it."""

    method: str
    path: str  # as sent: still percent-encoded, without the query string
    query_string: str
    headers: list[tuple[str, str]]  # original names and order, repeats kept
    body: bytes
    source_ip: str
    scheme: str
    port: str
    protocol: str


def split_request_target(environ: Mapping[str, Any]) -> tuple[str, str]:
    """The request's path exactly as sent (percent-encoding kept) and its query string."""
    target = environ.get("REQUEST_URI") or environ.get("RAW_URI")
    if target:
        if not target.startswith("/"):  # absolute-form: GET http://host/path HTTP/1.1
            parts = urlsplit(target)
            return parts.path or "/", parts.query
        path, _, query = target.partition("?")
        return path, query
    # No raw target from the server: rebuild it from the decoded PATH_INFO.
    path_info = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    path = quote(path_info.encode("latin-1"), safe="/:@!$&'()*+,;=-._~") or "/"
    return path, environ.get("QUERY_STRING", "")


def headers_from_environ(environ: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Request headers with their original names when the server kept them.

    The embedded waitress server records them as `steppe.raw_headers`; any
    other WSGI server only gives CGI names, which are turned back into the
    usual Title-Case spelling.
    """
    raw = environ.get("steppe.raw_headers")
    if raw is not None:
        return raw
    headers = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers.append((key[5:].replace("_", "-").title(), value))
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            headers.append((key.replace("_", "-").title(), value))
    return headers


def _multi_map(pairs: Iterable[tuple[str, str]], case_insensitive: bool) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    if not case_insensitive:
        for name, value in pairs:
            result.setdefault(name, []).append(value)
        return result
    spelling: dict[str, str] = {}  # lower-case name -> the first spelling the client used
    for name, value in pairs:
        key = spelling.setdefault(name.lower(), name)
        result.setdefault(key, []).append(value)
    return result


def _last_values(multi: dict[str, list[str]]) -> dict[str, str]:
    return {name: values[-1] for name, values in multi.items()}


def _gateway_headers(request: HttpRequest) -> list[tuple[str, str]]:
    """The request's headers plus the X-Forwarded-* ones API Gateway adds."""
    headers = []
    forwarded_for = None
    for name, value in request.headers:
        lower = name.lower()
        if lower == "x-forwarded-for":
            forwarded_for = value if forwarded_for is None else f"{forwarded_for}, {value}"
        elif lower not in ("x-forwarded-port", "x-forwarded-proto"):
            headers.append((name, value))
    client = request.source_ip
    headers.append(
        ("X-Forwarded-For", client if forwarded_for is None else f"{forwarded_for}, {client}")
    )
    headers.append(("X-Forwarded-Port", request.port))
    headers.append(("X-Forwarded-Proto", request.scheme))
    return headers


def _request_time(epoch_ms: int) -> str:
    t = time.gmtime(epoch_ms // 1000)
    return (
        f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"
    )


@functools.lru_cache(maxsize=256)
def _resource_id(api_id: str, resource: str) -> str:
    return hashlib.sha1(f"{api_id}{resource}".encode(), usedforsecurity=False).hexdigest()[:6]


class EventParts:
    """What the proxy event and the authorizer events share, computed once per request."""

    __slots__ = (
        "headers",
        "multi_headers",
        "multi_query",
        "query",
        "request",
        "request_context",
    )

    def __init__(
        self, request: HttpRequest, match: RouteMatch, request_id: str, epoch_ms: int
    ) -> None:
        route = match.route
        api = route.api
        self.request = request
        self.multi_headers = _multi_map(_gateway_headers(request), case_insensitive=True)
        self.headers = _last_values(self.multi_headers)
        pairs = parse_qsl(request.query_string, keep_blank_values=True)
        self.multi_query = _multi_map(pairs, case_insensitive=False) or None
        self.query = _last_values(self.multi_query) if self.multi_query else None
        host = header_value(request.headers, "host") or f"{api.api_id}.execute-api.local"
        self.request_context: dict[str, Any] = {
            "resourceId": _resource_id(api.api_id, route.resource),
            "resourcePath": route.resource,
            "httpMethod": request.method,
            "extendedRequestId": request_id,
            "requestTime": _request_time(epoch_ms),
            "path": f"/{api.stage}{match.path}",
            "accountId": ACCOUNT_ID,
            "protocol": request.protocol,
            "stage": api.stage,
            "domainPrefix": host.split(".", 1)[0],
            "requestTimeEpoch": epoch_ms,
            "requestId": request_id,
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": request.source_ip,
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": header_value(request.headers, "user-agent"),
                "user": None,
            },
            "domainName": host,
            "apiId": api.api_id,
        }


def proxy_event(parts: EventParts, match: RouteMatch, authorizer: dict[str, Any] | None) -> dict:
    """The Lambda proxy integration event (payload format 1.0) for one request."""
    request = parts.request
    context = dict(parts.request_context)
    if authorizer is not None:
        context["authorizer"] = authorizer
    body: str | None
    encoded = False
    if not request.body:
        body = None
    else:
        try:
            body = request.body.decode("utf-8")
        except UnicodeDecodeError:
            body = base64.b64encode(request.body).decode("ascii")
            encoded = True
    return {
        "resource": match.route.resource,
        "path": match.path,
        "httpMethod": request.method,
        "headers": parts.headers,
        "multiValueHeaders": parts.multi_headers,
        "queryStringParameters": parts.query,
        "multiValueQueryStringParameters": parts.multi_query,
        "pathParameters": match.path_parameters,
        "stageVariables": None,
        "requestContext": context,
        "body": body,
        "isBase64Encoded": encoded,
    }


def method_arn(api: RestApi, method: str, path: str) -> str:
    """arn:aws:execute-api:<region>:<account>:<apiId>/<stage>/<METHOD>/<path>."""
    return f"arn:aws:execute-api:{region()}:{ACCOUNT_ID}:{api.api_id}/{api.stage}/{method}{path}"


def request_authorizer_event(parts: EventParts, match: RouteMatch) -> dict:
    """The REQUEST authorizer's event; its own copy, as each Lambda invocation gets one."""
    request = parts.request
    return copy.deepcopy(
        {
            "type": "REQUEST",
            "methodArn": method_arn(match.route.api, request.method, match.path),
            "resource": match.route.resource,
            "path": match.path,
            "httpMethod": request.method,
            "headers": parts.headers,
            "multiValueHeaders": parts.multi_headers,
            "queryStringParameters": parts.query,
            "multiValueQueryStringParameters": parts.multi_query,
            "pathParameters": match.path_parameters or {},
            "stageVariables": None,
            "requestContext": parts.request_context,
        }
    )


def token_authorizer_event(token: str, match: RouteMatch, method: str) -> dict:
    return {
        "type": "TOKEN",
        "methodArn": method_arn(match.route.api, method, match.path),
        "authorizationToken": token,
    }


def missing_identity_source(
    parts: EventParts, headers: Iterable[str], queries: Iterable[str]
) -> bool:
    """API Gateway answers 401 without calling the authorizer when a source is absent."""
    present = {name.lower() for name, value in parts.headers.items() if value}
    if any(name.lower() not in present for name in headers):
        return True
    query = parts.query or {}
    return any(not query.get(name) for name in queries)


# --------------------------------------------------------------------------
# Gateway errors and authorizer results
# --------------------------------------------------------------------------


class GatewayError(Exception):
    """A response API Gateway itself produces (a gateway response), not the handler."""

    def __init__(
        self,
        kind: str,
        status: int,
        message: str,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(message)
        self.kind = kind  # the gateway response type, e.g. UNAUTHORIZED
        self.status = status
        self.message = message
        self.headers = headers


@functools.lru_cache(maxsize=1024)
def _wildcard(pattern: str, case_sensitive: bool) -> re.Pattern[str]:
    # IAM wildcards: * is any run of characters (including /), ? is one character.
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, re.DOTALL if case_sensitive else re.DOTALL | re.IGNORECASE)


def _as_list(value: Any, what: str) -> list[str]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise _config_error(f"the policy statement's {what} must be a string or list of strings")
    return values


def _statement_applies(statement: dict[str, Any], method_arn_: str) -> bool:
    def matches(key: str, negated: str, value: str, case_sensitive: bool) -> bool:
        if key in statement:
            patterns = _as_list(statement[key], key)
            return any(_wildcard(p, case_sensitive).fullmatch(value) for p in patterns)
        if negated in statement:
            patterns = _as_list(statement[negated], negated)
            return not any(_wildcard(p, case_sensitive).fullmatch(value) for p in patterns)
        raise _config_error(f"a policy statement has neither {key} nor {negated}")

    return matches("Action", "NotAction", EXECUTE_API_INVOKE, False) and matches(
        "Resource", "NotResource", method_arn_, True
    )


def _config_error(detail: str) -> GatewayError:
    return GatewayError(
        "AUTHORIZER_CONFIGURATION_ERROR",
        500,
        f"The authorizer returned a result API Gateway cannot use: {detail}.",
    )


def _context_string(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def authorize(result: Any, method_arn_: str, latency_ms: int) -> dict[str, Any]:
    """Judge a Lambda authorizer's result as API Gateway does.

    Returns requestContext.authorizer for the proxy event; raises GatewayError
    403 when the policy does not allow execute-api:Invoke on the method (an
    explicit Deny wins over any Allow) and 500 when the result is malformed.
    Context values reach the handler stringified ("123", "true"), as on AWS;
    objects and arrays are refused.
    """
    if not isinstance(result, dict):
        raise _config_error("it is not a JSON object")
    principal = result.get("principalId")
    if not isinstance(principal, str) or not principal:
        raise _config_error("principalId is missing")
    document = result.get("policyDocument")
    if not isinstance(document, dict):
        raise _config_error("policyDocument is missing")
    statements = document.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not all(isinstance(s, dict) for s in statements):
        raise _config_error("policyDocument.Statement must be a list of statements")
    allowed = False
    for statement in statements:
        effect = statement.get("Effect")
        if effect not in ("Allow", "Deny"):
            raise _config_error(f"a statement has Effect {effect!r}")
        if _statement_applies(statement, method_arn_):
            if effect == "Deny":
                raise GatewayError(
                    "ACCESS_DENIED",
                    403,
                    "User is not authorized to access this resource with an explicit deny",
                )
            allowed = True
    if not allowed:
        raise GatewayError("ACCESS_DENIED", 403, "User is not authorized to access this resource")
    context = result.get("context") or {}
    if not isinstance(context, dict):
        raise _config_error("context must be a JSON object")
    authorizer: dict[str, Any] = {}
    for key, value in context.items():
        if value is not None and not isinstance(value, str | int | float):
            raise _config_error(f"context value {key!r} is not a string, number or boolean")
        authorizer[key] = _context_string(value)
    authorizer["principalId"] = principal
    authorizer["integrationLatency"] = latency_ms
    return authorizer


# --------------------------------------------------------------------------
# Responses
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def status_line(self) -> str:
        return status_line(self.status)


@functools.lru_cache(maxsize=128)
def status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


class MalformedLambdaResponse(ValueError):
    """The handler's result is not a Lambda proxy response (API Gateway: 502)."""


def _header_value(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise MalformedLambdaResponse(f"header {name!r} has a {type(value).__name__} value")


def response_from_lambda(result: Any) -> HttpResponse:
    """The HTTP response API Gateway makes of a Lambda proxy result."""
    if not isinstance(result, dict):
        raise MalformedLambdaResponse(f"the handler returned a {type(result).__name__}, not a dict")
    unknown = result.keys() - _PROXY_RESPONSE_KEYS
    if unknown:
        raise MalformedLambdaResponse(f"unexpected keys {sorted(unknown)}")
    status = result.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise MalformedLambdaResponse(f"statusCode {status!r} is not an HTTP status")
    single = result.get("headers") or {}
    multi = result.get("multiValueHeaders") or {}
    if not isinstance(single, dict) or not isinstance(multi, dict):
        raise MalformedLambdaResponse("headers and multiValueHeaders must be objects")
    headers: list[tuple[str, str]] = []
    in_multi = {name.lower() for name in multi}
    for name, value in single.items():
        if name.lower() not in in_multi and name.lower() not in _SERVER_HEADERS:
            headers.append((name, _header_value(name, value)))
    for name, values in multi.items():
        if not isinstance(values, list):
            raise MalformedLambdaResponse(f"multiValueHeaders[{name!r}] is not a list")
        if name.lower() not in _SERVER_HEADERS:
            headers.extend((name, _header_value(name, value)) for value in values)
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))  # API Gateway's default
    body = result.get("body")
    if body is None:
        data = b""
    elif not isinstance(body, str):
        raise MalformedLambdaResponse(f"body is a {type(body).__name__}, not a string")
    elif result.get("isBase64Encoded"):
        try:
            data = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as error:
            raise MalformedLambdaResponse(f"body is not valid base64: {error}") from None
    else:
        data = body.encode("utf-8")
    return HttpResponse(status, headers, data)


_CONTEXT_VARIABLE = re.compile(r"\$context\.([A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*)")


def gateway_response(
    error: GatewayError,
    request_id: str,
    customised: Mapping[str, GatewayResponse] | None = None,
    variables: Mapping[str, str] | None = None,
) -> HttpResponse:
    """A gateway error as JSON {"message": ...}, shaped by the API's GatewayResponses if any.

    A customised response template may use $context.error.message,
    $context.error.messageString (the message as a JSON string),
    $context.error.responseType, $context.requestId and the request's
    $context variables given in `variables` (httpMethod, path, ...).
    """
    custom = None
    if customised:
        custom = customised.get(error.kind) or customised.get(
            "DEFAULT_5XX" if error.status >= 500 else "DEFAULT_4XX"
        )
    status = error.status
    headers = [("Content-Type", "application/json"), *error.headers]
    body = json.dumps({"message": error.message})
    if custom is not None:
        status = custom.status or status
        names = {name.lower() for name, _ in custom.headers}
        headers = [(n, v) for n, v in headers if n.lower() not in names] + list(custom.headers)
        if custom.template is not None:
            values = {
                **(variables or {}),
                "requestId": request_id,
                "error.message": error.message,
                "error.messageString": json.dumps(error.message),
                "error.responseType": error.kind,
            }
            body = _CONTEXT_VARIABLE.sub(lambda m: values.get(m[1], ""), custom.template)
    headers.append(("x-amzn-ErrorType", _ERROR_TYPES.get(error.kind, "")))
    return HttpResponse(status, [(n, v) for n, v in headers if v], body.encode("utf-8"))


_ERROR_TYPES = {
    "UNAUTHORIZED": "UnauthorizedException",
    "ACCESS_DENIED": "AccessDeniedException",
    "AUTHORIZER_CONFIGURATION_ERROR": "AuthorizerConfigurationException",
    "AUTHORIZER_FAILURE": "AuthorizerFailureException",
    "REQUEST_TOO_LARGE": "RequestTooLargeException",
    "RESOURCE_NOT_FOUND": "NotFoundException",
    "MISSING_AUTHENTICATION_TOKEN": "MissingAuthenticationTokenException",
    "DEFAULT_5XX": "InternalServerErrorException",
}
