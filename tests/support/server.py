"""A real `steppe serve` in a child process, on a free port, for end-to-end tests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RunningServer:
    process: subprocess.Popen
    url: str
    output: list[str]

    def call(
        self,
        method: str,
        path: str,
        key: str | None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(self.url + path, data=body, method=method)
        if key:
            request.add_header("Authorization", f"Bearer {key}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def json(self, method: str, path: str, key: str | None, **kwargs: Any) -> tuple[int, Any]:
        status, _, body = self.call(method, path, key, **kwargs)
        return status, json.loads(body)


def steppe_env(data_dir: Path, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEPPE_")}
    env.update(
        STEPPE_DATA_DIR=str(data_dir), STEPPE_PORT=str(port), STEPPE_LOG_LEVEL="WARNING", **extra
    )
    return env


@contextmanager
def steppe_serve(data_dir: Path, **env: str) -> Iterator[RunningServer]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "steppe.cli", "serve"],
        env=steppe_env(data_dir, port, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    try:
        deadline = time.monotonic() + 60
        assert process.stdout is not None
        while True:  # the server prints its URLs once it listens
            line = process.stdout.readline()
            if not line:
                raise AssertionError("steppe serve exited:\n" + "".join(output))
            output.append(line)
            if "Press Ctrl+C to stop" in line:
                break
            if time.monotonic() > deadline:
                raise AssertionError("steppe serve did not start:\n" + "".join(output))
        yield RunningServer(process, f"http://127.0.0.1:{port}", output)
    finally:
        process.terminate()
        try:
            remaining, _ = process.communicate(timeout=30)
            output.append(remaining or "")
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
