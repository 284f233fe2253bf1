"""`make integration`: the AWS shape against the standalone moto server run_moto.py started.

Every AWS call goes to that server (AWS_ENDPOINT_URL), with fake credentials
set here whatever the environment holds, so that nothing can reach AWS.
"""

import os
from collections.abc import Iterator

import pytest

ENDPOINT = os.environ.get("STEPPE_MOTO_ENDPOINT", "")
if not ENDPOINT:
    raise pytest.UsageError(
        "tests_integration needs a standalone moto server: run `make integration`"
    )

os.environ.update(
    AWS_ENDPOINT_URL=ENDPOINT,
    AWS_DEFAULT_REGION="eu-central-1",
    AWS_REGION="eu-central-1",
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled",
)
os.environ.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL_")] + ["AWS_PROFILE"]:
    os.environ.pop(name, None)
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "steppe-integration")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

from aws_stack import RunningStack, Stack  # noqa: E402


@pytest.fixture
def stack() -> Iterator[Stack]:
    """A fresh stack (its own table, bucket and queues on the server), chunks of 20 observables.

    Small thresholds so that the queued paths run on a few dozen objects: moto
    answers a DynamoDB Query by reading the whole table, and ingest makes one
    per object.
    """
    running = RunningStack(
        STEPPE_SYNC_OBSERVABLES="20",
        STEPPE_CHUNK_OBSERVABLES="20",
        STEPPE_TAXII_SYNC_OBJECTS="20",
        STEPPE_TAXII_PART_OBJECTS="20",
    )
    yield running.stack
    running.close()
