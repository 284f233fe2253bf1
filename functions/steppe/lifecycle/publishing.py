"""What a new submission may publish, given what analysts decided before.

* A value an analyst declared a false positive is not published again: the
  indicators carrying it are left out of the chunk, with the relationships
  they are the source of (and the report's references to both), unless the
  submission says `override_false_positives`.
* An indicator whose stored version is revoked cannot get a new version:
  publishing its value again goes to its successor
  (steppe.lifecycle.revocation.successor_id), and the chunk's relationships
  and references follow it.

Both are cheap when nothing applies, as in almost every chunk: one batched
key lookup for false positives, and nothing at all for revocation unless the
lookup of existing objects found a revoked indicator.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any

from steppe.conversion.object_ids import object_id
from steppe.lifecycle.revocation import successor_id
from steppe.observables.correlation_keys import observable_keys, pattern_keys
from steppe.observables.model import Observable
from steppe.store.port import FalsePositive, FalsePositiveStore

# find_false_positives is asked about at most this many keys at a time.
FALSE_POSITIVE_BATCH = 900
REF_LISTS = ("object_refs",)
# A successor that is itself revoked gets a successor in turn, this many times at most.
MAX_GENERATIONS = 64

# The latest stored version, parsed and raw, of each of some ids the collection holds.
Lookup = Callable[[Sequence[str]], Mapping[str, tuple[dict[str, Any], bytes]]]


def false_positives_among(
    index: FalsePositiveStore, observables: Iterable[Observable]
) -> dict[str, FalsePositive]:
    """The false-positive entries for any of the observables' values (usually none)."""
    keys = list(dict.fromkeys(key for obs in observables for key in observable_keys(obs)))
    found: dict[str, FalsePositive] = {}
    for start in range(0, len(keys), FALSE_POSITIVE_BATCH):
        found.update(index.find_false_positives(keys[start : start + FALSE_POSITIVE_BATCH]))
    return found


def drop_false_positives(
    objects: list[dict[str, Any]], false_positives: Collection[str]
) -> tuple[list[dict[str, Any]], int]:
    """The objects without the indicators of false-positive values; and how many indicators.

    Relationships whose source is such an indicator go too, and report-like
    objects stop referring to what went.
    """
    if not false_positives:
        return objects, 0
    dropped = {
        obj["id"]
        for obj in objects
        if obj["type"] == "indicator"
        and any(key in false_positives for key in pattern_keys(obj.get("pattern", "")))
    }
    if not dropped:
        return objects, 0
    indicators = len(dropped)
    dropped.update(
        obj["id"]
        for obj in objects
        if obj["type"] == "relationship" and obj.get("source_ref") in dropped
    )
    kept = [_without_refs(obj, dropped) for obj in objects if obj["id"] not in dropped]
    return kept, indicators


def revoked_indicators(existing: Mapping[str, tuple[dict[str, Any], bytes]]) -> list[str]:
    """The ids of the stored indicators, among those found, whose latest version is revoked."""
    return [
        object_id
        for object_id, (obj, _) in existing.items()
        if obj.get("revoked") is True and object_id.startswith("indicator--")
    ]


def reissue_revoked(
    objects: list[dict[str, Any]],
    existing: dict[str, tuple[dict[str, Any], bytes]],
    revoked: Sequence[str],
    lookup: Lookup,
) -> list[dict[str, Any]]:
    """The objects with the revoked indicators among them published under successor ids.

    `existing` (what the collection holds of the objects) is updated to match:
    the revoked indicators leave it, the successors and their relationships
    join it where they are stored already (a value re-published before).
    """
    successors = {old: successor_id(old) for old in revoked}
    for _ in range(MAX_GENERATIONS):
        found = lookup(list(dict.fromkeys(successors.values())))
        again = {
            old: new
            for old, new in successors.items()
            if new in found and found[new][0].get("revoked") is True
        }
        if not again:
            break
        successors.update((old, successor_id(new)) for old, new in again.items())
    for old in revoked:
        existing.pop(old, None)
    objects, renamed = reissue(objects, successors)
    existing.update(lookup(renamed))
    return objects


def reissue(
    objects: Sequence[dict[str, Any]], successors: Mapping[str, str]
) -> tuple[list[dict[str, Any]], list[str]]:
    """The objects with each revoked indicator replaced by its successor.

    `successors` maps a revoked indicator id to the id to publish it under.
    A relationship from or to such an indicator gets the id steppe derives for
    the relationship between the new ends (as steppe.conversion.converter does).
    Returns the objects and the ids that changed (to look up as existing).
    """
    renamed: dict[str, str] = dict(successors)
    out: list[dict[str, Any]] = []
    for obj in objects:
        old = obj["id"]
        if old in successors:
            obj = {**obj, "id": successors[old]}
        elif obj["type"] == "relationship" and (
            obj.get("source_ref") in successors or obj.get("target_ref") in successors
        ):
            source = successors.get(obj["source_ref"], obj["source_ref"])
            target = successors.get(obj["target_ref"], obj["target_ref"])
            new_id = object_id(
                "relationship",
                obj.get("created_by_ref", ""),
                obj["relationship_type"],
                source,
                target,
            )
            renamed[old] = new_id
            obj = {**obj, "id": new_id, "source_ref": source, "target_ref": target}
        out.append(obj)
    out = [_renamed_refs(obj, renamed) for obj in out]
    return out, [renamed[old] for old in renamed]


def _without_refs(obj: dict[str, Any], dropped: Collection[str]) -> dict[str, Any]:
    for name in REF_LISTS:
        refs = obj.get(name)
        if refs and any(ref in dropped for ref in refs):
            obj = {**obj, name: [ref for ref in refs if ref not in dropped]}
    return obj


def _renamed_refs(obj: dict[str, Any], renamed: Mapping[str, str]) -> dict[str, Any]:
    for name in REF_LISTS:
        refs = obj.get(name)
        if refs and any(ref in renamed for ref in refs):
            obj = {**obj, name: [renamed.get(ref, ref) for ref in refs]}
    return obj
