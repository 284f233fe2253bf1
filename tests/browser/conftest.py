"""Browser tests of the console: a real `steppe serve` per module, headless Debian Chromium.

Every test's final page is saved as a screenshot under test-artifacts/screenshots/.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from console_pages import snapshot
from console_world import ADMIN_KEY, World, seed
from playwright.sync_api import Browser, Page, sync_playwright

from support.chromium_launch import launch_chromium
from support.server import RunningServer, steppe_serve

LAPTOP = {"width": 1366, "height": 768}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data = tmp_path_factory.mktemp("console") / "data"
    with steppe_serve(data, STEPPE_ADMIN_KEY=ADMIN_KEY) as running:
        yield running


@pytest.fixture(scope="module")
def world(server: RunningServer) -> World:
    return seed(server)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = launch_chromium(playwright)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, server: RunningServer, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh tab; after the test, no request of the page went anywhere but steppe."""
    context = browser.new_context(viewport=LAPTOP)
    elsewhere: list[str] = []
    own = (server.url + "/", "data:", "blob:")
    context.on(
        "request", lambda sent: None if sent.url.startswith(own) else elsewhere.append(sent.url)
    )
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    try:
        yield opened
    finally:
        try:
            snapshot(opened, f"{request.node.module.__name__}__{request.node.name}")
        finally:
            context.close()
    assert elsewhere == [], f"the console asked another host: {elsewhere[:5]}"
