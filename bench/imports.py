"""Cold start of each Lambda handler as shipped: import and first call, from the built artifacts.

The function and the layer are built into a temporary directory by the
Makefile's own SAM targets (`build-ApiFunction`, `build-DependenciesLayer`),
so what is measured is what `sam build` ships: the steppe package and the
locked dependencies, each with bytecode compiled by Lambda's Python. The
layer is built for this machine's platform when it is not Lambda's arm64
(aarch64 wheels cannot run here); the Python files are the same.

Each figure is the median over fresh Python 3.12 interpreters whose path is
the artifacts alone (as /var/task and /opt/python), with the template's
environment, against a standalone moto server: the handler module's import,
then its first call with an API Gateway-shaped event (a REQUEST authorizer
event for the authorizer) or an SQS-shaped one for the worker. The baseline,
in the same run: the same artifacts without their bytecode, as they shipped
before (Lambda's read-only code directory means a cold start compiles every
module it imports, every time).
"""

from __future__ import annotations

import json
import logging
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any

from bench.common import free_port, heading, row

ROOT = Path(__file__).resolve().parents[1]
RUNS = 5
LAMBDA_PYTHON = "3.12"
HANDLERS = ("AuthorizerFunction", "ApiFunction", "TaxiiFunction", "WorkerFunction")

PROBE = r"""
import json, sys, time
event = json.loads(sys.stdin.read())
started = time.perf_counter()
module = __import__(sys.argv[1], fromlist=["lambda_handler"])
imported = time.perf_counter()


class Context:
    function_name = "bench"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:eu-central-1:123456789012:function:bench"
    aws_request_id = "bench-request"

    def get_remaining_time_in_millis(self):
        return 29000


result = module.lambda_handler(event, Context())
called = time.perf_counter()
print(json.dumps({"import": imported - started, "call": called - imported, "result": result}))
"""


def lambda_python() -> str:
    """A Python 3.12 that runs: Lambda's version, the one the bytecode is compiled for."""
    candidates = [f"python{LAMBDA_PYTHON}"]
    candidates += sorted(
        str(p)
        for p in Path.home().glob(f".pyenv/versions/{LAMBDA_PYTHON}*/bin/python{LAMBDA_PYTHON}")
    )
    for candidate in candidates:
        try:
            subprocess.run([candidate, "-c", "pass"], check=True, capture_output=True)
        except (OSError, subprocess.CalledProcessError):
            continue
        return candidate
    raise RuntimeError(f"no Python {LAMBDA_PYTHON} on this machine (the Lambda runtime's)")


def host_platform() -> str:
    machine = platform.machine()
    return f"{'aarch64' if machine in ('aarch64', 'arm64') else machine}-manylinux2014"


def build(target: str, into: Path, **variables: str) -> None:
    extra = [f"{name}={value}" for name, value in variables.items()]
    subprocess.run(
        ["make", "--silent", target, f"ARTIFACTS_DIR={into}", *extra],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )


def without_bytecode(source: Path, into: Path) -> Path:
    shutil.copytree(source, into, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return into


def handler_modules() -> dict[str, str]:
    from steppe.local.routes import load_template

    resources = load_template(ROOT / "template.yaml")["Resources"]
    return {name: resources[name]["Properties"]["Handler"].rsplit(".", 1)[0] for name in HANDLERS}


class World:
    """A moto server with the stack's table, bucket and queue, bootstrapped."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.port = free_port()
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.env = {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_DEFAULT_REGION": "eu-central-1",
            "AWS_REGION": "eu-central-1",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "STEPPE_BACKEND": "aws",
            "STEPPE_TABLE": "steppe-bench",
            "STEPPE_BUCKET": "steppe-bench",
            "STEPPE_MAX_BODY_BYTES": "4500000",
            "POWERTOOLS_SERVICE_NAME": "steppe",
            "POWERTOOLS_METRICS_NAMESPACE": "steppe",
            "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon here
            "POWERTOOLS_METRICS_DISABLED": "true",
            "LOG_LEVEL": "WARNING",
        }
        previous = {name: os.environ.get(name) for name in self.env}
        os.environ.update(self.env)
        try:
            self._provision()
        finally:
            for name, value in previous.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

    def _provision(self) -> None:
        import boto3

        from steppe.access.bootstrap import ensure_bootstrapped
        from steppe.config import Settings
        from steppe.runtime import build_services
        from steppe.store.aws.provision import create_bucket, create_table

        create_table(boto3.client("dynamodb"), "steppe-bench", ROOT / "template.yaml")
        create_bucket(boto3.client("s3"), "steppe-bench")
        queue = boto3.client("sqs").create_queue(QueueName="steppe-bench-work")["QueueUrl"]
        self.env["STEPPE_QUEUE_URL"] = os.environ["STEPPE_QUEUE_URL"] = queue
        services = build_services(Settings.from_env())
        boot = ensure_bootstrapped(services.store, services.settings, "stp_" + uuid.uuid4().hex)
        self.admin_key = boot.admin_key
        self.collection = boot.default_collection.id
        self.api_root = services.settings.api_root
        self.events = self._events(services)
        services.close()

    def _events(self, services: Any) -> dict[str, dict[str, Any]]:
        from steppe.access.auth import identify
        from steppe.local.events import (
            EventParts,
            HttpRequest,
            authorize,
            proxy_event,
            request_authorizer_event,
        )
        from steppe.local.routes import RouteTable

        table = RouteTable.from_template(ROOT / "template.yaml")

        def gateway(method: str, path: str, query: str = "") -> tuple[dict, dict]:
            headers = [
                ("Host", "bench.execute-api.local"),
                ("Authorization", f"Bearer {self.admin_key}"),
                ("Accept", "application/taxii+json;version=2.1"),
            ]
            request = HttpRequest(
                method, path, query, headers, b"", "127.0.0.1", "http", "443", "HTTP/1.1"
            )
            match = table.match(method, path)
            parts = EventParts(request, match, str(uuid.uuid4()), 1_700_000_000_000)
            auth_event = request_authorizer_event(parts, match)
            caller = identify(services.store, f"Bearer {self.admin_key}")
            answer = {
                "principalId": caller.partner,
                "policyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": "*"}
                    ],
                },
                "context": caller.to_context(),
            }
            return auth_event, proxy_event(
                parts, match, authorize(answer, auth_event["methodArn"], 1)
            )

        objects = f"/taxii2/{self.api_root}/collections/{self.collection}/objects/"
        authorizer_event, taxii_event = gateway("GET", objects)
        _, api_event = gateway("GET", "/api/v1/observables", "value=198.51.100.7")
        worker_event = {
            "Records": [
                {
                    "messageId": str(uuid.uuid4()),
                    "receiptHandle": "bench-receipt",
                    "body": json.dumps({"task": "render_feeds"}),
                    "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0"},
                    "messageAttributes": {},
                    "md5OfBody": "",
                    "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:eu-central-1:123456789012:steppe-bench-work",
                    "awsRegion": "eu-central-1",
                }
            ]
        }
        return {
            "AuthorizerFunction": authorizer_event,
            "ApiFunction": api_event,
            "TaxiiFunction": taxii_event,
            "WorkerFunction": worker_event,
        }

    def stop(self) -> None:
        self.server.stop()


def cold_start(
    python: str, function: Path, layer: Path, module: str, event: dict, env: dict[str, str]
) -> tuple[float, float, Any]:
    """(import seconds, first call seconds, result) in one fresh interpreter."""
    done = subprocess.run(
        [
            python,
            "-I",
            "-B",
            "-S",
            "-c",
            f"import sys; sys.path[:0] = {[str(function), str(layer)]!r}\n" + PROBE,
            module,
        ],
        input=json.dumps(event),
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1", **env},
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{module}: {done.stderr[-2000:]}")
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    return measured["import"], measured["call"], measured["result"]


def median_cold_start(*args: Any) -> tuple[float, float]:
    imports, calls = [], []
    for _ in range(RUNS):
        took_import, took_call, result = cold_start(*args)
        _check(result)
        imports.append(took_import)
        calls.append(took_call)
    return statistics.median(imports), statistics.median(calls)


def _check(result: Any) -> None:
    """A first call that failed measures nothing: refuse it."""
    if isinstance(result, dict) and "statusCode" in result and result["statusCode"] >= 400:
        raise RuntimeError(f"the first call answered {result['statusCode']}: {result.get('body')}")
    if isinstance(result, dict) and result.get("batchItemFailures"):
        raise RuntimeError(f"the worker's first call failed: {result}")
    if (
        isinstance(result, dict)
        and "context" in result
        and result["context"].get("authenticated") != "true"
    ):
        raise RuntimeError(f"the authorizer refused the key: {result['context']}")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def run() -> None:
    python = lambda_python()
    heading(
        f"Cold start per handler from the built artifacts (median of {RUNS} fresh "
        f"Python {LAMBDA_PYTHON} interpreters, moto server)"
    )
    with tempfile.TemporaryDirectory(prefix="steppe-bench-artifacts-") as tmp:
        base = Path(tmp)
        build("build-ApiFunction", base / "function")
        layer_platform = host_platform()
        build("build-DependenciesLayer", base / "layer", LAMBDA_PLATFORM=layer_platform)
        shipped = (base / "function", base / "layer" / "python")
        before = (
            without_bytecode(base / "function", base / "function-source"),
            without_bytecode(base / "layer" / "python", base / "layer-source"),
        )
        print(
            f"  layer built for {layer_platform} (Lambda's is aarch64-manylinux2014); "
            f"baseline: the same artifacts without bytecode"
        )
        world = World()
        try:
            totals = {"with": [0.0, 0.0], "without": [0.0, 0.0]}
            for name, module in handler_modules().items():
                event, env = world.events[name], world.env
                with_imp, with_call = median_cold_start(python, *shipped, module, event, env)
                src_imp, src_call = median_cold_start(python, *before, module, event, env)
                totals["with"][0] += with_imp
                totals["with"][1] += with_call
                totals["without"][0] += src_imp
                totals["without"][1] += src_call
                row(
                    f"{module} import",
                    ms(with_imp),
                    f"without bytecode: {ms(src_imp)}",
                    f"{src_imp / with_imp:.1f}x",
                )
                row(
                    f"{module} first call",
                    ms(with_call),
                    f"without bytecode: {ms(src_call)}",
                    f"{src_call / with_call:.1f}x",
                )
            (wi, wc), (si, sc) = totals["with"], totals["without"]
            row("four handlers, import", ms(wi), f"without bytecode: {ms(si)}", f"{si / wi:.1f}x")
            row(
                "four handlers, import + first call",
                ms(wi + wc),
                f"without bytecode: {ms(si + sc)}",
                f"{(si + sc) / (wi + wc):.1f}x",
            )
        finally:
            world.stop()


if __name__ == "__main__":
    run()
