"""The fast judge of posted objects never accepts what stix2 refuses.

steppe.stix.surely_valid answers "surely valid" or "not sure" (the object then
goes to stix2.parse, as it always did), so the POST's verdict equals stix2's
exactly when every object the fast path accepts is one stix2 accepts too.
That is checked here over valid objects (typical indicators and relationships,
real MITRE ATT&CK for ICS content from tests/taxii/fixtures), a corpus of
known-invalid ones, and Hypothesis mutations of them; and the fast path must
take the common shapes itself, or it would be correct and useless.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import stix2
from hypothesis import given, settings
from hypothesis import strategies as st
from stix2 import registry
from stix2.utils import parse_into_datetime
from stix2patterns.validator import run_validator

from steppe.stix.bounds import pattern_problem
from steppe.stix.surely_valid import (
    STIX2_TYPES,
    stix_pattern_surely_valid,
    stix_timestamp,
    surely_valid,
)
from steppe.taxii.adding import check_object

ATTACK = json.loads((Path(__file__).parent / "fixtures" / "attack_ics_sample.json").read_text())
TLP_GREEN = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
PRODUCER = "identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5"
STAMP = "2024-03-25T20:06:37.050Z"


def stix2_accepts(obj: Any) -> bool:
    try:
        stix2.parse(copy.deepcopy(obj), allow_custom=True, version="2.1")
    except Exception:  # stix2 refuses with many exception types
        return False
    return True


def wrongly_accepted(accept: Callable[[Any], bool], objects: list[Any]) -> list[Any]:
    """The objects `accept` takes that stix2 refuses."""
    return [obj for obj in objects if accept(obj) and not stix2_accepts(obj)]


def indicator(pattern: str = "[ipv4-addr:value = '198.51.100.7']", **more: Any) -> dict:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.UUID(int=len(pattern) * 7919 + 1, version=4)}",
        "created": STAMP,
        "modified": STAMP,
        "created_by_ref": PRODUCER,
        "name": "DDoS source",
        "description": "Source of the flood.",
        "indicator_types": ["malicious-activity"],
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": STAMP,
        "confidence": 70,
        "labels": ["ddos"],
        "object_marking_refs": [TLP_GREEN],
        **more,
    }


def relationship(**more: Any) -> dict:
    return {
        "type": "relationship",
        "spec_version": "2.1",
        "id": "relationship--6b0e8f60-ecdf-4140-9741-5b50df67353c",
        "created": STAMP,
        "modified": STAMP,
        "relationship_type": "indicates",
        "source_ref": "indicator--0b8e5c5d-6f3e-4a0e-9d7c-3e4f5a6b7c8d",
        "target_ref": "malware--6a0d0ea9-b2c4-43fe-a552-ac41a3009dc5",
        "object_marking_refs": [TLP_GREEN],
        **more,
    }


SHA256 = "a" * 64
VALID = [
    indicator(),
    indicator("[ipv6-addr:value = '2001:db8::1']"),
    indicator("[ipv4-addr:value ISSUBSET '198.51.100.0/24']"),
    indicator("[domain-name:value = 'evil.example']"),
    indicator("[url:value = 'http://evil.example/a?b=c']"),
    indicator("[email-addr:value = 'x@evil.example']"),
    indicator(f"[file:hashes.'SHA-256' = '{SHA256}' OR file:hashes.MD5 = '{'b' * 32}']"),
    indicator(
        valid_until="2025-01-01T00:00:00Z",
        kill_chain_phases=[
            {"kill_chain_name": "lockheed-martin-cyber-kill-chain", "phase_name": "delivery"}
        ],
    ),
    indicator(pattern_type="sigma", pattern="title: anything at all"),
    indicator(x_steppe_score={"value": 80, "why": ["seen"]}, pattern_version="2.1"),
    indicator(external_references=[{"source_name": "cert", "url": "https://cert.example/1"}]),
    relationship(),
    relationship(start_time="2020-01-01T00:00:00Z", stop_time="2020-01-02T00:00:00.5Z"),
    {
        "type": "identity",
        "spec_version": "2.1",
        "id": PRODUCER,
        "created": STAMP,
        "modified": STAMP,
        "name": "CERT",
        "identity_class": "organization",
        "sectors": ["government"],
    },
    *ATTACK,
]

# Each refused by stix2 (checked below), each close to a valid object.
INVALID = [
    indicator(valid_until=STAMP),  # valid_until == valid_from
    indicator(valid_until="2001-01-01T00:00:00Z"),
    indicator(valid_from=None, valid_until="2001-01-01T00:00:00Z"),  # before stix2's now
    indicator(created="2024-02-30T00:00:00Z"),
    indicator(created="2024-01-01T24:00:00Z"),
    indicator(created="2024-01-01T00:00:60Z"),
    indicator(created="2024-01-01T00:00:00.1234567Z"),
    indicator(created="2024-01-01 00:00:00Z"),
    indicator(created="2024-01-01T00:00:00+00:00"),
    indicator(created="yesterday"),
    indicator(created=20240101),
    indicator(id="indicator--0b8e5c5d-6f3e-4a0e-cd7c-3e4f5a6b7c8d"),  # not the RFC 4122 variant
    indicator(id="malware--0b8e5c5d-6f3e-4a0e-9d7c-3e4f5a6b7c8d"),
    indicator(id="indicator--not-a-uuid"),
    indicator(created_by_ref="organization--0b8e5c5d-6f3e-4a0e-9d7c-3e4f5a6b7c8d"),
    indicator(created_by_ref="identity--0b8e5c5d"),
    indicator(object_marking_refs=["identity--0b8e5c5d-6f3e-4a0e-9d7c-3e4f5a6b7c8d"]),
    indicator(confidence="high"),
    indicator(revoked="perhaps"),
    indicator("[ipv4-addr:value = '1.2.3.4'"),
    indicator("ipv4-addr:value = '1.2.3.4'"),
    indicator("[ipv4-addr:value = 1.2.3.4]"),
    indicator("[file:hashes.'SHA-256' = 'abc']"),
    indicator("[file:hashes.MD5 = 'zz']"),
    indicator("[ipv4-addr:value = '1.2.3.4'] WITHIN 5 SECONDS WITHIN 6 SECONDS"),
    indicator(pattern=""),
    indicator(pattern_type=None),
    indicator(kill_chain_phases=[{"kill_chain_name": "x"}]),
    indicator(kill_chain_phases=["delivery"]),
    indicator(external_references=[{"source_name": "cert"}]),
    indicator(external_references=[{"url": "https://x.example"}]),
    indicator(external_references=[{"source_name": "c", "url": "u", "hashes": {"CRC": "1"}}]),
    indicator(granular_markings=[{"marking_ref": TLP_GREEN, "selectors": ["nothing"]}]),
    indicator(**{"Custom": 1}),
    indicator(**{"1x": 1}),
    indicator(spec_version="2.0"),
    {k: v for k, v in indicator().items() if k != "pattern"},
    relationship(source_ref="sighting--0b8e5c5d-6f3e-4a0e-9d7c-3e4f5a6b7c8d"),
    relationship(target_ref="marking-definition--0b8e5c5d-6f3e-4a0e-9d7c-3e4f5a6b7c8d"),
    relationship(source_ref="a--b--0b8e5c5d-6f3e-4a0e-9d7c-3e4f5a6b7c8d"),
    relationship(start_time="2020-01-02T00:00:00Z", stop_time="2020-01-01T00:00:00Z"),
    {k: v for k, v in relationship().items() if k != "relationship_type"},
    {**ATTACK[9], "name": None},
    {**ATTACK[9], "kill_chain_phases": [{"kill_chain_name": "x", "phase_name": "y", "Z": 1}]},
    {**ATTACK[0], "modified": "2025-04-16"},
]


def test_the_fast_path_knows_every_type_stix2_has_a_class_for() -> None:
    maps = registry.STIX2_OBJ_MAPS["2.1"]
    assert set(maps["objects"]) | set(maps["observables"]) == STIX2_TYPES


def test_stix2_accepts_every_valid_object_and_the_fast_path_takes_them_all() -> None:
    assert [obj for obj in VALID if not stix2_accepts(obj)] == []
    assert [obj for obj in VALID if not surely_valid(obj)] == []


def test_stix2_refuses_every_invalid_object_and_the_fast_path_takes_none() -> None:
    assert [obj for obj in INVALID if stix2_accepts(obj)] == []
    assert wrongly_accepted(surely_valid, INVALID) == []


def test_a_loosened_check_would_be_caught() -> None:
    # The same judge blind to valid_until and to the pattern: the corpus must catch it.
    def blind(obj: Any) -> bool:
        if isinstance(obj, dict) and obj.get("type") == "indicator":
            obj = {**obj, "valid_until": None, "pattern": "[ipv4-addr:value = '1.2.3.4']"}
            obj = {k: v for k, v in obj.items() if v is not None}
        return surely_valid(obj)

    assert len(wrongly_accepted(blind, INVALID)) >= 5


def test_an_invalid_object_is_refused_with_stix2s_own_message() -> None:
    checked = check_object(INVALID[0], 0, 0, STAMP)
    assert isinstance(checked, tuple)
    with pytest.raises(Exception) as raised:
        stix2.parse(INVALID[0], allow_custom=True, version="2.1")
    assert checked[2] == str(raised.value)[:200]


# -- mutations ------------------------------------------------------------------------

STAMPS = st.sampled_from(
    [
        "2024-03-25T20:06:37Z", "2024-03-25T20:06:37.1Z", "2024-03-25T20:06:37.123456Z",
        "2024-03-25T20:06:37.1234567Z", "2024-03-25T20:06:37", "2024-3-25T20:06:37Z",
        "2024-03-25T20:6:37Z", "2024-02-29T00:00:00Z", "2023-02-29T00:00:00Z",
        "2024-13-01T00:00:00Z", "2024-00-10T00:00:00Z", "0000-01-01T00:00:00Z",
        "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z", "2024-03-25T20:06:37.Z",
        "2024-03-25T20:06:37,5Z", "2024-03-25t20:06:37z", " 2024-03-25T20:06:37Z",
        "2024-03-25T20:06:37Z\n", "\uff12\uff10\uff12\uff14-03-25T20:06:37Z",
        "2024-03-25T20:06:61Z",        "1999-12-31T23:59:59.999Z", "2100-01-01T00:00:00.000Z",
    ]
) | st.text(alphabet="0123456789-T:.Z ", max_size=30)  # fmt: skip
HEX = "0123456789abcdefABCDEF"
UUIDS = st.builds(
    lambda a, b, c, d, e: f"{a}-{b}-{c}-{d}-{e}",
    st.text(HEX, min_size=8, max_size=8),
    st.text(HEX, min_size=4, max_size=4),
    st.text(HEX, min_size=4, max_size=4),
    st.text(HEX + "g", min_size=3, max_size=5),
    st.text(HEX, min_size=11, max_size=13),
)
TYPES = st.sampled_from(
    ["indicator", "identity", "marking-definition", "malware", "sighting", "relationship",
     "x-mitre-asset", "bundle", "a--b", "X-Bad", "x", "language-content", "ipv4-addr"]
)  # fmt: skip
IDS = st.builds(lambda t, sep, u: f"{t}{sep}{u}", TYPES, st.sampled_from(["--", "-", "---"]), UUIDS)
LITERALS = st.sampled_from(
    ["'1.2.3.4'", "'10.0.0.0/8'", "''", "'a\\'b'", "'a\\\\b'", "'é'", "'\n'", "'x'y'",
     f"'{SHA256}'", f"'{'c' * 32}'", f"'{'d' * 40}'", "'" + "e" * 128 + "'", "1", "'a b'"]
)  # fmt: skip
PATHS = st.sampled_from(
    ["ipv4-addr:value", "ipv6-addr:value", "domain-name:value", "url:value", "email-addr:value",
     "mac-addr:value", "file:hashes.'SHA-256'", "file:hashes.MD5", "file:hashes.'SHA-1'",
     "file:hashes.SHA256", "file:hashes.'SHA-512'", "file:name", "ipv4-addr:value.x",
     "Ipv4-addr:value", "ipv4-addr :value", "foo:value", "file:hashes.'MD5'"]
)  # fmt: skip
COMPARISONS = st.builds(
    lambda path, op, lit: f"{path} {op} {lit}",
    PATHS,
    st.sampled_from(["=", "=", "=", "ISSUBSET", "!=", "LIKE", "==", "MATCHES", "issubset"]),
    LITERALS,
)
HASH_COMPARISONS = st.builds(
    lambda name, digits: f"file:hashes.{name} = '{digits}'",
    st.sampled_from(["MD5", "'MD5'", "'SHA-1'", "SHA1", "'SHA-256'", "SHA256", "'SHA-512'"]),
    st.text("0123456789abcdefABCDEFg ", min_size=30, max_size=130)
    | st.sampled_from(["a" * 32, "b" * 40, "c" * 64, "d" * 128, "e" * 63, "F" * 64]),
)
VALUE_COMPARISONS = st.builds(
    lambda path, op, text: f"{path} {op} '{text}'",
    st.sampled_from(["ipv4-addr:value", "ipv6-addr:value", "domain-name:value", "url:value"]),
    st.sampled_from(["=", "ISSUBSET"]),
    st.text(max_size=12),
)
PATTERNS = st.builds(
    lambda parts, join, close: "[" + join.join(parts) + close,
    st.lists(COMPARISONS | HASH_COMPARISONS | VALUE_COMPARISONS, min_size=1, max_size=3),
    st.sampled_from([" OR ", " OR ", " OR ", " AND ", " or ", "  OR ", " OR"]),
    st.sampled_from(["]", "]", "]", "", "] ", "]]", "] WITHIN 5 SECONDS"]),
) | st.text(max_size=40)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
VALUES = (
    JSON_VALUES
    | STAMPS
    | IDS
    | PATTERNS
    | st.lists(IDS, max_size=2)
    | st.sampled_from([-1, 0, 100, 101, 10**9, True, "50", 50.5, [], {}, ""])
)
KEYS = st.sampled_from(
    ["id", "type", "spec_version", "created", "modified", "created_by_ref", "name",
     "description", "pattern", "pattern_type", "pattern_version", "valid_from", "valid_until",
     "confidence", "labels", "revoked", "lang", "indicator_types", "kill_chain_phases",
     "external_references", "object_marking_refs", "granular_markings", "extensions",
     "source_ref", "target_ref", "relationship_type", "start_time", "stop_time", "aliases",
     "x_custom", "x_", "x-custom", "X_custom", "custom_properties", "allow_custom", "_x",
     "identity_class", "sectors", "roles"]
) | st.text(max_size=10)  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn) -> dict:
    obj = copy.deepcopy(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 3))):
        action = draw(st.sampled_from(["drop", "set", "set", "nested", "until"]))
        if action == "drop" and obj:
            obj.pop(draw(st.sampled_from(sorted(obj))))
        elif action == "set":
            obj[draw(KEYS)] = draw(VALUES)
        elif action == "nested":
            key = draw(st.sampled_from(["kill_chain_phases", "external_references"]))
            item = draw(st.dictionaries(
                st.sampled_from(["kill_chain_name", "phase_name", "source_name", "url",
                                 "external_id", "description", "hashes", "x_y"]),
                JSON_VALUES | st.text(max_size=5), max_size=4,
            ))  # fmt: skip
            obj[key] = [item]
        else:
            obj["valid_from"], obj["valid_until"] = draw(STAMPS), draw(STAMPS)
    return obj


@settings(max_examples=400)
@given(mutated())
def test_no_mutation_the_fast_path_accepts_is_refused_by_stix2(obj: dict) -> None:
    if surely_valid(obj):
        assert stix2_accepts(obj), obj


@settings(max_examples=300)
@given(PATTERNS)
def test_no_pattern_the_fast_path_accepts_is_refused_by_stix2_patterns(pattern: str) -> None:
    if stix_pattern_surely_valid(pattern):
        assert run_validator(pattern, "2.1") == [], pattern
        assert pattern_problem(pattern) is None, pattern  # so its bounds need no reading


@settings(max_examples=200)
@given(STAMPS)
def test_a_timestamp_read_fast_is_the_instant_stix2_reads(value: str) -> None:
    instant = stix_timestamp(value)
    if instant is not None:
        assert parse_into_datetime(value).replace(tzinfo=None) == instant
