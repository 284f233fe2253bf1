"""`make integration`: start a standalone moto server, run tests_integration, stop the server.

The server is a process of its own (moto_server, on a free port, see
moto_server_main.py); it is
stopped whatever the tests do, failures and Ctrl+C included. Arguments are
passed on to pytest.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(endpoint: str, server: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"moto_server exited with {server.returncode}")
        try:
            with urllib.request.urlopen(endpoint + "/moto-api/", timeout=2):
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    raise SystemExit(f"moto_server did not answer on {endpoint} within {seconds:.0f} s")


def main(pytest_args: list[str]) -> int:
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log = open(HERE.parent / ".moto_server.log", "w")  # noqa: SIM115 - closed in finally
    server = subprocess.Popen(
        [sys.executable, str(HERE / "moto_server_main.py"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_ready(endpoint, server)
        print(f"moto server on {endpoint} (log: .moto_server.log)", flush=True)
        env = {**os.environ, "STEPPE_MOTO_ENDPOINT": endpoint}
        command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(HERE)]
        return subprocess.run([*command, *pytest_args], env=env, check=False).returncode
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
