"""The embedded shape in process: the real gateway, authorizer, handlers and store.

Requests go through steppe.local.server's WSGI gateway exactly as the HTTP
server sends them (API Gateway event, authorizer, handler), without a socket.
"""

from __future__ import annotations

import base64
import io
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from steppe.access.bootstrap import BootstrapResult, ensure_bootstrapped
from steppe.config import Settings
from steppe.local.job_thread import LocalWorker
from steppe.local.routes import RouteTable
from steppe.local.server import create_app
from steppe.runtime import Services, build_services, use_services
from support.sqs_lambda import poll_once

ROUTES = RouteTable.from_template()
TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


@dataclass
class App:
    settings: Settings
    services: Services
    boot: BootstrapResult
    gateway: Any = field(repr=False)
    backend: str = "sqlite"
    aws: Any = field(default=None, repr=False)  # the moto session of the aws backend

    @property
    def admin_key(self) -> str:
        assert self.boot.admin_key
        return self.boot.admin_key

    @property
    def default_collection(self) -> str:
        return self.boot.default_collection.id

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | str | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str] | list[tuple[str, str]] | None = None,
        key: str | bool | None = True,
        content_type: str | None = None,
    ) -> Reply:
        """One HTTP request; `key=True` sends the admin key, a string sends that key."""
        if json_body is not None:
            body = json.dumps(json_body).encode()
            content_type = content_type or "application/json"
        data = body.encode() if isinstance(body, str) else (body or b"")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": urlencode(query or {}),
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(data),
            "CONTENT_LENGTH": str(len(data)),
        }
        all_headers = dict(headers or {})
        if key is True:
            all_headers.setdefault("Authorization", f"Bearer {self.admin_key}")
        elif isinstance(key, str):
            all_headers.setdefault("Authorization", f"Bearer {key}")
        if content_type:
            all_headers["Content-Type"] = content_type
        for name, value in all_headers.items():
            if name.lower() == "content-type":
                environ["CONTENT_TYPE"] = value
            else:
                environ["HTTP_" + name.upper().replace("-", "_")] = value
        captured: dict[str, Any] = {}

        def start_response(status: str, response_headers: list, exc_info: Any = None) -> None:
            captured["status"] = int(status.split()[0])
            captured["headers"] = dict(response_headers)

        chunks = self.gateway(environ, start_response)
        payload = b"".join(chunks)
        return Reply(captured["status"], captured["headers"], payload)

    def submit(self, report: Any, **kwargs: Any) -> Reply:
        return self.request("POST", "/api/v1/observations", json_body=report, **kwargs)

    # -- what differs between the two shapes ----------------------------------------

    def drain(self, max_jobs: int = 10_000) -> int:
        """Run the worker until the queue is empty; returns how many jobs it ran."""
        if self.backend == "aws":
            return self.aws.drain(max_jobs)
        worker = LocalWorker(self.services.queue, ROUTES, retry_base=0.0, retry_max=0.0)
        ran = 0
        while ran < max_jobs:
            handled = worker.run_once()
            if not handled:
                if self.services.queue.pending() == 0:
                    return ran
                continue
            ran += handled
        raise AssertionError("the queue did not drain")

    def pending_jobs(self) -> int:
        if self.backend == "aws":
            return self.aws.pending()
        return self.services.queue.pending()

    def dead_letters(self) -> list[dict[str, Any]]:
        if self.backend == "aws":
            return self.aws.dead_letters()
        return [json.loads(job.body) for job in self.services.queue.dead_letters()]

    def blob_keys(self) -> list[str]:
        if self.backend == "aws":
            return self.aws.blob_keys()
        root = self.settings.data_dir / "blobs"
        if not root.exists():
            return []
        return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())

    def close(self) -> None:
        use_services(None)
        if self.aws is not None:
            self.aws.close()


class MotoAws:
    """The AWS shape on moto: the template's table, a bucket, the work queue and its DLQ.

    The worker is driven the way Lambda's SQS event source drives it: receive,
    invoke the worker function with the records, delete what succeeded; a
    failed message becomes visible again (at once, here) until the queue's
    redrive policy moves it to the dead-letter queue.
    """

    MAX_RECEIVES = 5
    QUEUE_ARN = "arn:aws:sqs:eu-central-1:123456789012:steppe-work"

    def __init__(self) -> None:
        import boto3
        from moto import mock_aws

        from steppe.store.aws.provision import create_bucket, create_table

        self._mock = mock_aws()
        self._mock.start()
        self.table, self.bucket = "steppe-test", "steppe-test-blobs"
        dynamodb = boto3.client("dynamodb")
        create_table(dynamodb, self.table, TEMPLATE)
        self.s3 = boto3.client("s3")
        create_bucket(self.s3, self.bucket)
        self.sqs = boto3.client("sqs")
        self.dlq_url = self.sqs.create_queue(QueueName="steppe-work-dlq")["QueueUrl"]
        dlq_arn = self.sqs.get_queue_attributes(QueueUrl=self.dlq_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.queue_url = self.sqs.create_queue(
            QueueName="steppe-work",
            Attributes={
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": self.MAX_RECEIVES}
                )
            },
        )["QueueUrl"]

    @staticmethod
    def serialise(dynamodb_client: Any) -> None:
        """Give moto DynamoDB's per-request atomicity.

        moto checks a conditional write's condition and applies it in separate
        steps, so two threads can both win one lease; DynamoDB applies each
        request atomically. Serialising the client's calls restores that (the
        contract suite does the same).
        """
        serial = threading.Lock()

        def enter(context: dict[str, Any], **_: Any) -> None:
            serial.acquire()
            context["steppe_serial"] = True

        def leave(context: dict[str, Any], **_: Any) -> None:
            if context.pop("steppe_serial", False):
                serial.release()

        events = dynamodb_client.meta.events
        events.register("before-call.dynamodb", enter)
        events.register("after-call.dynamodb", leave)
        events.register("after-call-error.dynamodb", leave)

    def env(self) -> dict[str, str]:
        return {
            "STEPPE_BACKEND": "aws",
            "STEPPE_TABLE": self.table,
            "STEPPE_BUCKET": self.bucket,
            "STEPPE_QUEUE_URL": self.queue_url,
        }

    def drain(self, max_jobs: int) -> int:
        ran = 0
        while ran < max_jobs:
            poll = poll_once(self.sqs, self.queue_url, self.QUEUE_ARN, ROUTES)
            if not poll.received:
                return ran
            for message in poll.received:
                if message["MessageId"] in poll.failed:
                    self.sqs.change_message_visibility(
                        QueueUrl=self.queue_url,
                        ReceiptHandle=message["ReceiptHandle"],
                        VisibilityTimeout=0,
                    )
            ran += len(poll.received)
        raise AssertionError("the queue did not drain")

    def pending(self) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return sum(int(v) for v in attributes.values())

    def dead_letters(self) -> list[dict[str, Any]]:
        messages = self.sqs.receive_message(
            QueueUrl=self.dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=0
        ).get("Messages", [])
        return [json.loads(m["Body"]) for m in messages]

    def blob_keys(self) -> list[str]:
        listed = self.s3.list_objects_v2(Bucket=self.bucket).get("Contents", [])
        return sorted(item["Key"] for item in listed)

    def close(self) -> None:
        self._mock.stop()


def basic(partner: str, key: str) -> str:
    return "Basic " + base64.b64encode(f"{partner}:{key}".encode()).decode()


def open_app(data_dir: Path, backend: str = "sqlite", **env: str) -> App:
    """steppe in one shape, bootstrapped, with its handlers wired to it."""
    aws = MotoAws() if backend == "aws" else None
    settings = Settings.from_env(
        {"STEPPE_DATA_DIR": str(data_dir), **(aws.env() if aws else {}), **env}
    )
    services = build_services(settings)
    if aws is not None:
        aws.serialise(services.store._table.client)  # the one DynamoDB client steppe made
    use_services(services)
    boot = ensure_bootstrapped(services.store, settings, admin_key=None)
    return App(settings, services, boot, create_app(ROUTES, settings.max_body_bytes), backend, aws)


def stored_count(app: App) -> int:
    return sum(
        app.services.store.count_objects(c.id)
        for c in app.services.store.list_collections(app.settings.api_root)
    )


def example(name: str = "kyrgyzstan-2009.json") -> dict[str, Any]:
    return json.loads((Path(__file__).resolve().parents[2] / "examples" / name).read_text())
