from collections.abc import Iterator
from pathlib import Path

import pytest

from support.app import App, open_app

BACKENDS = ["sqlite", "aws"]


@pytest.fixture(params=BACKENDS)
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[App]:
    """steppe in each shape: the embedded store, and DynamoDB + S3 + SQS on moto."""
    opened = open_app(tmp_path / "data", request.param)
    yield opened
    opened.close()


@pytest.fixture(params=BACKENDS)
def small_chunks(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[App]:
    """Submissions above 40 observables go through the queue, in chunks of 40.

    Correlation is off: these tests are about chunking (tests/correlation covers it).
    """
    opened = open_app(
        tmp_path / "data",
        request.param,
        STEPPE_SYNC_OBSERVABLES="40",
        STEPPE_CHUNK_OBSERVABLES="40",
        STEPPE_CORRELATE="0",
    )
    yield opened
    opened.close()
