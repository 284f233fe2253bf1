"""Cold import time of each Lambda handler module, next to importing boto3 alone."""

from __future__ import annotations

import statistics
import subprocess
import sys

from bench.common import heading, row

HANDLERS = ("steppe.handlers.api", "steppe.handlers.authorizer", "steppe.handlers.worker")
RUNS = 5
PROBE = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def cold_import(module: str) -> float:
    times = []
    for _ in range(RUNS):
        out = subprocess.run(
            [sys.executable, "-c", PROBE.format(module=module)],
            capture_output=True,
            text=True,
            check=True,
            env={"POWERTOOLS_TRACE_DISABLED": "true", "PATH": "/usr/bin:/bin"},
        )
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


def run() -> None:
    heading("Cold import of each Lambda handler module (median of 5 fresh interpreters)")
    baseline = cold_import("boto3")
    for module in HANDLERS:
        took = cold_import(module)
        row(
            module,
            f"{took * 1000:,.0f} ms",
            f"import boto3: {baseline * 1000:,.0f} ms",
            f"ratio {took / baseline:.1f}",
        )


if __name__ == "__main__":
    run()
