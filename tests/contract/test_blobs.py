"""The blob store contract."""

from __future__ import annotations

import os


def test_put_get_exists_delete(blobs):
    raw = b'{"observables": [{"ipv4": "85.255.112.7"}]}'
    assert blobs.get("submissions/s1/raw.json") is None
    assert blobs.exists("submissions/s1/raw.json") is False
    blobs.put("submissions/s1/raw.json", raw, content_type="application/json")
    assert blobs.get("submissions/s1/raw.json") == raw
    assert blobs.exists("submissions/s1/raw.json") is True
    blobs.delete("submissions/s1/raw.json")
    assert blobs.get("submissions/s1/raw.json") is None
    assert blobs.exists("submissions/s1/raw.json") is False
    blobs.delete("submissions/s1/raw.json")  # absent: no-op


def test_overwrite_binary_and_empty(blobs):
    data = os.urandom(70_000)
    blobs.put("bundles/b-1.bin", b"first")
    blobs.put("bundles/b-1.bin", data)
    assert blobs.get("bundles/b-1.bin") == data
    blobs.put("empty", b"")
    assert blobs.get("empty") == b""
    assert blobs.exists("empty")


def test_keys_are_independent(blobs):
    blobs.put("a/b/c.json", b"c")
    blobs.put("a/b_c.json", b"b_c")
    assert blobs.get("a/b/c.json") == b"c"
    assert blobs.get("a/b_c.json") == b"b_c"
    assert blobs.get("a/b") is None
    blobs.delete("a/b/c.json")
