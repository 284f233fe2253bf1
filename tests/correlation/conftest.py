"""Correlation tests run the real path (gateway, authorizer, handlers, worker) on both shapes."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from support.app import App, open_app

BACKENDS = ["sqlite", "aws"]


@pytest.fixture(params=BACKENDS)
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[App]:
    opened = open_app(tmp_path / "data", request.param)
    yield opened
    opened.close()
