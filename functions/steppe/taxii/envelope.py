"""Paged TAXII resources assembled from JSON bytes (envelope, manifest, versions).

An envelope's objects are the stored bodies, joined as they are: a read never
parses or re-encodes a stored object. An empty result is `{}` (TAXII 2.1
sections 3.7, 5.3.1 and 5.8.1: the list is omitted and the resource is an
empty object). `more: true` always comes with a fresh `next`.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

EMPTY = b"{}"


def paged(key: str, items: Sequence[bytes] | bytes, more: bool, next_token: str | None) -> bytes:
    """{"more":..,"next":..,"<key>":[items]}; items are JSON values, already encoded
    (a sequence of them, or their comma-joined bytes as the store hands them over)."""
    if more and not next_token:
        raise ValueError("a page with more results needs a next token")
    joined = items if isinstance(items, bytes) else b",".join(items)
    if not joined and not more:
        return EMPTY
    parts = [b'{"more":true,"next":' + orjson.dumps(next_token) if more else b'{"more":false']
    if joined:
        parts.append(b',"' + key.encode() + b'":[' + joined + b"]")
    parts.append(b"}")
    return b"".join(parts)


def envelope(bodies: Sequence[bytes] | bytes, more: bool, next_token: str | None) -> bytes:
    return paged("objects", bodies, more, next_token)
