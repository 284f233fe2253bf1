"""FolderBlobStore: blobs as files under `<data_dir>/blobs/`."""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from pathlib import Path

from steppe.store.port.blobs import BlobStore

_SEGMENT = re.compile(r"[A-Za-z0-9._-]+")


def check_key(key: str) -> tuple[str, ...]:
    """The key's path segments; ValueError for anything that could leave the folder."""
    if not isinstance(key, str) or not key:
        raise ValueError("a blob key must be a non-empty string")
    segments = tuple(key.split("/"))
    for segment in segments:
        if not _SEGMENT.fullmatch(segment) or segment in (".", ".."):
            raise ValueError(
                f"blob key '{key}' is not a '/'-separated path of [A-Za-z0-9._-] segments "
                "(no empty, '.' or '..' segments, no leading '/')"
            )
    return segments


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FolderBlobStore(BlobStore):
    """Each blob is one file; a put writes a temporary file and renames it into place."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key))

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        segments = check_key(key)
        folder = self.root
        for segment in segments[:-1]:  # mkdir(parents=True) would ignore the mode
            folder = folder / segment
            folder.mkdir(mode=0o700, exist_ok=True)
        path = folder / segments[-1]
        # '~' never appears in a key, so a temporary file never shadows a blob.
        temporary = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp~")
        try:
            with open(temporary, "xb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        _fsync_dir(path.parent)

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError, IsADirectoryError, NotADirectoryError):
            self._path(key).unlink()
