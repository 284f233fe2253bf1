"""Headless Debian Chromium under Playwright: the system's browser, never a downloaded one."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Browser, Playwright

CHROMIUM = Path(os.environ.get("STEPPE_CHROMIUM", "/usr/bin/chromium"))
# The machine's network is closed: without these Chromium keeps trying to reach Google.
QUIET_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--disable-dev-shm-usage",
]


def launch_chromium(playwright: Playwright) -> Browser:
    """Chromium headless; Playwright gives every launch a fresh temporary profile
    (its own --user-data-dir: it refuses one passed in `args`)."""
    if not CHROMIUM.exists():
        raise RuntimeError(
            f"{CHROMIUM} is missing: run `make browser` (installs Debian's chromium)"
        )
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        args=QUIET_FLAGS,
    )
