"""Fixtures of the storage contract suite: every test runs once per adapter."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from steppe.store.port import BlobStore, Collection, Store

from .adapters import ADAPTERS, BLOB_ADAPTERS


@pytest.fixture(params=sorted(ADAPTERS))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with ADAPTERS[request.param](tmp_path) as opened:
        yield opened


@pytest.fixture(params=sorted(BLOB_ADAPTERS))
def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlobStore]:
    with BLOB_ADAPTERS[request.param](tmp_path) as opened:
        yield opened


def new_collection(store: Store, title: str | None = None, api_root: str = "steppe") -> str:
    """Create a collection in the catalog and return its id (a UUIDv4, as TAXII clients expect)."""
    collection_id = str(uuid.uuid4())
    store.create_collection(
        Collection(id=collection_id, api_root=api_root, title=title or f"feed {collection_id}")
    )
    return collection_id


@pytest.fixture
def collection(store: Store) -> str:
    return new_collection(store, "Kyrgyzstan DDoS, January 2009")
