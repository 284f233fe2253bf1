"""template.yaml: cfn-lint clean, and the AWS shape the design requires.

The permission tests read each function's role from the template, and check
them two ways: against the list of grants each function should have, and
against the DynamoDB/S3/SQS operations the real code performs on moto.
"""

from __future__ import annotations

import ast
import fnmatch
import json
import random
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from cfnlint.api import ManualArgs, lint_file
from moto import mock_aws

from steppe.access.auth import identify
from steppe.access.credentials import hash_key
from steppe.local.routes import load_template
from steppe.store.aws import DynamoStore, S3BlobStore, SqsJobQueue
from steppe.store.aws.provision import create_bucket, create_table
from steppe.store.port import (
    ALL_VERSIONS,
    ApiRoot,
    AuditRecord,
    CampaignLink,
    CampaignRecord,
    ChunkResult,
    Collection,
    EvidenceScope,
    FalsePositive,
    GroupMember,
    IndexedValue,
    ObjectQuery,
    ObjectVersion,
    Partner,
    StatusPart,
    StatusRecord,
    Submission,
    SubmissionKey,
    VersionFilter,
)

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"
TEMPLATE = load_template(TEMPLATE_PATH)
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
FUNCTIONS = sorted(
    name for name, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"
)
DATA_SERVICES = ("dynamodb:", "s3:", "sqs:", "kms:", "sns:")


def _worker_max_receives() -> int:
    """steppe.handlers.worker.MAX_RECEIVES, read without importing the handler (and its Logger)."""
    source = (ROOT / "functions" / "steppe" / "handlers" / "worker.py").read_text(encoding="utf-8")
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "MAX_RECEIVES" for target in node.targets
        ):
            return ast.literal_eval(node.value)
    raise AssertionError("steppe.handlers.worker defines no MAX_RECEIVES")


TABLE_WRITE = {
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
}
BLOBS = {
    ("s3:GetObject", "SteppeBucket/*"),
    ("s3:PutObject", "SteppeBucket/*"),
    ("s3:DeleteObject", "SteppeBucket/*"),
    ("s3:ListBucket", "SteppeBucket"),
}
EXPECTED_DATA_GRANTS = {
    "AuthorizerFunction": {("dynamodb:GetItem", "SteppeTable")},
    "ApiFunction": {(a, "SteppeTable") for a in TABLE_WRITE}
    | BLOBS
    | {("sqs:SendMessage", "WorkQueue")},
    "TaxiiFunction": {(a, "SteppeTable") for a in TABLE_WRITE}
    | BLOBS
    | {("sqs:SendMessage", "WorkQueue")},
    "WorkerFunction": {(a, "SteppeTable") for a in TABLE_WRITE}
    | BLOBS
    | {
        ("sqs:SendMessage", "WorkQueue"),  # a stored chunk queues its correlation
        ("sqs:ReceiveMessage", "WorkQueue"),
        ("sqs:DeleteMessage", "WorkQueue"),
        ("sqs:ChangeMessageVisibility", "WorkQueue"),
        ("sqs:GetQueueAttributes", "WorkQueue"),
    },
}


TABLE_NAME = {"Fn::If": ["UsesRestoredTable", {"Ref": "RestoredTableName"}, {"Ref": "SteppeTable"}]}
TABLE_ARN = {"Fn::GetAtt": ["SteppeTable", "Arn"]}
RESTORED_TABLE_ARN = (
    "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${RestoredTableName}"
)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _properties(logical_id: str) -> dict[str, Any]:
    return RESOURCES[logical_id].get("Properties") or {}


def _target(resource: Any) -> str:
    """A statement's Resource as '<LogicalId>' or '<LogicalId>/*' (or '*')."""
    if resource == "*":
        return "*"
    if isinstance(resource, dict) and "Fn::If" in resource:  # the table, or its restored copy
        condition, restored, own = resource["Fn::If"]
        assert condition == "UsesRestoredTable", resource
        assert restored == {"Fn::Sub": RESTORED_TABLE_ARN} and own == TABLE_ARN, resource
        return _target(own)
    if isinstance(resource, dict) and "Fn::GetAtt" in resource:
        name, attribute = resource["Fn::GetAtt"]
        assert attribute == "Arn", resource
        return name
    if isinstance(resource, dict) and "Fn::Sub" in resource:
        text = resource["Fn::Sub"]
        assert text.startswith("${") and ".Arn}" in text, resource
        return text[2 : text.index(".Arn}")] + text[text.index(".Arn}") + 5 :]
    raise AssertionError(f"unexpected Resource form {resource!r}")


def _role(function_id: str) -> dict[str, Any]:
    role = _properties(function_id).get("Role")
    assert isinstance(role, dict) and "Fn::GetAtt" in role, (
        f"{function_id} must use its own role from this template (SAM's generated roles "
        "add managed policies with wildcard resources)"
    )
    return RESOURCES[role["Fn::GetAtt"][0]]


def _statements(function_id: str) -> list[dict[str, Any]]:
    role = _role(function_id)["Properties"]
    return [
        statement
        for policy in role.get("Policies", [])
        for statement in policy["PolicyDocument"]["Statement"]
    ]


def _grants(function_id: str, services: tuple[str, ...] = DATA_SERVICES) -> set[tuple[str, str]]:
    return {
        (action, _target(resource))
        for statement in _statements(function_id)
        if statement["Effect"] == "Allow"
        for action in _list(statement["Action"])
        if action.startswith(services)
        for resource in _list(statement["Resource"])
    }


# ---------------------------------------------------------------------------
# Lint
# ---------------------------------------------------------------------------


def test_cfn_lint_reports_nothing_not_even_informational():
    matches = lint_file(TEMPLATE_PATH, ManualArgs(include_checks=["I"]))
    assert [f"{m.rule.id} {m.message} (line {m.linenumber})" for m in matches] == []


# ---------------------------------------------------------------------------
# Storage
# ---------------------------------------------------------------------------


def test_table_is_on_demand_recoverable_encrypted_and_expires_items():
    table = _properties("SteppeTable")
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"]["SSEEnabled"] is True
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    # Listings are base-table items read with ConsistentRead; no index is needed.
    assert "GlobalSecondaryIndexes" not in table
    assert RESOURCES["SteppeTable"]["DeletionPolicy"] == "Retain"


def test_bucket_is_versioned_encrypted_private_and_tls_only():
    bucket = _properties("SteppeBucket")
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    rules = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rules[0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]

    policies = [
        r["Properties"]
        for r in RESOURCES.values()
        if r["Type"] == "AWS::S3::BucketPolicy"
        and r["Properties"]["Bucket"] == {"Ref": "SteppeBucket"}
    ]
    assert len(policies) == 1
    denials = [
        s
        for s in policies[0]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Deny"
        and s["Principal"] == "*"
        and s["Action"] == "s3:*"
        and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    ]
    assert len(denials) == 1
    assert {_target(r) for r in denials[0]["Resource"]} == {"SteppeBucket", "SteppeBucket/*"}


def test_queue_redrives_to_an_encrypted_dead_letter_queue_watched_by_an_alarm():
    queue = _properties("WorkQueue")
    dead = _properties("WorkDeadLetterQueue")
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["WorkDeadLetterQueue", "Arn"]},
        "maxReceiveCount": _worker_max_receives(),
    }
    assert queue["SqsManagedSseEnabled"] is True and dead["SqsManagedSseEnabled"] is True
    worker_timeout = _properties("WorkerFunction")["Timeout"]
    assert queue["VisibilityTimeout"] >= 6 * worker_timeout  # AWS's advice for SQS triggers

    alarms = [r["Properties"] for r in RESOURCES.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    watching = [
        a
        for a in alarms
        if a.get("Namespace") == "AWS/SQS"
        and a.get("MetricName") == "ApproximateNumberOfMessagesVisible"
        and a.get("Dimensions")
        == [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["WorkDeadLetterQueue", "QueueName"]}}]
    ]
    assert len(watching) == 1
    assert watching[0]["ComparisonOperator"] == "GreaterThanThreshold"
    assert watching[0]["Threshold"] == 0


# ---------------------------------------------------------------------------
# Functions
# ---------------------------------------------------------------------------


def test_globals_run_python_312_on_arm64_with_tracing():
    function = TEMPLATE["Globals"]["Function"]
    assert function["Runtime"] == "python3.12"
    assert function["Architectures"] == ["arm64"]
    assert function["Tracing"] == "Active"
    assert function["Layers"] == [{"Ref": "DependenciesLayer"}]
    variables = function["Environment"]["Variables"]
    assert variables["STEPPE_BACKEND"] == "aws"
    assert variables["STEPPE_TABLE"] == TABLE_NAME
    assert variables["STEPPE_BUCKET"] == {"Ref": "SteppeBucket"}
    assert variables["STEPPE_QUEUE_URL"] == {"Ref": "WorkQueue"}


@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_each_function_has_its_handler_its_logs_and_its_build(function_id):
    properties = _properties(function_id)
    module, _, attribute = properties["Handler"].rpartition(".")
    source = ROOT / "functions" / (module.replace(".", "/") + ".py")
    assert source.is_file(), f"{function_id}: no module {module}"
    assert f"def {attribute}(" in source.read_text(encoding="utf-8")

    log_group = properties["LoggingConfig"]["LogGroup"]["Ref"]
    assert RESOURCES[log_group]["Type"] == "AWS::Logs::LogGroup"
    assert _properties(log_group)["RetentionInDays"] == {"Ref": "LogRetentionInDays"}
    logs = _grants(function_id, ("logs:",))
    assert logs == {("logs:CreateLogStream", log_group), ("logs:PutLogEvents", log_group)}

    assert RESOURCES[function_id]["Metadata"]["BuildMethod"] == "makefile"


@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_no_function_touches_data_with_a_wildcard(function_id):
    for statement in _statements(function_id):
        actions = _list(statement["Action"])
        assert not any(action.endswith("*") for action in actions), statement
        if any(action.startswith((*DATA_SERVICES, "logs:")) for action in actions):
            assert "*" not in _list(statement["Resource"]), statement
    role = _role(function_id)["Properties"]
    assert "ManagedPolicyArns" not in role
    assert "Policies" not in _properties(function_id)  # SAM would add a second role policy


@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_each_function_is_granted_exactly_what_it_needs(function_id):
    assert _grants(function_id) == EXPECTED_DATA_GRANTS[function_id]


def test_the_authorizer_reads_only_credentials_and_partners():
    (statement,) = [
        s
        for s in _statements("AuthorizerFunction")
        if any(a.startswith("dynamodb:") for a in _list(s["Action"]))
    ]
    assert statement["Condition"] == {
        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["CRED#*", "PARTNERS"]}
    }


def test_build_targets_ship_the_package_with_its_stix_templates(tmp_path):
    for logical_id, resource in RESOURCES.items():
        if (resource.get("Metadata") or {}).get("BuildMethod") == "makefile":
            dry_run = subprocess.run(
                ["make", "-n", f"build-{logical_id}", f"ARTIFACTS_DIR={tmp_path / 'dry'}"],
                cwd=ROOT,
                capture_output=True,
                text=True,
            )
            assert dry_run.returncode == 0, dry_run.stderr
    if shutil.which("make") is None:
        pytest.fail("make is needed to build the functions")
    artifacts = tmp_path / "api"
    built = subprocess.run(
        ["make", "--silent", "build-ApiFunction", f"ARTIFACTS_DIR={artifacts}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    assert (artifacts / "steppe" / "handlers" / "api.py").is_file()
    shipped = sorted(p.name for p in (artifacts / "steppe" / "stix_templates").glob("*.yaml"))
    assert shipped == sorted(p.name for p in (ROOT / "stix_templates").glob("*.yaml"))
    assert shipped  # at least one attack kind
    # Bytecode for Lambda's Python only, one per module, valid whatever copies SAM makes
    # (PEP 552 flags 0b01: hash-based, source never checked); no stray bytecode of the build's.
    sources = {p.relative_to(artifacts).with_suffix("") for p in artifacts.rglob("*.py")}
    compiled = list(artifacts.rglob("*.pyc"))
    assert {p.parent.parent.relative_to(artifacts) / p.name.split(".")[0] for p in compiled} == (
        sources
    )
    for pyc in compiled:
        assert pyc.name.endswith(".cpython-312.pyc"), pyc
        assert int.from_bytes(pyc.read_bytes()[4:8], "little") == 0b01, pyc


# ---------------------------------------------------------------------------
# API Gateway's own errors
# ---------------------------------------------------------------------------


def test_gateway_errors_are_json_with_a_title_and_a_sentence():
    responses = _properties("SteppeApi")["GatewayResponses"]
    required = {
        "DEFAULT_4XX",
        "DEFAULT_5XX",
        "MISSING_AUTHENTICATION_TOKEN",
        "UNAUTHORIZED",
        "ACCESS_DENIED",
        "REQUEST_TOO_LARGE",
        "THROTTLED",
    }
    assert required <= set(responses)
    for kind, response in responses.items():
        template = response["ResponseTemplates"]["application/json"]
        rendered = template.replace(
            "$context.error.messageString", json.dumps('Missing "Authentication" Token')
        ).replace("$context.requestId", "c0ffee")
        body = json.loads(rendered)
        assert isinstance(body["title"], str) and body["title"], kind
        assert isinstance(body["description"], str) and body["description"], kind
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] == 404
    assert responses["UNAUTHORIZED"]["StatusCode"] == 401
    assert responses["REQUEST_TOO_LARGE"]["StatusCode"] == 413
    assert responses["THROTTLED"]["StatusCode"] == 429


# ---------------------------------------------------------------------------
# The policies against what the code really does
# ---------------------------------------------------------------------------

_TRANSACT_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}
_S3_ACTIONS = {
    "PutObject": "s3:PutObject",
    "GetObject": "s3:GetObject",
    "HeadObject": "s3:GetObject",
    "DeleteObject": "s3:DeleteObject",
    "DeleteObjects": "s3:DeleteObject",
}


class Operations:
    """IAM actions (and DynamoDB partition keys) of every request a set of clients sends."""

    def __init__(self, *clients: Any) -> None:
        self.actions: set[tuple[str, str]] = set()
        self.partitions: set[str] = set()
        for client in clients:
            client.meta.events.register("before-parameter-build", self._record)

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        service = model.service_model.service_name
        name = model.name
        if service == "dynamodb":
            if name == "TransactWriteItems":
                for entry in params["TransactItems"]:
                    kind = next(iter(entry))  # Put, Update, Delete or ConditionCheck
                    self.actions.add((_TRANSACT_ACTIONS[kind], "SteppeTable"))
            else:
                self.actions.add((f"dynamodb:{name}", "SteppeTable"))
            self._partitions(params)
        elif service == "s3":
            self.actions.add((_S3_ACTIONS[name], "SteppeBucket/*"))
        elif service == "sqs":
            self.actions.add(("sqs:SendMessage", "WorkQueue"))

    def _partitions(self, params: dict[str, Any]) -> None:
        if "Key" in params:
            self.partitions.add(params["Key"]["pk"]["S"])
        if "Item" in params:
            self.partitions.add(params["Item"]["pk"]["S"])
        for table in (params.get("RequestItems") or {}).values():
            for key in table.get("Keys", []) if isinstance(table, dict) else []:
                self.partitions.add(key["pk"]["S"])
        values = params.get("ExpressionAttributeValues") or {}
        if "KeyConditionExpression" in params:
            self.partitions.add(values[":pk"]["S"])


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    with mock_aws():
        clients = {name: boto3.client(name) for name in ("dynamodb", "s3", "sqs")}
        create_table(clients["dynamodb"], "steppe", TEMPLATE_PATH)
        create_bucket(clients["s3"], "steppe-policy-check")
        clients["queue_url"] = clients["sqs"].create_queue(QueueName="work")["QueueUrl"]
        yield clients


def _exercise_the_store(store: DynamoStore, blobs: S3BlobStore, queue: SqsJobQueue) -> None:
    """Every kind of request the API function and the worker make."""
    collection = str(uuid.uuid4())
    store.put_api_root(ApiRoot("steppe", "steppe"))
    store.create_collection(Collection(collection, "steppe", "Kyrgyzstan DDoS"))
    store.update_collection(Collection(collection, "steppe", "Kyrgyzstan DDoS, 2009"))
    store.find_collection_by_title("steppe", "Kyrgyzstan DDoS, 2009")
    store.list_collections("steppe")
    indicator = f"indicator--{uuid.uuid4()}"
    big = b'{"padding": "' + b"x" * 310_000 + b'"}'
    store.put_objects(
        collection,
        [
            ObjectVersion(indicator, "indicator", 1000, "2.1", 0, b"{}"),
            ObjectVersion(f"report--{uuid.uuid4()}", "report", 1000, "2.1", 0, big),
        ],
    )
    store.put_objects(collection, [ObjectVersion(indicator, "indicator", 2000, "2.1", 0, b"{}")])
    store.list_objects(collection, ObjectQuery(versions=ALL_VERSIONS))
    store.list_objects(collection, ObjectQuery(ids=frozenset({indicator})))
    store.delete_object(collection, indicator, VersionFilter(first=True))
    store.count_objects(collection)
    store.put_partner(Partner("kg-cert", "partner"))
    store.add_credential(hash_key("k"), "kg-cert", 1)
    store.remove_credentials("kg-cert")
    store.create_submission(Submission("s-1", collection, "analyst", 1, 1, 1))
    store.record_chunk("s-1", ChunkResult(1, {"created": 1}))
    store.chunk_results("s-1")
    store.set_submission_status("s-1", "failed")
    store.list_submissions()
    store.clear_chunks("s-1")
    # Recovery: open work written with its record, leased, cleared; idempotency keys.
    store.create_submission(Submission("s-2", collection, "analyst", 1, 1, 1), True)
    store.create_status(StatusRecord(str(uuid.uuid4()), "kg-cert", collection, 1, 2, 2**62), True)
    for work in store.take_undispatched(recorded_before=10, now=10, lease_until=20):
        store.mark_dispatched(work.kind, work.id)
    store.bind_submission_key(SubmissionKey("analyst:key:k", "s-2", "d", 2**62), now=1)
    store.bind_submission_key(SubmissionKey("analyst:key:k", "s-3", "d", 2**62), now=1)
    # TAXII statuses (with a part too large for an item), the audit trail, secrets.
    status_id = str(uuid.uuid4())
    store.create_status(StatusRecord(status_id, "kg-cert", collection, 1, 2, 2**62))
    store.get_status(status_id)
    store.record_status_part(status_id, StatusPart(0, successes=((indicator, None, None),)))
    noise = tuple((indicator, None, random.randbytes(375).hex()) for _ in range(1_000))
    store.record_status_part(status_id, StatusPart(1, failures=noise))
    store.record_status_part(status_id, StatusPart(1, failures=noise))  # a retry: its spill undone
    store.status_parts(status_id)
    store.append_audit(AuditRecord(1_000, "req-1", "kg-cert", "GET", "/taxii2/", 200))
    store.list_audit(since=0, until=3 * 86_400_000_000, partner="kg-cert")
    store.server_secret("taxii-paging")
    # The observable index: occurrences, groups (transactions), evidence, campaigns, links.
    campaign, other = f"campaign--{uuid.uuid4()}", f"campaign--{uuid.uuid4()}"
    key = "ipv4-addr:198.51.100.7"
    seen = IndexedValue(key, collection, indicator, campaign, "submission:s-1", "i", 1, 5, 6)
    store.index_values([seen])
    store.find_values([key, "ipv4-addr:198.51.100.8"])
    store.campaign_values(campaign)
    store.add_cidr_prefixes("ipv4-addr", [24])
    store.cidr_prefixes()
    store.index_groups([GroupMember("net:198.51.100.0/24", campaign, collection, 1, key)])
    store.find_groups(["net:198.51.100.0/24"])
    scope = EvidenceScope((collection,), 1)
    store.add_link_evidence((campaign, other), "exact", [scope], [key])
    store.link_evidence((campaign, other), "exact", [scope])
    store.put_campaign(CampaignRecord(campaign, "Kyrgyzstan", collection, 1, "i", 5, 6, 7))
    store.get_campaigns([campaign, other])
    store.list_campaigns()
    link = CampaignLink(campaign, other, "exact", 1, (key,), 61, "r", (collection,), 1, 7)
    store.put_campaign_links([link])
    store.campaign_links(campaign)
    store.put_false_positive(FalsePositive(key, "our scanner", "analyst", 7))
    store.find_false_positives([key])
    store.list_false_positives()
    store.remove_false_positive(key)
    blobs.put("submissions/s-1/raw", b"raw")
    blobs.get("submissions/s-1/raw")
    blobs.exists("submissions/s-1/missing")
    blobs.delete("submissions/s-1/raw")
    queue.send([{"task": "process_chunk", "submission_id": "s-1", "chunk": 1}])


@pytest.mark.parametrize("function_id", ["ApiFunction", "TaxiiFunction", "WorkerFunction"])
def test_the_roles_allow_every_request_the_store_makes(aws, function_id):
    store = DynamoStore(aws["dynamodb"], "steppe", aws["s3"], "steppe-policy-check")
    blobs = S3BlobStore(aws["s3"], "steppe-policy-check")
    queue = SqsJobQueue(aws["sqs"], aws["queue_url"])
    operations = Operations(aws["dynamodb"], aws["s3"], aws["sqs"])
    _exercise_the_store(store, blobs, queue)
    store.close()

    granted = _grants(function_id)
    needed = operations.actions
    assert {  # the workload reached every path: batches, transactions, spills, the queue
        ("dynamodb:BatchWriteItem", "SteppeTable"),
        ("dynamodb:BatchGetItem", "SteppeTable"),
        ("dynamodb:ConditionCheckItem", "SteppeTable"),
        ("s3:PutObject", "SteppeBucket/*"),
        ("s3:DeleteObject", "SteppeBucket/*"),
        ("sqs:SendMessage", "WorkQueue"),
    } <= needed
    reached = {p.split("#")[0] for p in operations.partitions}
    assert {"STATUS", "AUDIT", "SECRETS"} <= reached  # TAXII statuses, audit, secrets
    assert needed - granted == set()
    assert ("s3:ListBucket", "SteppeBucket") in granted  # HeadObject of a missing key: 404


def test_the_authorizer_role_allows_exactly_what_identify_reads(aws):
    store = DynamoStore(aws["dynamodb"], "steppe", aws["s3"], "steppe-policy-check")
    store.put_partner(Partner("kg-cert", "partner"))
    store.add_credential(hash_key("secret-key"), "kg-cert", 1)
    operations = Operations(aws["dynamodb"], aws["s3"], aws["sqs"])
    caller = identify(store, "Bearer secret-key")
    assert caller.partner == "kg-cert"
    identify(store, "Bearer unknown-key")
    store.close()

    assert operations.actions == {("dynamodb:GetItem", "SteppeTable")}
    assert operations.actions <= _grants("AuthorizerFunction")
    (statement,) = [
        s
        for s in _statements("AuthorizerFunction")
        if any(a.startswith("dynamodb:") for a in _list(s["Action"]))
    ]
    patterns = statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
    assert operations.partitions
    for partition in operations.partitions:
        assert any(fnmatch.fnmatchcase(partition, p) for p in patterns), partition


def _table_references(node: Any) -> list[Any]:
    """Every use of SteppeTable: a Ref, a GetAtt, a Sub naming it, or the restore's Fn::If."""
    if isinstance(node, dict):
        if node.get("Fn::If", [None])[0] == "UsesRestoredTable":
            return [node]
        if node == {"Ref": "SteppeTable"} or node.get("Fn::GetAtt", [None])[0] == "SteppeTable":
            return [node]
        if "${SteppeTable" in str(node.get("Fn::Sub", "")):
            return [node]
        return [found for value in node.values() for found in _table_references(value)]
    if isinstance(node, list):
        return [found for value in node for found in _table_references(value)]
    return []


def test_a_restored_table_replaces_the_stacks_own_everywhere_it_is_used():
    """RestoredTableName switches every use of the table at once: functions, roles, alarms."""
    assert TEMPLATE["Parameters"]["RestoredTableName"]["Default"] == ""
    used = _table_references({k: v for k, v in TEMPLATE.items() if k != "Resources"})
    used += _table_references({k: v for k, v in RESOURCES.items() if k != "SteppeTable"})
    assert used, "the template uses its table somewhere"
    for reference in used:
        assert "Fn::If" in reference, f"{reference} ignores RestoredTableName"
        condition, restored, own = reference["Fn::If"]
        assert (condition, own) in (
            ("UsesRestoredTable", {"Ref": "SteppeTable"}),
            ("UsesRestoredTable", TABLE_ARN),
        )
        assert restored in ({"Ref": "RestoredTableName"}, {"Fn::Sub": RESTORED_TABLE_ARN})
