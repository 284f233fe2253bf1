"""Lambda handlers declared by local_fixtures/template.yaml.

They record what they receive (the tests run the server in the same
process) and answer in ways that exercise the runtime: echoes, Powertools'
own REST resolver, malformed responses, a Lambda authorizer with every
outcome, and an SQS batch worker with partial failures.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

AUTHORIZER_EVENTS: list[dict[str, Any]] = []
ECHO_EVENTS: list[dict[str, Any]] = []
SQS_EVENTS: list[dict[str, Any]] = []
PROCESSED: list[tuple[str, str, str]] = []  # (messageId, body, ApproximateReceiveCount)

# A test can hold the worker inside a job: the job with mode "block" sets
# `entered` and waits for `release`.
BLOCKING = {"entered": threading.Event(), "release": threading.Event()}


def reset() -> None:
    for records in (AUTHORIZER_EVENTS, ECHO_EVENTS, SQS_EVENTS, PROCESSED):
        records.clear()
    BLOCKING["entered"].clear()
    BLOCKING["release"].clear()


def _context_facts(context: Any) -> dict[str, Any]:
    return {
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining_ms": context.get_remaining_time_in_millis(),
    }


def echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    ECHO_EVENTS.append(event)
    if (event.get("queryStringParameters") or {}).get("sleep"):
        threading.Event().wait(float(event["queryStringParameters"]["sleep"]))
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json", "X-Single": "one", "Set-Cookie": "lost=1"},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"], "X-Multi": ["x", "y"]},
        "body": json.dumps(
            {
                "event": event,
                "context": _context_facts(context),
                "env": os.environ.get("LOCAL_FIXTURE_FLAG"),
            }
        ),
    }


def authorizer(event: dict[str, Any], context: Any) -> dict[str, Any]:
    AUTHORIZER_EVENTS.append(event)
    if event["type"] == "TOKEN":
        token = event["authorizationToken"]
    else:
        token = event["headers"]["Authorization"].removeprefix("Bearer ")
    arn = event["methodArn"]
    api_and_stage = arn.split("/", 2)[:2]  # arn:...:<apiId>, <stage>

    def policy(*statements: dict[str, Any]) -> dict[str, Any]:
        return {"Version": "2012-10-17", "Statement": list(statements)}

    if token == "nobody":
        raise Exception("Unauthorized")
    if token == "crash":
        raise RuntimeError("the credential store is down")
    context_values = {
        "partner": "kg-cert",
        "clearance": 2,
        "admin": True,
        "ratio": 0.5,
        "none": None,
    }
    if token == "allow":
        statement = {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": arn}
    elif token == "wildcard":  # any GET under /items/, written with IAM wildcards
        statement = {
            "Action": "execute-api:*",
            "Effect": "Allow",
            "Resource": ["/".join(api_and_stage) + "/GET/items/*"],
        }
    elif token == "deny":
        return {
            "principalId": "mallory",
            "policyDocument": policy(
                {"Action": "*", "Effect": "Allow", "Resource": "*"},
                {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": arn},
            ),
        }
    elif token == "elsewhere":
        statement = {
            "Action": "execute-api:Invoke",
            "Effect": "Allow",
            "Resource": "/".join(api_and_stage) + "/GET/somewhere/else",
        }
    elif token == "badcontext":
        context_values = {"nested": {"not": "allowed"}}
        statement = {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": arn}
    else:
        raise Exception("Unauthorized")
    return {
        "principalId": "analyst-1",
        "policyDocument": policy(statement),
        "context": context_values,
    }


def responses(event: dict[str, Any], context: Any) -> Any:
    kind = event["pathParameters"]["kind"]
    query = event.get("queryStringParameters") or {}
    if kind == "big":
        size = int(query.get("size", "1048576"))
        return {"statusCode": 200, "headers": {"Content-Type": "text/plain"}, "body": "x" * size}
    if kind == "binary":
        data = bytes(range(256))
        return {
            "statusCode": 200,
            "headers": {"Content-Type": "application/octet-stream"},
            "body": base64.b64encode(data).decode(),
            "isBase64Encoded": True,
        }
    if kind == "default-type":
        return {"statusCode": 201, "body": '{"created": true}'}
    if kind == "empty":
        return {"statusCode": 204}
    if kind == "raise":
        raise ValueError("the handler broke")
    if kind == "not-a-dict":
        return "hello"
    if kind == "bytes-body":
        return {"statusCode": 200, "body": b"raw bytes"}
    if kind == "no-status":
        return {"body": "{}"}
    if kind == "extra-key":
        return {"statusCode": 200, "body": "{}", "cookies": ["a=1"]}
    if kind == "bad-base64":
        return {"statusCode": 200, "body": "***", "isBase64Encoded": True}
    if kind == "hop-by-hop":
        return {"statusCode": 200, "headers": {"Connection": "close", "X-Kept": "yes"}, "body": ""}
    return {"statusCode": 400, "body": json.dumps({"message": f"unknown kind {kind}"})}


# -- Powertools' own REST resolver, as the real API handler will use it ----------------

_logger = Logger(service="steppe-fixture")
_app = APIGatewayRestResolver()


@_app.get("/pt/things/<thing_id>")
def _get_thing(thing_id: str) -> dict[str, Any]:
    event = _app.current_event
    return {
        "thing_id": thing_id,
        "partner": event.request_context.authorizer.get("partner"),
        "principal": event.request_context.authorizer.principal_id,
        "tags": event.multi_value_query_string_parameters.get("tag"),
        "accept": event.headers.get("accept"),
    }


@_app.post("/pt/things")
def _post_thing() -> tuple[dict[str, Any], int]:
    return {"received": _app.current_event.json_body}, 201


@_logger.inject_lambda_context
def powertools_app(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _app.resolve(event, context)


def enqueue(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """POST /jobs: the JSON body becomes a job on the process's queue."""
    from steppe.runtime import services

    services().queue.send([json.loads(event["body"])])
    return {"statusCode": 202, "body": json.dumps({"queued": True})}


# -- the SQS worker -------------------------------------------------------------------


def sqs_worker(event: dict[str, Any], context: Any) -> dict[str, Any] | None:
    """Bodies are JSON {"mode": ok | fail | raise | bad-response | block | fail-until-3 | slow}.

    "slow" writes <marker>.started, sleeps `seconds` (on the first receive only when
    "first_only" is set), then writes <marker>.finished.
    """
    SQS_EVENTS.append(event)
    failures = []
    for record in event["Records"]:
        body = json.loads(record["body"])
        count = record["attributes"]["ApproximateReceiveCount"]
        PROCESSED.append((record["messageId"], record["body"], count))
        mode = body.get("mode", "ok")
        if mode == "raise":
            raise RuntimeError("the whole batch broke")
        if mode == "bad-response":
            return {"batchItemFailures": [{"itemIdentifier": "not-in-this-batch"}]}
        if mode == "slow":
            Path(body["marker"] + ".started").touch()
            if count == "1" or not body.get("first_only"):
                time.sleep(body["seconds"])
            Path(body["marker"] + ".finished").touch()
        if mode == "block":
            BLOCKING["entered"].set()
            BLOCKING["release"].wait(30)
        if mode == "fail" or (mode == "fail-until-3" and int(count) < 3):
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
