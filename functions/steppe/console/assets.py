"""The console's static files: find one by its path under static/, its type and ETag.

Only regular files that exist under static/ are served, named by a plain
relative path: no empty, `.` or `..` segment, no hidden file, no backslash,
and the resolved path must stay inside static/ (a symlink out is refused).
A file of a type not listed here is not served either.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

STATIC = Path(__file__).resolve().parent / "static"
INDEX = "index.html"
MAX_PATH = 256

# Text only: API Gateway would pass a binary body on as base64 text, as the API
# declares no binary media types.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
    "": "text/plain; charset=utf-8",  # LICENSE files
}


@dataclass(frozen=True, slots=True)
class Asset:
    """One static file: its path under static/, its bytes, type and strong ETag."""

    path: str
    body: bytes
    content_type: str
    etag: str  # the sha256 of the bytes, hex, unquoted

    def matches(self, if_none_match: str | None) -> bool:
        """Whether an If-None-Match header names this version (or is `*`)."""
        if not if_none_match:
            return False
        for candidate in if_none_match.split(","):
            tag = candidate.strip()
            if tag == "*":
                return True
            tag = tag.removeprefix("W/").strip('"')
            if tag == self.etag:
                return True
        return False


def safe_relative(path: str) -> str | None:
    """`path` as a plain relative POSIX path inside static/, or None when it is not one."""
    if not path or len(path) > MAX_PATH or "\\" in path or "\0" in path:
        return None
    if path.startswith("/"):
        return None
    parts = path.split("/")
    if any(part in ("", ".", "..") or part.startswith(".") for part in parts):
        return None
    return str(PurePosixPath(*parts))


class Assets:
    """The files of one static folder, read once each (again when a file changes)."""

    def __init__(self, root: Path = STATIC) -> None:
        self.root = root.resolve()
        self._cache: dict[str, tuple[tuple[int, int], Asset]] = {}
        self._lock = threading.Lock()

    def find(self, path: str) -> Asset | None:
        """The asset at `path` under the folder ("" is index.html), or None."""
        relative = safe_relative(path or INDEX)
        if relative is None:
            return None
        content_type = CONTENT_TYPES.get(PurePosixPath(relative).suffix.lower())
        if content_type is None:
            return None
        candidate = (self.root / relative).resolve()
        if not candidate.is_relative_to(self.root) or not candidate.is_file():
            return None
        stat = candidate.stat()
        version = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            cached = self._cache.get(relative)
        if cached is not None and cached[0] == version:
            return cached[1]
        body = candidate.read_bytes()
        asset = Asset(relative, body, content_type, hashlib.sha256(body).hexdigest())
        with self._lock:
            self._cache[relative] = (version, asset)
        return asset

    def listing(self) -> list[str]:
        """Every servable file's path, sorted."""
        found = []
        for file in sorted(self.root.rglob("*")):
            relative = file.relative_to(self.root).as_posix()
            if file.is_file() and self.find(relative) is not None:
                found.append(relative)
        return found
