from collections.abc import Iterator
from pathlib import Path

import pytest

from support.app import App, open_app


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    opened = open_app(tmp_path / "data")
    yield opened
    opened.close()


@pytest.fixture
def small_chunks(tmp_path: Path) -> Iterator[App]:
    """Submissions above 100 observables go through the queue, in chunks of 100."""
    opened = open_app(
        tmp_path / "data", STEPPE_SYNC_OBSERVABLES="100", STEPPE_CHUNK_OBSERVABLES="100"
    )
    yield opened
    opened.close()
