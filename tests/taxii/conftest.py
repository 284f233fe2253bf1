"""TAXII tests run through the real path (gateway, authorizer, TaxiiFunction) on both shapes."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from taxii_world import Loaded, World, load_ddos, make_world

from support.app import App, open_app

BACKENDS = ["sqlite", "aws"]


@pytest.fixture(params=BACKENDS)
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[App]:
    """steppe in each shape: the embedded store, and DynamoDB + S3 + SQS on moto."""
    opened = open_app(tmp_path / "data", request.param)
    yield opened
    opened.close()


@pytest.fixture
def world(app: App) -> World:
    """A fresh app with a shared collection, a private one and four partners."""
    return make_world(app)


@pytest.fixture(scope="module", params=BACKENDS)
def loaded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Loaded]:
    """One app per module and shape, its shared collection filled: for tests that only read.

    A module using it must not open other apps (the process has one set of services).
    """
    opened = open_app(tmp_path_factory.mktemp("taxii") / "data", request.param)
    try:
        yield load_ddos(make_world(opened))
    finally:
        opened.close()
