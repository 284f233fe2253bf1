"""`stix`: a STIX 2.1 bundle of the feed's indicators, exactly as TAXII serves them.

A FeedEntry is a summary of an indicator, not the indicator: rebuilding STIX
objects from it would mint objects that differ from the stored versions
(another pattern text, lost properties, a `modified` no store holds). So the
bundle carries the stored indicator bodies themselves: the feed service
passes, for the selected entries (the same selection, in the same order),
the current version of each indicator as the store keeps it, and this module
only wraps them. What the bundle holds is then identical to what a TAXII
consumer gets for the same ids, and valid wherever the stored objects are.

The bundle id is derived from its content (each object's id and modified),
so the same indicators give the same bundle, byte for byte: ETags stay
stable, and a changed indicator changes the id.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from steppe.stix.ids import derived_id

from .entries import ENTRY_TYPES

MEDIA_TYPE = "application/stix+json;version=2.1"
FORMAT_TYPES = ENTRY_TYPES


def bundle_id(objects: Sequence[Mapping[str, object]]) -> str:
    """`bundle--<uuid5>` of the objects' ids and versions, in order."""
    key = [f"{obj['id']}|{obj.get('modified', '')}" for obj in objects]
    return derived_id("bundle", *key)


def _checked(objects: Sequence[Mapping[str, object]]) -> None:
    for position, obj in enumerate(objects):
        if not isinstance(obj, Mapping):
            raise ValueError(f"bundle object {position} is a {type(obj).__name__}, not an object")
        if not isinstance(obj.get("id"), str) or not isinstance(obj.get("type"), str):
            raise ValueError(f"bundle object {position} has no string 'type' and 'id'")


def render_bundle(objects: Sequence[Mapping[str, object]]) -> bytes:
    """`{"type": "bundle", "id": ..., "objects": [...]}`; an empty feed is a bundle without objects.

    STIX 2.1 makes `objects` optional; a bundle without it passes
    stix2-validator and `stix2.parse(..., version="2.1")`, whereas an empty
    list makes stix2's version detection fail when no version is given.
    """
    _checked(objects)
    head = {"type": "bundle", "id": bundle_id(objects)}
    if not objects:
        return json.dumps(head, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    opening = json.dumps(head, ensure_ascii=False, separators=(",", ":"))[:-1]
    parts = [opening, ',"objects":[']
    for index, obj in enumerate(objects):
        if index:
            parts.append(",")
        parts.append(json.dumps(obj, ensure_ascii=False, separators=(",", ":")))
    parts.append("]}")
    return "".join(parts).encode("utf-8")
