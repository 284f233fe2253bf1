"""One steppe stack on a standalone moto server, reached over real HTTP.

The table, bucket and queues are made as template.yaml declares them (names
unique per stack, as CloudFormation's are); `steppe bootstrap` runs as the
operator runs it after `sam deploy`. Requests go over a socket to the
template's API Gateway (steppe.local.server: the authorizer run with a
REQUEST or TOKEN event, then the proxy event with its context) and every AWS
call goes over HTTP to the moto server (AWS_ENDPOINT_URL). The worker is fed
as Lambda's SQS event source mapping feeds it: ReceiveMessage, the SQS event,
DeleteMessage for what succeeded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import boto3

from steppe.config import Settings
from steppe.local.routes import RouteTable
from steppe.local.server import apply_function_environment, create_server
from steppe.runtime import build_services, use_services
from steppe.store.aws.provision import create_bucket, create_table
from support.app import Reply
from support.sqs_lambda import poll_once, queue_depth

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
ROUTES = RouteTable.from_template(TEMPLATE)
MAX_RECEIVES = 5  # the template's redrive policy
TAXII = {"Accept": "application/taxii+json;version=2.1"}


@dataclass
class Stack:
    url: str
    settings: Settings
    admin_key: str
    sqs: Any = field(repr=False)
    queue_arn: str
    dlq_url: str
    jobs_run: int = 0

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        key: str | None = "admin",
    ) -> Reply:
        """One HTTP request to the API; `key="admin"` sends the admin key, None no key."""
        target = self.url + path + (("?" + urlencode(query)) if query else "")
        data = json.dumps(json_body).encode() if json_body is not None else body
        request = urllib.request.Request(target, data=data, method=method)
        if json_body is not None:
            request.add_header("Content-Type", "application/json")
        if key is not None:
            request.add_header(
                "Authorization", f"Bearer {self.admin_key if key == 'admin' else key}"
            )
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return Reply(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return Reply(error.code, dict(error.headers), error.read())

    def taxii(self, path: str, key: str | None = "admin", **query: str) -> Reply:
        return self.request("GET", f"/taxii2/{path}", headers=TAXII, query=query, key=key)

    def drain(self, max_jobs: int = 500, *, failures_retry_at_once: bool = False) -> int:
        """Run the worker on the queue until it is empty; returns how many jobs it ran.

        A failed job fails the test, unless `failures_retry_at_once`: then its
        back-off passes at once and the queue's redrive policy ends its retries.
        """
        ran = 0
        while ran < max_jobs:
            poll = poll_once(self.sqs, self.settings.queue_url, self.queue_arn, ROUTES)
            if not poll.received:
                if queue_depth(self.sqs, self.settings.queue_url) == 0:
                    self.jobs_run += ran
                    return ran
                continue
            failed = [m for m in poll.received if m["MessageId"] in poll.failed]
            if failed and not failures_retry_at_once:
                raise AssertionError(f"the worker failed these jobs: {[m['Body'] for m in failed]}")
            for message in failed:
                self.sqs.change_message_visibility(
                    QueueUrl=self.settings.queue_url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=0,
                )
            ran += len(poll.received)
        raise AssertionError(f"the queue did not drain in {max_jobs} jobs")

    def redrive(self) -> int:
        """What StartMessageMoveTask does (moto has no such task): each dead letter goes
        back to the work queue as a new message."""
        moved = 0
        while True:
            messages = self.sqs.receive_message(QueueUrl=self.dlq_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not messages:
                return moved
            for message in messages:
                self.sqs.send_message(QueueUrl=self.settings.queue_url, MessageBody=message["Body"])
                self.sqs.delete_message(
                    QueueUrl=self.dlq_url, ReceiptHandle=message["ReceiptHandle"]
                )
                moved += 1

    def pending_jobs(self) -> int:
        return queue_depth(self.sqs, self.settings.queue_url)

    def dead_letters(self) -> int:
        return queue_depth(self.sqs, self.dlq_url)


def provision(prefix: str) -> dict[str, str]:
    """The template's table, bucket, work queue and dead-letter queue; their STEPPE_* names."""
    table, bucket = f"{prefix}-table", f"{prefix}-blobs"
    create_table(boto3.client("dynamodb"), table, TEMPLATE)
    create_bucket(boto3.client("s3"), bucket)
    sqs = boto3.client("sqs")
    dlq_url = sqs.create_queue(QueueName=f"{prefix}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])
    redrive = {
        "deadLetterTargetArn": dlq_arn["Attributes"]["QueueArn"],
        "maxReceiveCount": MAX_RECEIVES,
    }
    queue_url = sqs.create_queue(
        QueueName=f"{prefix}-work",
        Attributes={"VisibilityTimeout": "1800", "RedrivePolicy": json.dumps(redrive)},
    )["QueueUrl"]
    return {
        "STEPPE_BACKEND": "aws",
        "STEPPE_TABLE": table,
        "STEPPE_BUCKET": bucket,
        "STEPPE_QUEUE_URL": queue_url,
        "STEPPE_DLQ_URL": dlq_url,
    }


def bootstrap(env: dict[str, str]) -> str:
    """`steppe bootstrap` in its own process, as after `sam deploy`; the admin key it prints."""
    done = subprocess.run(
        [sys.executable, "-m", "steppe.cli", "bootstrap"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    [line] = [ln for ln in done.stdout.splitlines() if ln.startswith("admin key (shown once): ")]
    return line.rpartition(": ")[2].strip()


class RunningStack:
    """A stack and the API serving it on a free port, until close()."""

    def __init__(self, **extra_env: str) -> None:
        prefix = f"steppe-{uuid.uuid4().hex[:10]}"
        env = provision(prefix) | extra_env
        admin_key = bootstrap(env)
        settings = Settings.from_env({k: v for k, v in env.items() if k != "STEPPE_DLQ_URL"})
        apply_function_environment(ROUTES.environment)
        use_services(build_services(settings))
        self._server = create_server(ROUTES, "127.0.0.1", 0, 4, settings.max_body_bytes)
        self._thread = threading.Thread(target=self._server.run, name="api", daemon=True)
        self._thread.start()
        sqs = boto3.client("sqs")
        queue_arn = sqs.get_queue_attributes(
            QueueUrl=settings.queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        self.stack = Stack(
            self._server.base_url, settings, admin_key, sqs, queue_arn, env["STEPPE_DLQ_URL"]
        )

    def close(self) -> None:
        self._server.stop()
        self._thread.join(timeout=30)
        use_services(None)
