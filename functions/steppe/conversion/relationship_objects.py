"""Relationships between the objects of a submission."""

from __future__ import annotations

from typing import Any

from steppe.conversion.object_ids import object_id


def relationship_id(producer_id: str, scope: str, rel_type: str, source: str, target: str) -> str:
    return object_id("relationship", producer_id, scope, rel_type, source, target)


def relationship(
    rel_id: str,
    producer_id: str,
    stamp: str,
    marking: str,
    rel_type: str,
    source: str,
    target: str,
    description: str = "",
    confidence: int | None = None,
) -> dict[str, Any]:
    rel: dict[str, Any] = {
        "type": "relationship",
        "spec_version": "2.1",
        "id": rel_id,
        "created_by_ref": producer_id,
        "created": stamp,
        "modified": stamp,
        "relationship_type": rel_type,
        "source_ref": source,
        "target_ref": target,
    }
    if confidence is not None:
        rel["confidence"] = confidence
    rel["object_marking_refs"] = [marking]
    # after the marking: the key order of the relationships steppe has always stored
    if description:
        rel["description"] = description
    return rel
