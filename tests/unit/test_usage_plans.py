"""Per-partner throttling: usage plans keyed by the authorizer (moto's API Gateway).

A partner created through the administration gets its usage key in the
partner usage plan, and loses it when deleted; the authorizer names that key
for the partner's requests and the anonymous plan's key for everyone else;
the template wires the plans, the keys and the functions' settings together.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from steppe.access.admin_models import PartnerCreate, parse
from steppe.access.credentials import hash_key
from steppe.access.usage_keys import partner_usage_key
from steppe.config import Settings
from steppe.handlers import authorizer
from steppe.local.routes import load_template
from steppe.runtime import administration_service, build_services, use_services
from steppe.store.aws.provision import create_bucket, create_table
from steppe.store.port import Partner

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES = TEMPLATE["Resources"]
PLAN = "steppe-test-partners"
ANONYMOUS = "steppe-anonymous-steppe-test"
ARN = "arn:aws:execute-api:eu-central-1:123456789012:abc/v1/GET/taxii2/"


@pytest.fixture
def aws(monkeypatch) -> Iterator[dict[str, Any]]:
    with mock_aws():
        dynamodb, s3, sqs = (boto3.client(n) for n in ("dynamodb", "s3", "sqs"))
        apigateway = boto3.client("apigateway")
        create_table(dynamodb, "steppe", ROOT / "template.yaml")
        create_bucket(s3, "steppe-usage")
        env = {
            "STEPPE_BACKEND": "aws",
            "STEPPE_TABLE": "steppe",
            "STEPPE_BUCKET": "steppe-usage",
            "STEPPE_QUEUE_URL": sqs.create_queue(QueueName="work")["QueueUrl"],
            "STEPPE_USAGE_PLAN": PLAN,
            "STEPPE_ANONYMOUS_USAGE_KEY": ANONYMOUS,
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        plan = apigateway.create_usage_plan(name=PLAN)["id"]
        apigateway.create_usage_plan(name="some-other-stack-partners")
        services = build_services(Settings.from_env())
        use_services(services)
        try:
            yield {"apigateway": apigateway, "plan": plan, "services": services}
        finally:
            use_services(None)


def _plan_keys(aws: dict[str, Any]) -> dict[str, str]:
    items = aws["apigateway"].get_usage_plan_keys(usagePlanId=aws["plan"])["items"]
    return {item["value"]: item["name"] for item in items}


def _all_key_values(aws: dict[str, Any]) -> set[str]:
    return {k["value"] for k in aws["apigateway"].get_api_keys(includeValues=True)["items"]}


def _authorize(header: str | None) -> dict[str, Any]:
    event = {"methodArn": ARN, "headers": {"Authorization": header} if header else {}}
    return authorizer.lambda_handler(event, None)


def test_a_new_partner_gets_its_usage_key_in_the_partner_plan(aws):
    admin = administration_service(aws["services"])
    issued = admin.add_partner(parse(PartnerCreate, {"name": "kg-cert", "role": "partner"}))
    usage_key = partner_usage_key(issued.partner.id)
    assert _plan_keys(aws) == {usage_key: "steppe-partner-kg-cert"}
    assert len(usage_key) >= 20  # API Gateway's minimum for a key value

    answer = _authorize(f"Bearer {issued.key}")
    assert answer["principalId"] == "kg-cert"
    assert answer["usageIdentifierKey"] == usage_key

    admin.delete_partner("kg-cert")
    assert usage_key not in _all_key_values(aws)
    assert _plan_keys(aws) == {}
    assert _authorize(f"Bearer {issued.key}")["usageIdentifierKey"] == ANONYMOUS


def test_callers_without_valid_credentials_share_the_anonymous_key(aws):
    for header in (None, "Bearer not-a-key", "Digest x"):
        answer = _authorize(header)
        assert answer["principalId"] == "anonymous"
        assert answer["usageIdentifierKey"] == ANONYMOUS


def test_without_usage_plans_the_authorizer_names_no_key(aws, monkeypatch):
    monkeypatch.delenv("STEPPE_ANONYMOUS_USAGE_KEY")
    assert "usageIdentifierKey" not in _authorize(None)


def test_sync_puts_partners_made_elsewhere_in_the_plan_once(aws):
    store = aws["services"].store
    store.put_partner(Partner("admin", "admin", id="0b7a3f4e-5c1d-4e8a-9f00-1234567890ab"))
    store.add_credential(hash_key("stp_bootstrap-admin-key"), "admin", 1)
    admin = administration_service(aws["services"])
    assert admin.sync_usage_plans() == ["admin"]
    assert admin.sync_usage_plans() == ["admin"]  # already there: nothing added twice
    expected = partner_usage_key("0b7a3f4e-5c1d-4e8a-9f00-1234567890ab")
    assert _plan_keys(aws) == {expected: "steppe-partner-admin"}
    assert _authorize("Bearer stp_bootstrap-admin-key")["usageIdentifierKey"] == expected


def test_no_plan_no_partner(aws, monkeypatch):
    monkeypatch.setenv("STEPPE_USAGE_PLAN", "steppe-missing-partners")
    admin = administration_service(build_services(Settings.from_env()))
    with pytest.raises(LookupError, match="steppe-missing-partners"):
        admin.add_partner(parse(PartnerCreate, {"name": "kg-cert", "role": "partner"}))
    assert aws["services"].store.get_partner("kg-cert") is None


def test_the_embedded_shape_has_no_usage_plans():
    from steppe.runtime import usage_plans

    assert usage_plans(Settings.from_env({"STEPPE_USAGE_PLAN": PLAN})) is None


def test_the_template_keys_every_authorized_route_by_the_authorizer():
    api = RESOURCES["SteppeApi"]["Properties"]
    assert api["ApiKeySourceType"] == "AUTHORIZER"
    assert api["Auth"]["ApiKeyRequired"] is True
    open_routes = 0
    for resource in RESOURCES.values():
        for event in (resource.get("Properties", {}).get("Events") or {}).values():
            auth = event.get("Properties", {}).get("Auth") or {}
            # feeds, openapi.json, the console's static files: no authorizer, no key
            if auth.get("Authorizer") == "NONE":
                assert auth.get("ApiKeyRequired") is False, event
                open_routes += 1
    assert open_routes == 5


def test_the_template_ties_plans_keys_and_settings_together():
    env = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    partners = RESOURCES["PartnerUsagePlan"]["Properties"]
    anonymous = RESOURCES["AnonymousUsagePlan"]["Properties"]
    assert env["STEPPE_USAGE_PLAN"] == partners["UsagePlanName"]
    assert env["STEPPE_ANONYMOUS_USAGE_KEY"] == RESOURCES["AnonymousApiKey"]["Properties"]["Value"]
    link = RESOURCES["AnonymousUsagePlanKey"]["Properties"]
    assert link == {
        "KeyId": {"Ref": "AnonymousApiKey"},
        "KeyType": "API_KEY",
        "UsagePlanId": {"Ref": "AnonymousUsagePlan"},
    }
    stage = [{"ApiId": {"Ref": "SteppeApi"}, "Stage": {"Ref": "SteppeApi.Stage"}}]
    assert partners["ApiStages"] == anonymous["ApiStages"] == stage
    assert partners["Throttle"] == {
        "RateLimit": {"Ref": "PartnerRateLimit"},
        "BurstLimit": {"Ref": "PartnerBurstLimit"},
    }
    assert partners["Quota"] == {"Limit": {"Ref": "PartnerDailyQuota"}, "Period": "DAY"}
