"""`make bench`: every benchmark, each figure next to a baseline measured in the same run."""

from __future__ import annotations

import os
import platform

from bench import imports, ingest, taxii


def main() -> None:
    print(
        f"steppe benchmarks on {platform.node()}: {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    imports.run()
    ingest.run()
    taxii.run()


if __name__ == "__main__":
    main()
