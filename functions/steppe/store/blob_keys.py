"""Where things are kept in the blob store: one naming scheme for every writer and reader."""

from __future__ import annotations


def bundle_key(submission_id: str, part: int) -> str:
    """A submission's bundle, one blob per stored part."""
    return f"submissions/{submission_id}/bundle/{part:05d}.json"
