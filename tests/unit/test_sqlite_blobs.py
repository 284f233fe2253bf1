"""FolderBlobStore beyond the contract: where files go, key validation, atomic puts."""

from __future__ import annotations

import stat

import pytest

from steppe.store.sqlite import FolderBlobStore

BAD_KEYS = [
    "",
    "..",
    "../steppe.db",
    "submissions/../../etc/passwd",
    "/etc/passwd",
    "a//b",
    "a/",
    "./a",
    "a/./b",
    "a b",
    "a\\b",
    "ключ",
    "a\x00b",
    "a/b~",
]


@pytest.fixture
def blobs(tmp_path):
    return FolderBlobStore(tmp_path / "blobs")


@pytest.mark.parametrize("key", BAD_KEYS)
def test_keys_that_could_leave_the_folder_are_refused(blobs, tmp_path, key):
    with pytest.raises(ValueError, match="blob key"):
        blobs.put(key, b"x")
    for operation in (blobs.get, blobs.exists, blobs.delete):
        with pytest.raises(ValueError):
            operation(key)
    assert not any(path.is_file() for path in tmp_path.rglob("*"))


def test_blobs_are_files_in_private_folders(blobs, tmp_path):
    blobs.put("submissions/s1/chunk-0.json", b'{"rows": []}')
    path = tmp_path / "blobs" / "submissions" / "s1" / "chunk-0.json"
    assert path.read_bytes() == b'{"rows": []}'
    assert stat.S_IMODE((tmp_path / "blobs").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "blobs" / "submissions").stat().st_mode) == 0o700


def test_a_put_leaves_no_temporary_file(blobs, tmp_path):
    for n in range(3):
        blobs.put("bundles/b1.json", f'{{"n": {n}}}'.encode())
    assert [p.name for p in (tmp_path / "blobs" / "bundles").iterdir()] == ["b1.json"]


def test_a_failed_put_keeps_the_previous_blob(blobs, tmp_path):
    blobs.put("bundles/b1.json", b"previous")
    with pytest.raises(TypeError):
        blobs.put("bundles/b1.json", "not bytes")  # type: ignore[arg-type]
    assert blobs.get("bundles/b1.json") == b"previous"
    assert [p.name for p in (tmp_path / "blobs" / "bundles").iterdir()] == ["b1.json"]
