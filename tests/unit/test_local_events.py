"""Requests as API Gateway REST events, results as responses: the translation, without a socket.

The WSGI application is called directly with the environ waitress builds;
the events it hands to the fixture handlers are compared with the fields
API Gateway documents for the Lambda proxy integration (payload format 1.0)
and checked with Powertools' own pydantic models of those events.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import time
import uuid
from typing import Any
from urllib.parse import unquote

import pytest
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.parser.models import (
    ApiGatewayAuthorizerRequest,
    APIGatewayProxyEventModel,
)
from local_fixtures import handlers
from local_fixtures.support import fixture_routes

from steppe.local.account import region
from steppe.local.events import (
    GatewayError,
    MalformedLambdaResponse,
    authorize,
    gateway_response,
    method_arn,
    response_from_lambda,
    split_request_target,
)
from steppe.local.invoke import LambdaContext
from steppe.local.routes import FunctionSpec, GatewayResponse
from steppe.local.server import create_app

# The top-level fields of the proxy event, and of its requestContext, as documented in
# "Input format of a Lambda function for proxy integration" (API Gateway developer guide).
PROXY_EVENT_FIELDS = {
    "resource",
    "path",
    "httpMethod",
    "headers",
    "multiValueHeaders",
    "queryStringParameters",
    "multiValueQueryStringParameters",
    "pathParameters",
    "stageVariables",
    "requestContext",
    "body",
    "isBase64Encoded",
}
REQUEST_CONTEXT_FIELDS = {
    "resourceId",
    "resourcePath",
    "httpMethod",
    "extendedRequestId",
    "requestTime",
    "path",
    "accountId",
    "protocol",
    "stage",
    "domainPrefix",
    "requestTimeEpoch",
    "requestId",
    "identity",
    "domainName",
    "apiId",
}
IDENTITY_FIELDS = {
    "cognitoIdentityPoolId",
    "accountId",
    "cognitoIdentityId",
    "caller",
    "sourceIp",
    "principalOrgId",
    "accessKey",
    "cognitoAuthenticationType",
    "cognitoAuthenticationProvider",
    "userArn",
    "userAgent",
    "user",
}

ALLOW = ("Authorization", "Bearer allow")


@pytest.fixture(scope="module")
def app():
    return create_app(fixture_routes(), max_body_bytes=10_000)


@pytest.fixture(autouse=True)
def _fresh_records():
    handlers.reset()


def environ_for(
    method: str,
    target: str,
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    raw_headers: bool = True,
) -> dict[str, Any]:
    """The environ waitress builds for a request (with the raw header names we add)."""
    path, _, query = target.partition("?")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "REQUEST_URI": target,
        "PATH_INFO": unquote(path),
        "QUERY_STRING": query,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.9",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.input_terminated": True,
    }
    headers = [("Host", "localhost:8000"), *(headers or [])]
    if body:
        environ["CONTENT_LENGTH"] = str(len(body))
    for name, value in headers:
        key = name.upper().replace("-", "_")
        key = key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + key
        environ[key] = f"{environ[key]}, {value}" if key in environ else value
    if raw_headers:
        environ["steppe.raw_headers"] = headers
    return environ


def call(app, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"], seen["headers"] = status, headers

    body = b"".join(app(environ, start_response))
    return int(seen["status"].split()[0]), seen["headers"], body


def event_of(app, environ: dict[str, Any]) -> dict[str, Any]:
    status, _, body = call(app, environ)
    assert status == 200, body
    return handlers.ECHO_EVENTS[-1]


# -- the proxy event ------------------------------------------------------------------


def test_the_proxy_event_has_the_documented_shape(app):
    started_ms = time.time_ns() // 1_000_000
    event = event_of(
        app,
        environ_for(
            "GET",
            "/items/kg%2D2009?tag=ddos&tag=ru&empty=&flag",
            [ALLOW, ("User-Agent", "taxii2-client/2.3"), ("x-Lower-Mixed", "v")],
        ),
    )
    assert set(event) == PROXY_EVENT_FIELDS
    assert event["resource"] == "/items/{item_id}"
    assert event["path"] == "/items/kg%2D2009"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"item_id": "kg-2009"}
    assert event["stageVariables"] is None
    assert event["body"] is None and event["isBase64Encoded"] is False
    assert event["queryStringParameters"] == {"tag": "ru", "empty": "", "flag": ""}
    assert event["multiValueQueryStringParameters"] == {
        "tag": ["ddos", "ru"],
        "empty": [""],
        "flag": [""],
    }
    assert event["headers"] == {
        "Host": "localhost:8000",
        "Authorization": "Bearer allow",
        "User-Agent": "taxii2-client/2.3",
        "x-Lower-Mixed": "v",
        "X-Forwarded-For": "203.0.113.9",
        "X-Forwarded-Port": "8000",
        "X-Forwarded-Proto": "http",
    }
    assert event["multiValueHeaders"] == {k: [v] for k, v in event["headers"].items()}

    context = event["requestContext"]
    assert set(context) == REQUEST_CONTEXT_FIELDS | {"authorizer"}
    assert context["resourcePath"] == "/items/{item_id}"
    assert context["httpMethod"] == "GET"
    assert context["path"] == "/test/items/kg%2D2009"  # with the stage, as on execute-api
    assert context["stage"] == "test"
    assert context["apiId"] == "fixtureapi"
    assert context["accountId"] == "000000000000"
    assert context["protocol"] == "HTTP/1.1"
    assert context["domainName"] == "localhost:8000"
    assert context["domainPrefix"] == "localhost:8000"
    assert context["requestId"] == context["extendedRequestId"]
    assert started_ms <= context["requestTimeEpoch"] <= time.time_ns() // 1_000_000
    assert context["requestTime"] == time.strftime(
        "%d/%b/%Y:%H:%M:%S +0000", time.gmtime(context["requestTimeEpoch"] // 1000)
    )
    assert set(context["identity"]) == IDENTITY_FIELDS
    assert context["identity"]["sourceIp"] == "203.0.113.9"
    assert context["identity"]["userAgent"] == "taxii2-client/2.3"
    assert context["authorizer"]["principalId"] == "analyst-1"

    APIGatewayProxyEventModel.model_validate(event)  # Powertools' model of the same event


def test_no_query_string_means_none_like_aws(app):
    event = event_of(app, environ_for("GET", "/items/1", [ALLOW]))
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None


def test_repeated_headers_keep_every_value_and_the_first_spelling(app):
    event = event_of(
        app,
        environ_for(
            "GET",
            "/items/1",
            [ALLOW, ("Accept", "application/taxii+json"), ("accept", "application/json")],
        ),
    )
    assert event["multiValueHeaders"]["Accept"] == ["application/taxii+json", "application/json"]
    assert event["headers"]["Accept"] == "application/json"  # the last value, as on AWS
    assert "accept" not in event["headers"]


def test_a_client_forwarded_for_is_extended_with_the_peer(app):
    event = event_of(
        app, environ_for("GET", "/items/1", [ALLOW, ("X-Forwarded-For", "198.51.100.7")])
    )
    assert event["headers"]["X-Forwarded-For"] == "198.51.100.7, 203.0.113.9"


def test_without_raw_header_names_the_cgi_names_are_title_cased(app):
    event = event_of(
        app, environ_for("GET", "/items/1", [ALLOW, ("x-taxii-thing", "1")], raw_headers=False)
    )
    assert event["headers"]["Authorization"] == "Bearer allow"
    assert event["headers"]["X-Taxii-Thing"] == "1"


def test_a_utf8_body_is_text(app):
    body = json.dumps({"observables": ["195.34.16.2"], "note": "Кыргызстан"}).encode()
    event = event_of(
        app, environ_for("POST", "/items", [ALLOW, ("Content-Type", "application/json")], body)
    )
    assert event["body"] == body.decode("utf-8")
    assert event["isBase64Encoded"] is False
    assert event["headers"]["Content-Type"] == "application/json"


def test_a_body_that_is_not_utf8_is_base64(app):
    body = bytes(range(256))
    event = event_of(app, environ_for("POST", "/items", [ALLOW], body))
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == body
    APIGatewayProxyEventModel.model_validate(event)


def test_a_body_over_the_limit_is_refused_before_the_handler(app):
    status, _, body = call(app, environ_for("POST", "/items", [ALLOW], b"x" * 10_001))
    assert status == 413
    assert json.loads(body) == {
        "message": "The request body is 10001 bytes, larger than the limit of 10000 bytes."
    }
    assert handlers.AUTHORIZER_EVENTS == [] and handlers.ECHO_EVENTS == []
    # A body without Content-Length (chunked, decoded by the server) is measured as read.
    environ = environ_for("POST", "/items", [ALLOW], b"x" * 10_001)
    del environ["CONTENT_LENGTH"]
    assert call(app, environ)[0] == 413


def test_split_request_target_keeps_the_path_as_sent():
    assert split_request_target({"REQUEST_URI": "/a%20b/c?x=1&y"}) == ("/a%20b/c", "x=1&y")
    assert split_request_target({"REQUEST_URI": "http://h:1/a/b?q"}) == ("/a/b", "q")
    assert split_request_target({"PATH_INFO": "/a b/é".encode().decode("latin-1")}) == (
        "/a%20b/%C3%A9",
        "",
    )


def test_the_handler_gets_a_lambda_context_from_the_template(app):
    _, _, body = call(app, environ_for("GET", "/items/1", [ALLOW]))
    context = json.loads(body)["context"]
    assert context["function_name"] == "EchoFunction"
    assert context["function_version"] == "$LATEST"
    assert context["invoked_function_arn"] == (
        f"arn:aws:lambda:{region()}:000000000000:function:EchoFunction"
    )
    assert context["memory_limit_in_mb"] == "256"
    assert context["log_group_name"] == "/aws/lambda/EchoFunction"
    assert 0 < context["remaining_ms"] <= 7000  # the function's Timeout: 7


def test_lambda_context_counts_down_and_satisfies_powertools_logger():
    context = LambdaContext(FunctionSpec("Fn", "m.h", timeout=2, memory_mb=512), "req-1")
    assert 0 < context.get_remaining_time_in_millis() <= 2000
    stream = io.StringIO()
    # A service name of its own: Powertools shares one logger per service name,
    # and the handler modules' loggers (already imported by other tests) use the
    # environment's, with their own output.
    logger = Logger(
        service=f"context-test-{uuid.uuid4()}",
        level="INFO",
        logger_handler=logging.StreamHandler(stream),
    )

    @logger.inject_lambda_context
    def handler(event, ctx):
        logger.info("inside")

    handler({}, context)
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["function_name"] == "Fn"
    assert line["function_memory_size"] == "512"  # a string, as the Lambda runtime passes it
    assert line["function_arn"].endswith(":function:Fn")
    assert line["function_request_id"] == "req-1"


# -- the authorizer --------------------------------------------------------------------


def test_the_request_authorizer_event_has_the_documented_shape(app):
    event_of(app, environ_for("GET", "/items/42?tag=a&tag=b", [ALLOW]))
    [auth_event] = handlers.AUTHORIZER_EVENTS
    assert set(auth_event) == {
        "type",
        "methodArn",
        "resource",
        "path",
        "httpMethod",
        "headers",
        "multiValueHeaders",
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "pathParameters",
        "stageVariables",
        "requestContext",
    }
    assert auth_event["type"] == "REQUEST"
    assert auth_event["methodArn"] == (
        f"arn:aws:execute-api:{region()}:000000000000:fixtureapi/test/GET/items/42"
    )
    assert auth_event["resource"] == "/items/{item_id}"
    assert auth_event["path"] == "/items/42"
    assert auth_event["pathParameters"] == {"item_id": "42"}
    assert auth_event["multiValueQueryStringParameters"] == {"tag": ["a", "b"]}
    assert auth_event["headers"]["Authorization"] == "Bearer allow"
    assert "authorizer" not in auth_event["requestContext"]
    ApiGatewayAuthorizerRequest.model_validate(auth_event)


def test_allow_passes_the_context_stringified_as_aws_does(app):
    event = event_of(app, environ_for("GET", "/items/1", [ALLOW]))
    authorizer = event["requestContext"]["authorizer"]
    latency = authorizer.pop("integrationLatency")
    assert isinstance(latency, int) and latency >= 0
    assert authorizer == {
        "partner": "kg-cert",
        "clearance": "2",
        "admin": "true",
        "ratio": "0.5",
        "none": None,
        "principalId": "analyst-1",
    }


@pytest.mark.parametrize(
    ("token", "status", "message"),
    [
        ("nobody", 401, "Unauthorized"),
        ("deny", 403, "User is not authorized to access this resource with an explicit deny"),
        ("elsewhere", 403, "User is not authorized to access this resource"),
    ],
)
def test_refusals_never_reach_the_handler(app, token, status, message):
    got, headers, body = call(
        app, environ_for("GET", "/items/1", [("Authorization", f"Bearer {token}")])
    )
    assert (got, json.loads(body)) == (status, {"message": message})
    assert ("Content-Type", "application/json") in headers
    assert handlers.ECHO_EVENTS == []
    assert len(handlers.AUTHORIZER_EVENTS) == 1


def test_a_missing_identity_source_is_401_without_calling_the_authorizer(app):
    status, _, body = call(app, environ_for("GET", "/items/1"))
    assert (status, json.loads(body)) == (401, {"message": "Unauthorized"})
    assert handlers.AUTHORIZER_EVENTS == []


def test_a_wildcard_policy_is_evaluated_like_iam(app):
    wildcard = [("Authorization", "Bearer wildcard")]
    assert call(app, environ_for("GET", "/items/1/children", wildcard))[0] == 200
    assert call(app, environ_for("POST", "/items", wildcard, b"{}"))[0] == 403  # not a GET


@pytest.mark.parametrize(("token", "status"), [("crash", 500), ("badcontext", 500)])
def test_a_broken_authorizer_is_a_500(app, token, status, caplog):
    got, _, body = call(app, environ_for("GET", "/items/1", [("Authorization", f"Bearer {token}")]))
    assert got == status
    assert json.loads(body)["message"]
    assert handlers.ECHO_EVENTS == []


def test_a_token_authorizer_gets_the_token_event(app):
    status, _, body = call(app, environ_for("GET", "/token/hello", [("X-Api-Token", "allow")]))
    assert status == 200, body
    [auth_event] = handlers.AUTHORIZER_EVENTS
    assert auth_event == {
        "type": "TOKEN",
        "methodArn": f"arn:aws:execute-api:{region()}:000000000000:tokenapi/tok/GET/token/hello",
        "authorizationToken": "allow",
    }


def test_customised_gateway_responses_shape_the_error(app):
    status, headers, body = call(app, environ_for("GET", "/token/hello"))
    assert status == 401
    assert ("WWW-Authenticate", 'Bearer realm="fixture"') in headers
    request_id = dict(headers)["x-amzn-RequestId"]
    assert json.loads(body) == {"error": "Unauthorized", "request": request_id}


ARN = "arn:aws:execute-api:us-east-1:000000000000:api/v1/GET/taxii2/root/collections/c1/objects"


def result(*statements: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "principalId": "p",
        "policyDocument": {"Version": "2012-10-17", "Statement": list(statements)},
        **extra,
    }


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": ARN},
        {"Effect": "Allow", "Action": "EXECUTE-API:invoke", "Resource": [ARN]},
        {"Effect": "Allow", "Action": ["s3:GetObject", "execute-api:*"], "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": "*",
            "Resource": "arn:aws:execute-api:*:*:api/v1/GET/taxii2/*",
        },
        {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": ARN[:-1] + "?"},
        {
            "Effect": "Allow",
            "NotAction": "s3:*",
            "NotResource": "arn:aws:execute-api:*:*:api/v1/POST/*",
        },
    ],
)
def test_policies_that_allow(statement):
    assert authorize(result(statement), ARN, 3)["principalId"] == "p"


@pytest.mark.parametrize(
    "statements",
    [
        [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": ARN + "/more"}],
        [{"Effect": "Allow", "Action": "execute-api:ManageConnections", "Resource": "*"}],
        [{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:execute-api:*:*:api/v1/POST/*"}],
        [{"Effect": "Allow", "Action": "*", "Resource": ARN.upper()}],  # ARNs are case-sensitive
        [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "execute-api:*", "Resource": "*"},
        ],
        [],
    ],
)
def test_policies_that_do_not(statements):
    with pytest.raises(GatewayError) as refused:
        authorize(result(*statements), ARN, 3)
    assert refused.value.status == 403


def test_a_single_statement_object_is_accepted():
    policy = result()
    policy["policyDocument"]["Statement"] = {"Effect": "Allow", "Action": "*", "Resource": "*"}
    assert authorize(policy, ARN, 0)["integrationLatency"] == 0


@pytest.mark.parametrize(
    "broken",
    [
        "Allow",
        {"policyDocument": {"Statement": []}},
        {"principalId": "p"},
        result({"Effect": "Maybe", "Action": "*", "Resource": "*"}),
        result({"Effect": "Allow", "Resource": "*"}),
        result({"Effect": "Allow", "Action": "*", "Resource": 7}),
        result({"Effect": "Allow", "Action": "*", "Resource": "*"}, context={"list": [1]}),
    ],
)
def test_unusable_authorizer_results_are_configuration_errors(broken):
    with pytest.raises(GatewayError) as refused:
        authorize(broken, ARN, 3)
    assert (refused.value.status, refused.value.kind) == (500, "AUTHORIZER_CONFIGURATION_ERROR")


def test_method_arn_for_the_root_path():
    route = fixture_routes().routes[0]
    assert method_arn(route.api, "GET", "/") == (
        f"arn:aws:execute-api:{region()}:000000000000:fixtureapi/test/GET/"
    )


# -- the proxy response ----------------------------------------------------------------


def test_headers_and_multi_value_headers_merge_like_api_gateway():
    response = response_from_lambda(
        {
            "statusCode": 200,
            "headers": {"Content-Type": "text/plain", "set-cookie": "lost=1", "X-Count": 3},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"], "X-Flag": [True]},
            "body": "hi",
        }
    )
    assert response.status == 200 and response.body == b"hi"
    assert response.headers == [
        ("Content-Type", "text/plain"),
        ("X-Count", "3"),
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
        ("X-Flag", "true"),
    ]


def test_content_type_defaults_to_json_and_a_missing_body_is_empty():
    response = response_from_lambda({"statusCode": 204})
    assert (response.status, response.body) == (204, b"")
    assert response.headers == [("Content-Type", "application/json")]
    assert response.status_line == "204 No Content"


def test_a_base64_body_is_decoded():
    data = bytes(range(256))
    response = response_from_lambda(
        {"statusCode": 200, "body": base64.b64encode(data).decode(), "isBase64Encoded": True}
    )
    assert response.body == data


def test_headers_the_server_owns_are_dropped():
    response = response_from_lambda(
        {
            "statusCode": 200,
            "headers": {"Connection": "close", "Content-Length": "99", "X-Kept": "yes"},
            "body": "",
        }
    )
    assert [name for name, _ in response.headers] == ["X-Kept", "Content-Type"]


@pytest.mark.parametrize(
    "malformed",
    [
        "ok",
        None,
        {"body": "{}"},
        {"statusCode": True},
        {"statusCode": 99},
        {"statusCode": 200, "body": b"bytes"},
        {"statusCode": 200, "body": {"json": "object"}},
        {"statusCode": 200, "cookies": ["a=1"]},
        {"statusCode": 200, "body": "***", "isBase64Encoded": True},
        {"statusCode": 200, "headers": ["X-A", "1"]},
        {"statusCode": 200, "multiValueHeaders": {"X-A": "1"}},
        {"statusCode": 200, "headers": {"X-A": {"nested": 1}}},
    ],
)
def test_malformed_results_are_refused(malformed):
    with pytest.raises(MalformedLambdaResponse):
        response_from_lambda(malformed)


def test_gateway_errors_are_json_and_follow_customised_responses():
    error = GatewayError("ACCESS_DENIED", 403, "User is not authorized to access this resource")
    plain = gateway_response(error, "req-9")
    assert plain.status == 403
    assert json.loads(plain.body) == {"message": "User is not authorized to access this resource"}
    assert ("x-amzn-ErrorType", "AccessDeniedException") in plain.headers

    taxii = GatewayResponse(
        status=None,
        headers=(("Content-Type", "application/taxii+json;version=2.1"),),
        template='{"title": $context.error.messageString, "http_status": "403"}',
    )
    shaped = gateway_response(error, "req-9", {"DEFAULT_4XX": taxii})
    assert shaped.status == 403
    assert ("Content-Type", "application/taxii+json;version=2.1") in shaped.headers
    assert ("Content-Type", "application/json") not in shaped.headers
    assert json.loads(shaped.body) == {
        "title": "User is not authorized to access this resource",
        "http_status": "403",
    }


def test_gateway_response_templates_see_the_request_context_variables():
    error = GatewayError("MISSING_AUTHENTICATION_TOKEN", 404, "No route matches GET /x.")
    not_found = GatewayResponse(
        status=None,
        headers=(),
        template='{"description": "no route for $context.httpMethod $context.path.", '
        '"type": "$context.error.responseType", "id": "$context.requestId", "x": "$context.nope"}',
    )
    response = gateway_response(
        error,
        "req-1",
        {"MISSING_AUTHENTICATION_TOKEN": not_found},
        {"httpMethod": "GET", "path": "/x"},
    )
    assert json.loads(response.body) == {
        "description": "no route for GET /x.",
        "type": "MISSING_AUTHENTICATION_TOKEN",
        "id": "req-1",
        "x": "",
    }
