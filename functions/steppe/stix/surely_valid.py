"""A fast, conservative judge of STIX 2.1 objects that `stix2` would accept.

`surely_valid(obj)` is True only when `stix2.parse(obj, allow_custom=True,
version="2.1")` is certain to accept the object; False means "not sure", never
"invalid": the caller then asks stix2, so every refusal and its message still
come from stix2. It knows the common shapes (indicators above all,
relationships, attack patterns, identities, courses of action) and the rules
stix2 3.0 applies to them:

* ids are `<type>--<UUID>` of the RFC 4122 variant; references name the
  types stix2 allows there (created_by_ref an identity, object_marking_refs
  marking definitions, a relationship's ends any type but the five stix2
  refuses there);
* timestamps are what stix2's strptime formats read, and real dates;
* valid_until after valid_from, stop_time after start_time;
* a STIX pattern is judged here only in its common forms, one bracket of
  comparisons joined by OR: `<type>:value = '...'`, `ISSUBSET` for
  addresses, `file:hashes.<name> = '<hex of the hash's length>'`;
* lists are non-empty; strings, integers and booleans are of their JSON type
  (stix2 coerces more; those go to stix2);
* custom properties are `x_` names (allow_custom takes any value);
* granular markings, extensions, None or empty values go to stix2.

Types stix2 has no class for are returned as they are by stix2.parse with
allow_custom, unchecked: they are surely valid here too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

# The STIX 2.1 object types stix2 3.0 has classes for (stix2.registry, version "2.1",
# objects and observables); tests/taxii/test_validation_differential.py checks it.
STIX2_TYPES = frozenset(
    {
        "attack-pattern", "campaign", "course-of-action", "grouping", "identity", "incident",
        "indicator", "infrastructure", "intrusion-set", "language-content", "location",
        "malware", "malware-analysis", "marking-definition", "note", "observed-data",
        "opinion", "relationship", "report", "sighting", "threat-actor", "tool",
        "vulnerability", "artifact", "autonomous-system", "directory", "domain-name",
        "email-addr", "email-message", "file", "ipv4-addr", "ipv6-addr", "mac-addr",
        "mutex", "network-traffic", "process", "software", "url", "user-account",
        "windows-registry-key", "x509-certificate", "bundle", "extension-definition",
    }
)  # fmt: skip
# What a relationship's ends may not name (stix2 refuses these there; any other type will do).
_NOT_ENDS = frozenset(
    {"bundle", "language-content", "marking-definition", "relationship", "sighting"}
)

_UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}"
# A type without "--" in it: stix2 takes the id's type up to its first "--".
_REF = re.compile(rf"([a-z][a-z0-9]*(?:-[a-z0-9]+)*)--{_UUID}")
_TIMESTAMP = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,6}))?Z"
)
_CUSTOM = re.compile(r"x_[a-z0-9_]{1,248}")

# -- patterns -------------------------------------------------------------------------
# A string literal without quote, backslash or control characters: no escapes to read.
_LITERAL = r"'[^'\\\x00-\x1f\x7f]*'"
_VALUE_TYPES = "ipv4-addr|ipv6-addr|domain-name|url|email-addr|mac-addr"
_HASH_NAME = r"MD5|'MD5'|'SHA-1'|'SHA-256'|'SHA-512'|SHA1|SHA256|SHA512"
_COMPARISON = (
    rf"(?:(?:{_VALUE_TYPES}):value = {_LITERAL}"
    rf"|(?:ipv4-addr|ipv6-addr):value ISSUBSET {_LITERAL}"
    rf"|file:hashes\.(?:{_HASH_NAME}) = {_LITERAL})"
)
# At most 32 comparisons: far within steppe.stix.bounds (200 operators, 8,192 characters).
_PATTERN = re.compile(rf"\[{_COMPARISON}(?: OR {_COMPARISON}){{0,31}}\]")
_HASH = re.compile(rf"hashes\.({_HASH_NAME}) = '([^']*)'")
_HEX = re.compile(r"[0-9a-fA-F]+")
_HASH_HEX = {"MD5": 32, "SHA1": 40, "SHA256": 64, "SHA512": 128}


def stix_pattern_surely_valid(pattern: str) -> bool:
    """True when stix2-patterns (STIX 2.1) surely accepts the pattern; False: not sure."""
    if len(pattern) > 4096 or _PATTERN.fullmatch(pattern) is None:
        return False
    for name, value in _HASH.findall(pattern):
        length = _HASH_HEX[name.strip("'").replace("-", "")]
        if len(value) != length or _HEX.fullmatch(value) is None:
            return False
    return True


# -- timestamps -----------------------------------------------------------------------
_SEEN_STAMPS: dict[str, datetime] = {}
_STAMPS_KEPT = 8192  # a bound: the cache is emptied when it would grow past it


def stix_timestamp(value: object) -> datetime | None:
    """The instant stix2 reads from the value, or None when not surely one it reads."""
    if type(value) is not str:
        return None
    seen = _SEEN_STAMPS.get(value)
    if seen is not None:
        return seen
    match = _TIMESTAMP.fullmatch(value)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction = match.groups()
    try:
        instant = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            int((fraction or "0").ljust(6, "0")),
        )
    except ValueError:
        return None
    if len(_SEEN_STAMPS) >= _STAMPS_KEPT:
        _SEEN_STAMPS.clear()
    _SEEN_STAMPS[value] = instant
    return instant


# -- properties -----------------------------------------------------------------------


def _string(value: object) -> bool:
    return type(value) is str


def _integer(value: object) -> bool:
    return type(value) is int


def _boolean(value: object) -> bool:
    return type(value) is bool


def _timestamp(value: object) -> bool:
    return stix_timestamp(value) is not None


def _strings(value: object) -> bool:
    return type(value) is list and bool(value) and all(type(item) is str for item in value)


def _ref_to(types: frozenset[str], *, but: bool = False) -> Callable[[object], bool]:
    """A reference to one of the types (any type but those when `but`)."""

    def check(value: object) -> bool:
        if type(value) is not str:
            return False
        match = _REF.fullmatch(value)
        return match is not None and (match.group(1) in types) is not but

    return check


def _refs_to(types: frozenset[str]) -> Callable[[object], bool]:
    one = _ref_to(types)

    def check(value: object) -> bool:
        return type(value) is list and bool(value) and all(one(item) for item in value)

    return check


def _kill_chain_phases(value: object) -> bool:
    return (
        type(value) is list
        and bool(value)
        and all(
            type(phase) is dict
            and phase.keys() == {"kill_chain_name", "phase_name"}
            and type(phase["kill_chain_name"]) is str
            and type(phase["phase_name"]) is str
            for phase in value
        )
    )


_REFERENCE_KEYS = frozenset({"source_name", "description", "url", "external_id"})


def _external_references(value: object) -> bool:
    return (
        type(value) is list
        and bool(value)
        and all(
            type(ref) is dict
            and "source_name" in ref
            and ref.keys() <= _REFERENCE_KEYS
            and len(ref) >= 2  # description, url or external_id: stix2 wants one
            and all(type(item) is str for item in ref.values())
            for ref in value
        )
    )


Check = Callable[[object], bool]
_COMMON: dict[str, Check] = {
    "spec_version": lambda value: value == "2.1",
    "created_by_ref": _ref_to(frozenset({"identity"})),
    "created": _timestamp,
    "modified": _timestamp,
    "revoked": _boolean,
    "labels": _strings,
    "confidence": _integer,
    "lang": _string,
    "external_references": _external_references,
    "object_marking_refs": _refs_to(frozenset({"marking-definition"})),
}
_END = _ref_to(_NOT_ENDS, but=True)
_SHAPES: dict[str, tuple[dict[str, Check], frozenset[str]]] = {
    # type: (its own properties, the required ones besides type and id)
    "indicator": (
        {
            "name": _string,
            "description": _string,
            "indicator_types": _strings,
            "pattern": _string,
            "pattern_type": _string,
            "pattern_version": _string,
            "valid_from": _timestamp,
            "valid_until": _timestamp,
            "kill_chain_phases": _kill_chain_phases,
        },
        frozenset({"pattern", "pattern_type"}),
    ),
    "relationship": (
        {
            "relationship_type": _string,
            "description": _string,
            "source_ref": _END,
            "target_ref": _END,
            "start_time": _timestamp,
            "stop_time": _timestamp,
        },
        frozenset({"relationship_type", "source_ref", "target_ref"}),
    ),
    "attack-pattern": (
        {
            "name": _string,
            "description": _string,
            "aliases": _strings,
            "kill_chain_phases": _kill_chain_phases,
        },
        frozenset({"name"}),
    ),
    "identity": (
        {
            "name": _string,
            "description": _string,
            "roles": _strings,
            "identity_class": _string,
            "sectors": _strings,
            "contact_information": _string,
        },
        frozenset({"name"}),
    ),
    "course-of-action": ({"name": _string, "description": _string}, frozenset({"name"})),
}
_ID = re.compile(_UUID)


def _checked_before(value: object) -> bool:
    return True  # type and id: surely_valid reads them first


# Each shape's every property, its own and the common ones, in one table.
_PROPERTIES = {
    stix_type: ({**_COMMON, **own, "type": _checked_before, "id": _checked_before}, required)
    for stix_type, (own, required) in _SHAPES.items()
}


def surely_valid(obj: Mapping[str, Any]) -> bool:
    """True when stix2.parse(obj, allow_custom=True, version="2.1") surely accepts it."""
    stix_type = obj.get("type")
    if type(stix_type) is not str:
        return False
    if stix_type not in STIX2_TYPES:
        return True  # stix2.parse returns an unknown type as it is, unchecked
    shape = _PROPERTIES.get(stix_type)
    if shape is None:
        return False
    properties, required = shape
    object_id = obj.get("id")
    if (
        type(object_id) is not str
        or not object_id.startswith(stix_type)
        or object_id[len(stix_type) : len(stix_type) + 2] != "--"
        or _ID.fullmatch(object_id, len(stix_type) + 2) is None
    ):
        return False
    for name, value in obj.items():
        check = properties.get(name)
        if check is None:
            if _CUSTOM.fullmatch(name) is None:
                return False
        elif value is None or not check(value):
            return False
    if not required <= obj.keys():
        return False
    return _constraints_hold(stix_type, obj)


def _constraints_hold(stix_type: str, obj: Mapping[str, Any]) -> bool:
    if stix_type == "indicator":
        if not _later(obj, "valid_from", "valid_until"):
            return False
        if obj["pattern_type"] == "stix":
            return obj.get("pattern_version", "2.1") == "2.1" and stix_pattern_surely_valid(
                obj["pattern"]
            )
        return True
    if stix_type == "relationship":
        return _later(obj, "start_time", "stop_time")
    return True


def _later(obj: Mapping[str, Any], first: str, then: str) -> bool:
    """The `then` instant is after `first` (stix2 refuses it otherwise), or there is no `then`."""
    if then not in obj:
        return True
    if first not in obj:  # stix2 would compare with its own clock
        return False
    start, end = stix_timestamp(obj[first]), stix_timestamp(obj[then])
    return start is not None and end is not None and end > start
