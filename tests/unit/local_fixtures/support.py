"""Helpers for the embedded runtime's tests: a real server on an ephemeral port, raw HTTP."""

from __future__ import annotations

import http.client
import json
import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from steppe.local.routes import RouteTable
from steppe.local.server import create_server
from steppe.local.waitress_server import LocalServer

TEMPLATE = Path(__file__).with_name("template.yaml")
UNIT_TESTS = Path(__file__).resolve().parents[1]


def fixture_routes() -> RouteTable:
    return RouteTable.from_template(TEMPLATE)


@contextmanager
def running_server(
    routes: RouteTable, max_body_bytes: int = 1_000_000, threads: int = 4
) -> Iterator[LocalServer]:
    server = create_server(routes, "127.0.0.1", 0, threads, max_body_bytes)
    thread = threading.Thread(target=server.run, name="test-local-server", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop()
        thread.join(30)
        assert not thread.is_alive(), "the server did not stop"


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = self.header_values(name)
        return values[-1] if values else None

    def header_values(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self) -> Any:
        return json.loads(self.body)


def http_request(
    server: LocalServer,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: list[tuple[str, str]] | None = None,
    connection: http.client.HTTPConnection | None = None,
) -> Reply:
    """One request with headers sent exactly as given (names, order, repeats)."""
    conn = connection or http.client.HTTPConnection(server.host, server.port, timeout=30)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers or []:
            conn.putheader(name, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return Reply(response.status, response.getheaders(), response.read())
    finally:
        if connection is None:
            conn.close()


def raw_exchange(server: LocalServer, data: bytes, then_send: bytes = b"") -> bytes:
    """Send raw bytes, read the whole response until the server closes the connection."""
    with socket.create_connection((server.host, server.port), timeout=30) as sock:
        sock.sendall(data)
        if then_send:
            sock.sendall(then_send)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def echoed(reply: Reply) -> dict[str, Any]:
    """The event the echo handler received."""
    assert reply.status == 200, reply.body
    return reply.json()["event"]


@dataclass
class ServeProcess:
    """`serve()` running in a child process on the fixture template."""

    process: subprocess.Popen[str]
    base_url: str
    lines: queue.Queue[str]  # its stdout, line by line
    reader: threading.Thread
    log: Path  # its stderr

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    def stdout_lines(self) -> list[str]:
        return list(self.lines.queue)


def start_serve_process(data_dir: Path, log: Path) -> ServeProcess:
    """Start serve() with real embedded services in `data_dir`; return once it announces its URL."""
    env = {
        **os.environ,
        "STEPPE_DATA_DIR": str(data_dir),
        "STEPPE_TEMPLATE": str(TEMPLATE),
        "PYTHONPATH": os.pathsep.join([str(UNIT_TESTS), os.environ.get("PYTHONPATH", "")]),
    }
    script = (
        "from steppe.config import Settings\n"
        "from steppe.local.server import serve\n"
        "serve(Settings.from_env(), '127.0.0.1', 0, threads=2)\n"
    )
    with open(log, "w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-c", script],
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    stdout = process.stdout
    reader = threading.Thread(target=lambda: [lines.put(line) for line in stdout], daemon=True)
    reader.start()
    try:
        first = lines.get(timeout=60)
    except queue.Empty:
        process.kill()
        raise AssertionError(f"serve() did not start: {log.read_text()}") from None
    announced = re.fullmatch(r"steppe is serving on (http://127\.0\.0\.1:\d+)/\n", first)
    assert announced, f"{first!r} {log.read_text()}"
    return ServeProcess(process, announced[1], lines, reader, log)


def post_job(port: int, message: dict[str, Any]) -> None:
    """Queue a job in a running server through the fixture's POST /jobs route."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", "/jobs", body=json.dumps(message))
        assert conn.getresponse().status == 202
    finally:
        conn.close()


def wait_for_file(path: Path, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
