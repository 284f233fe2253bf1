"""New versions of objects steppe already holds: merge what it knew with what it learns.

Derived ids make the same campaign, target or indicator come back with the same
id (steppe.stix.ids); `reconcile` decides, for each object about to be
written, whether it is new, unchanged, or a new version, and builds that
version. The rules go by property name, not by object type:

* created and created_by_ref stay those of the existing object;
* time ranges widen: first_seen, first_observed, valid_from take the earliest
  value; last_seen, last_observed, valid_until the latest;
* lists are unioned, existing items first (external_references, sectors,
  object_refs, kill_chain_phases, indicator_types, labels, belongs_to_refs...);
  of several TLP markings in object_marking_refs only the strictest is kept,
  so merging never loosens a marking;
* properties only the existing object has are kept; every other property is
  taken from the desired object, except the name of a malware or tool (objects
  every producer reporting the family shares): the first name stays, and a
  later report's other spelling joins the aliases, so no name is ever lost;
* if the result equals the existing object apart from `modified`, nothing is
  written (reprocessing a submission is a no-op); otherwise `modified` is the
  later of the desired one and the existing one plus a millisecond.

Objects without `modified` (SCOs, marking definitions) are not versioned: if
one exists it stands as it is. Neither is a revoked object: STIX forbids new
versions of an object once it is revoked, so a stored revoked object stands
as it is whatever is desired (a desired object may itself be the revocation:
`revoked` is then merged in like any other property).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import orjson

from steppe.stix.score_extension import EXTENSION_ID
from steppe.stix.timestamps import cached_micros as _micros
from steppe.stix.timestamps import format_stix, parse_micros
from steppe.stix.tlp import RANK_BY_MARKING_ID

EARLIEST_WINS = frozenset({"first_seen", "first_observed", "valid_from"})
LATEST_WINS = frozenset({"last_seen", "last_observed", "valid_until"})
KEPT_FROM_EXISTING = frozenset({"id", "type", "created", "created_by_ref"})
MARKINGS = "object_marking_refs"
# Types whose first name stays and whose later names become aliases.
NAME_KEEPING_TYPES = frozenset({"malware", "tool"})
MILLISECOND = 1000


class Reconciled(NamedTuple):
    """What to store for one desired object; changed=False means nothing to write."""

    obj: dict[str, Any]
    changed: bool


def version_of(obj: Mapping[str, Any]) -> int | None:
    """The object's version in epoch microseconds: modified, else created, else None."""
    stamp = obj.get("modified") or obj.get("created")
    return None if stamp is None else _micros(stamp)


def reconcile(
    desired: list[dict[str, Any]], existing: Mapping[str, dict[str, Any]]
) -> list[Reconciled]:
    """One Reconciled per desired object, in order (see the module docstring)."""
    out: list[Reconciled] = []
    for obj in desired:
        old = existing.get(obj["id"])
        if old is None:
            out.append(Reconciled(obj, True))
        elif "modified" not in obj or old.get("revoked") is True:
            out.append(Reconciled(old, False))
        else:
            merged = merge(old, obj)
            if _same_apart_from_modified(merged, old):
                out.append(Reconciled(old, False))
            else:
                previous = version_of(old)
                stamp = parse_micros(obj["modified"])
                if previous is not None:
                    stamp = max(stamp, previous + MILLISECOND)
                merged["modified"] = format_stix(stamp)
                out.append(Reconciled(merged, True))
    return out


def merge(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """The existing object with the desired one's properties merged in (modified untouched)."""
    merged = dict(old)
    for key, value in new.items():
        if key in KEPT_FROM_EXISTING or key == "modified":
            continue
        current = old.get(key)
        if current is None:
            merged[key] = value
        elif key in EARLIEST_WINS:
            merged[key] = current if parse_micros(current) <= parse_micros(value) else value
        elif key in LATEST_WINS:
            merged[key] = current if parse_micros(current) >= parse_micros(value) else value
        elif key == "extensions" and isinstance(value, dict) and isinstance(current, dict):
            merged[key] = merge_extensions(current, value)
        elif isinstance(value, list) and isinstance(current, list):
            union = _union(current, value)
            merged[key] = _strictest_tlp(union) if key == MARKINGS else union
        else:
            merged[key] = value
    if old.get("type") in NAME_KEEPING_TYPES:
        _keep_name(merged, old, new)
    return merged


def _keep_name(merged: dict[str, Any], old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    first, later = old.get("name"), new.get("name")
    if not isinstance(first, str):
        return
    merged["name"] = first
    aliases = merged.get("aliases")
    names = list(aliases) if isinstance(aliases, list) else []
    if isinstance(later, str):
        names.append(later)
    kept = [n for n in dict.fromkeys(names) if n != first]
    if kept:
        merged["aliases"] = kept
    else:
        merged.pop("aliases", None)


def merge_extensions(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """The new extensions over the old, except steppe's score: the later last seen wins
    (an older report of a value does not take its score back in time)."""
    merged = {**old, **new}
    before, after = old.get(EXTENSION_ID), new.get(EXTENSION_ID)
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        try:
            older = parse_micros(after["last_seen"]) < parse_micros(before["last_seen"])
        except (KeyError, TypeError, ValueError):
            older = False
        if older:
            merged[EXTENSION_ID] = before
    return merged


def _key(item: object) -> object:
    if isinstance(item, str | int | float | bool):
        return item
    return orjson.dumps(item, option=orjson.OPT_SORT_KEYS)


def _union(first: list[Any], second: list[Any]) -> list[Any]:
    seen = {_key(item) for item in first}
    added = []
    for item in second:
        key = _key(item)
        if key not in seen:
            seen.add(key)
            added.append(item)
    return [*first, *added] if added else first


def _strictest_tlp(markings: list[str]) -> list[str]:
    tlp = [m for m in markings if m in RANK_BY_MARKING_ID]
    if len(tlp) < 2:
        return markings
    strictest = max(tlp, key=RANK_BY_MARKING_ID.__getitem__)
    return [m for m in markings if m not in RANK_BY_MARKING_ID or m == strictest]


def _same_apart_from_modified(merged: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    if len(merged) - ("modified" in merged) != len(old) - ("modified" in old):
        return False
    return all(
        key == "modified" or (key in old and old[key] == value) for key, value in merged.items()
    )
