"""The Lambda REQUEST authorizer, for every route of the API in both shapes.

It decides who the caller is and what they may do, and hands that to the
functions as the authorizer context. A request without valid credentials is
still allowed through, marked unauthenticated with the reason: the function
then answers 401 in its own media type (TAXII's for TAXII routes), with a
message that says what was wrong, which API Gateway's own 401 cannot.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from steppe.access.auth import identify
from steppe.access.usage_keys import usage_key_of
from steppe.config import Settings
from steppe.handlers.http import header
from steppe.runtime import credential_lookup

logger = Logger()


def _any_route_of(method_arn: str) -> str:
    # arn:aws:execute-api:region:account:api-id/stage/METHOD/path -> .../stage/*/*
    prefix, _, rest = method_arn.partition(":execute-api:")
    parts = rest.split("/", 2)
    return f"{prefix}:execute-api:{parts[0]}/{parts[1] if len(parts) > 1 else '*'}/*"


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    caller = identify(credential_lookup(), header(event, "authorization"))
    if not caller.authenticated:
        logger.info("unauthenticated request", extra={"problem": caller.problem})
    answer: dict[str, Any] = {
        "principalId": caller.partner or "anonymous",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow",
                    "Resource": _any_route_of(event["methodArn"]),
                }
            ],
        },
        "context": caller.to_context(),
    }
    # API Gateway throttles by the usage plan of the key named here (ApiKeySourceType
    # AUTHORIZER); callers without valid credentials share the anonymous plan's key.
    usage_key = usage_key_of(caller, Settings.from_env().anonymous_usage_key)
    if usage_key is not None:
        answer["usageIdentifierKey"] = usage_key
    return answer
