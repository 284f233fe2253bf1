"""`make bench`: every benchmark, each figure next to a baseline measured in the same run."""

from __future__ import annotations

import os
import platform
import time

from bench import (
    console_graph,
    correlation,
    dynamo_requests,
    feeds,
    imports,
    ingest,
    scoring,
    taxii,
    taxii_post,
    trust,
)


def settle() -> None:
    """Let the disk write back what the previous benchmark wrote (ingest writes
    hundreds of megabytes) before the next one measures."""
    os.sync()
    time.sleep(2)


def main() -> None:
    print(
        f"steppe benchmarks on {platform.node()}: {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    for benchmark in (
        imports,
        ingest,
        taxii,
        taxii_post,
        correlation,
        trust,
        scoring,
        feeds,
        dynamo_requests,
        console_graph,
    ):
        settle()
        benchmark.run()


if __name__ == "__main__":
    main()
