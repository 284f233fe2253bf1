"""What the benchmarks share: a real embedded server in a child process, and printing."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ADMIN_KEY = "stp_bench-admin-key-not-secret-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    data_dir: Path

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        try:
            all_headers = {"Authorization": f"Bearer {ADMIN_KEY}", **(headers or {})}
            connection.request(method, path, body=body, headers=all_headers)
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def json(self, method: str, path: str, body: bytes | None = None, **kw: Any) -> Any:
        status, _, data = self.request(method, path, body, **kw)
        if status >= 400:
            raise RuntimeError(f"{method} {path} -> {status}: {data[:500]!r}")
        return json.loads(data)

    def peak_rss_mb(self) -> float:
        """Peak resident memory so far (VmHWM) of the server and its worker processes, summed.

        The sum of each process's own peak: at least what they ever held at once.
        """
        return sum(_peak_kib(pid) for pid in process_tree(self.process.pid)) / 1024


class TotalMemorySampler:
    """The largest total resident memory of a process and its descendants, sampled every
    `interval` seconds while the block runs (the peak the machine actually held, where
    Server.peak_rss_mb's sum of each process's own peak is an upper bound)."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TotalMemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mb(self) -> float:
        return self.peak_kib / 1024

    def _run(self) -> None:
        while not self._stop.is_set():
            total = sum(_field_kib(pid, "VmRSS:") for pid in process_tree(self.pid))
            self.peak_kib = max(self.peak_kib, total)
            self._stop.wait(self.interval)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a living process has used so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """pid and its living descendants (Linux /proc)."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                pending += [int(child) for child in (task / "children").read_text().split()]
            except OSError:
                continue
    return found


def _peak_kib(pid: int) -> int:
    return _field_kib(pid, "VmHWM:")


def _field_kib(pid: int, name: str) -> int:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return 0
    for line in lines:
        if line.startswith(name):
            return int(line.split()[1])
    return 0


@contextmanager
def embedded_server(data_dir: Path | None = None, **env: str) -> Iterator[Server]:
    """`steppe serve` on a free port, stopped afterwards; on a fresh data dir by default."""
    with tempfile.TemporaryDirectory(prefix="steppe-bench-") as fresh:
        tmp = str(data_dir or fresh)
        port = free_port()
        full_env = {
            **os.environ,
            "STEPPE_DATA_DIR": tmp,
            "STEPPE_PORT": str(port),
            "STEPPE_ADMIN_KEY": ADMIN_KEY,
            "STEPPE_LOG_LEVEL": "WARNING",
            **env,
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "steppe.cli", "serve"],
            env=full_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        server = Server(process, port, Path(tmp))
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    raise RuntimeError(process.stderr.read().decode() if process.stderr else "")
                # An answer, not a connection: the socket listens before the worker
                # processes are up, and a clock started then would time their start-up.
                try:
                    probe = http.client.HTTPConnection("127.0.0.1", port, timeout=0.5)
                    try:
                        probe.request("GET", "/taxii2/")
                        probe.getresponse().read()
                    finally:
                        probe.close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def row(label: str, value: str, baseline: str = "", note: str = "") -> None:
    print(f"  {label:<46} {value:>18}   {baseline:<34} {note}")


def heading(text: str) -> None:
    print(f"\n{text}\n" + "-" * len(text))
