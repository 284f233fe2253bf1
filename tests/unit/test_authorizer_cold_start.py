"""The authorizer's first call reads the key's record and its partner's, and loads nothing else.

Run in a fresh interpreter (a Lambda cold start): after the handler has
answered, no module of the object, feed or index store, no S3 or SQS code
and no idempotency layer has been imported, and the DynamoDB requests it
made are the GetItems identify() needs. Its answers are those of the whole
store.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from steppe.access.auth import identify
from steppe.access.credentials import hash_key
from steppe.store.aws import DynamoStore
from steppe.store.aws.credential_lookup import DynamoCredentialLookup
from steppe.store.aws.provision import create_bucket, create_table
from steppe.store.port import Partner

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"

COLD_CALL = r"""
import base64, json, sys
import boto3
from moto import mock_aws

with mock_aws():
    from steppe.store.aws.provision import create_table
    from steppe.access.credentials import hash_key
    from steppe.store.aws.credential_lookup import DynamoCredentialLookup
    from steppe.store.port import Partner

    create_table(boto3.client("dynamodb"), "steppe", sys.argv[1])
    seed = DynamoCredentialLookup(boto3.client("dynamodb"), "steppe")
    seed.put_partner(Partner("kg-cert", "partner", 2, frozenset({"c1"}), frozenset(), id="p-1"))
    seed.add_credential(hash_key("kg-secret"), "kg-cert", 1)

    from steppe.handlers import authorizer
    from steppe.runtime import credential_lookup

    requests = []
    credential_lookup()._table.client.meta.events.register(
        "before-call.dynamodb", lambda model, **_: requests.append(model.name)
    )
    arn = "arn:aws:execute-api:eu-central-1:123456789012:abc/v1/GET/taxii2/"
    answers = []
    for header in ("Bearer kg-secret", "Basic " + base64.b64encode(b"kg-cert:kg-secret").decode(),
                   "Bearer unknown", None):
        event = {"methodArn": arn, "headers": {"Authorization": header} if header else {}}
        answers.append(authorizer.lambda_handler(event, None))
    print(json.dumps({
        "answers": answers,
        "requests": requests,
        "loaded": sorted(sys.modules),
    }))
"""


@pytest.fixture(scope="module")
def cold_call() -> dict:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "functions"),
        "STEPPE_BACKEND": "aws",
        "STEPPE_TABLE": "steppe",
        "STEPPE_BUCKET": "never-touched",
        "STEPPE_QUEUE_URL": "https://sqs.eu-central-1.amazonaws.com/123456789012/never-touched",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    done = subprocess.run(
        [sys.executable, "-c", COLD_CALL, str(TEMPLATE)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_first_call_loads_only_the_credential_lookup(cold_call):
    loaded = set(cold_call["loaded"])
    assert "steppe.store.aws.credential_lookup" in loaded
    for never in (
        "steppe.store.aws.store",
        "steppe.store.aws.objects",
        "steppe.store.aws.feed_index",
        "steppe.store.aws.index",
        "steppe.store.aws.blobs",
        "steppe.store.aws.queue",
        "aws_lambda_powertools.utilities.idempotency",
        "steppe.taxii.serving",
        "steppe.ingest.submission_intake",
    ):
        assert never not in loaded, never


def test_first_call_reads_only_the_key_and_its_partner(cold_call):
    # known key: its credential, then its partner (twice: Bearer, Basic); unknown key: one read;
    # no header: none.
    assert cold_call["requests"] == ["GetItem"] * 5


def test_cold_answers_name_the_partner_or_the_reason(cold_call):
    bearer, basic, unknown, missing = cold_call["answers"]
    assert bearer["principalId"] == basic["principalId"] == "kg-cert"
    assert bearer["context"] == basic["context"]
    assert bearer["context"]["authenticated"] == "true"
    assert unknown["principalId"] == missing["principalId"] == "anonymous"
    assert "not valid" in unknown["context"]["problem"]
    assert "no credentials" in missing["context"]["problem"]
    resources = {a["policyDocument"]["Statement"][0]["Resource"] for a in cold_call["answers"]}
    assert resources == {"arn:aws:execute-api:eu-central-1:123456789012:abc/v1/*"}


def test_the_lookup_answers_as_the_whole_store():
    with mock_aws():
        dynamodb, s3 = boto3.client("dynamodb"), boto3.client("s3")
        create_table(dynamodb, "steppe", TEMPLATE)
        create_bucket(s3, "steppe-lookup")
        store = DynamoStore(dynamodb, "steppe", s3, "steppe-lookup")
        lookup = DynamoCredentialLookup(dynamodb, "steppe")
        store.put_partner(Partner("kg-cert", "partner", 3, frozenset({"c"}), id=str(uuid.uuid4())))
        store.put_partner(Partner("ana", "analyst"))
        store.add_credential(hash_key("kg-key"), "kg-cert", 1)
        store.add_credential(hash_key("orphan-key"), "gone", 1)
        headers = (
            "Bearer kg-key",
            "Token kg-key",
            "Basic a2ctY2VydDpLZy1rZXk=",  # kg-cert:Kg-key, a wrong key
            "Basic " + __import__("base64").b64encode(b"ana:kg-key").decode(),  # not ana's key
            "Bearer orphan-key",  # a credential whose partner is gone
            "Bearer nothing",
            "Digest x",
            None,
        )
        for header in headers:
            assert identify(lookup, header) == identify(store, header), header
        store.delete_partner("kg-cert")
        assert identify(lookup, "Bearer kg-key") == identify(store, "Bearer kg-key")
        assert not identify(lookup, "Bearer kg-key").authenticated
        lookup.close()
        store.close()
