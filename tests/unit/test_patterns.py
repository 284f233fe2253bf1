"""STIX patterns for single-value indicators, checked with the stix2-patterns validator."""

from __future__ import annotations

import pytest
from stix2patterns.v21.pattern import Pattern
from stix2patterns.validator import run_validator

from steppe.stix import patterns

SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA3_256 = "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a"


def assert_valid(pattern: str) -> None:
    assert run_validator(pattern, stix_version="2.1") == [], pattern


def literal(raw: str) -> str:
    """The value a pattern string literal stands for (undoing quote())."""
    assert raw[0] == raw[-1] == "'"
    out, chars = [], iter(raw[1:-1])
    for char in chars:
        out.append(next(chars) if char == "\\" else char)
    return "".join(out)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (patterns.ipv4_pattern("198.51.100.7"), "[ipv4-addr:value = '198.51.100.7']"),
        (patterns.ipv4_pattern("198.51.100.0/24"), "[ipv4-addr:value ISSUBSET '198.51.100.0/24']"),
        (patterns.ipv6_pattern("2001:db8::1"), "[ipv6-addr:value = '2001:db8::1']"),
        (patterns.ipv6_pattern("2001:db8::/32"), "[ipv6-addr:value ISSUBSET '2001:db8::/32']"),
        (patterns.domain_pattern("www.example.org"), "[domain-name:value = 'www.example.org']"),
        (
            patterns.url_pattern("https://example.com/a?b=c"),
            "[url:value = 'https://example.com/a?b=c']",
        ),
        (
            patterns.email_pattern("billing@example.net"),
            "[email-addr:value = 'billing@example.net']",
        ),
        (
            patterns.file_hashes_pattern([("SHA-256", SHA256)]),
            f"[file:hashes.'SHA-256' = '{SHA256}']",
        ),
        (
            patterns.file_hashes_pattern([("MD5", MD5), ("SHA-256", SHA256)]),
            f"[file:hashes.MD5 = '{MD5}' OR file:hashes.'SHA-256' = '{SHA256}']",
        ),
        (
            patterns.file_hashes_pattern([("SHA3-256", SHA3_256)]),
            f"[file:hashes.'SHA3-256' = '{SHA3_256}']",
        ),
        (patterns.asn_pattern(64500), "[autonomous-system:number = 64500]"),
    ],
)
def test_patterns_are_exact_and_valid(pattern, expected):
    assert pattern == expected
    assert_valid(pattern)


def test_a_wrong_hash_is_caught_by_the_validator():
    # the validator knows hash lengths: a pattern is only as good as its inputs
    assert run_validator(patterns.file_hashes_pattern([("SHA-256", MD5)]), stix_version="2.1")


@pytest.mark.parametrize(
    "value",
    [
        "http://example.org/it's",
        "http://example.org/a\\b",
        "http://example.org/\\'both\\'",
        "http://example.org/trailing\\",
    ],
)
def test_quotes_and_backslashes_are_escaped(value):
    pattern = patterns.url_pattern(value)
    assert_valid(pattern)
    comparisons = Pattern(pattern).inspect().comparisons["url"]
    assert len(comparisons) == 1
    path, operator, raw = comparisons[0]
    assert (path, operator) == (["value"], "=")
    assert literal(raw) == value


def test_pattern_for_dispatches_by_type():
    assert patterns.pattern_for("ipv4-addr", "198.51.100.0/25") == (
        "[ipv4-addr:value ISSUBSET '198.51.100.0/25']"
    )
    assert patterns.pattern_for("email-addr", "a@example.org") == (
        "[email-addr:value = 'a@example.org']"
    )
    assert patterns.pattern_for("file", None, [("MD5", MD5)]) == f"[file:hashes.MD5 = '{MD5}']"
    with pytest.raises(ValueError, match="at least one hash"):
        patterns.pattern_for("file", None, [])
    with pytest.raises(ValueError, match="no single-value pattern for mutex"):
        patterns.pattern_for("mutex", "Global\\x")
    with pytest.raises(ValueError, match="needs a value"):
        patterns.pattern_for("url", None)
