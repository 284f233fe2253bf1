"""steppe.observables.value_text: the values an analyst's pasted text holds."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from steppe.errors import PayloadTooLarge
from steppe.observables.correlation_keys import parse_query, split
from steppe.observables.value_text import KINDS, MAX_TEXT_BYTES, values_in_text

SHA256 = "5e3d6a3b1c2f4e5d6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b"
MD5 = "d41d8cd98f00b204e9800998ecf8427e"

ADVISORY = f"""
From: CERT-KG <duty@cert.example.kg>
Subject: DDoS against the ISPs, 2009-01-18

Sources seen: 198.51.100[.]7, 198.51.100(.)23 and the network 203.0.113.0/24;
C2 at hxxp://botnet-c2[.]example[.]net/gate.php (also "ddos-c2.example.org").
Dropper SHA-256: {SHA256}; older loader (md5={MD5}).
Upstream AS64500, IPv6 source [2001:db8::1] and 2001:db8[:]4::/48.
See https://example.org/reports/kg-ddos-2009. Contact duty@cert.example.kg.
Sources seen: 198.51.100.7 (again), Example.ORG and example.org
"""


def test_an_advisory_gives_its_values_refanged_in_order_once_each():
    assert values_in_text(ADVISORY) == [
        "198.51.100.7",
        "198.51.100.23",
        "203.0.113.0/24",
        "http://botnet-c2.example.net/gate.php",
        "ddos-c2.example.org",
        SHA256,
        MD5,
        "AS64500",
        "2001:db8::1",
        "2001:db8:4::/48",
        "https://example.org/reports/kg-ddos-2009",
        "Example.ORG",
    ]


def test_one_value_per_line_and_log_fields():
    text = "192.0.2.1\n192.0.2.2\r\n\tHXXPS://example.net/x\nsrc=192.0.2.3 dst=192.0.2.4\n"
    assert values_in_text(text) == [
        "192.0.2.1",
        "192.0.2.2",
        "https://example.net/x",
        "192.0.2.3",
        "192.0.2.4",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "the hosts that flooded the ISPs were not named",
        "BlackEnergy and Mimikatz",  # families are asked for by name, not found in prose
        "duty@cert.example.kg",  # an e-mail address is not taken from free text
        "198.51.100.7/24 999.1.1.1 AS 1-2",
    ],
)
def test_text_without_values_gives_none(text: str):
    assert values_in_text(text) == []


def test_at_most_limit_values():
    text = " ".join(f"10.0.{n // 256}.{n % 256}" for n in range(600))
    assert len(values_in_text(text, limit=500)) == 500
    assert values_in_text(text, limit=3) == ["10.0.0.0", "10.0.0.1", "10.0.0.2"]


def test_a_text_over_a_megabyte_is_refused():
    with pytest.raises(PayloadTooLarge) as refused:
        values_in_text("a" * (MAX_TEXT_BYTES + 1))
    assert refused.value.where == "text"
    with pytest.raises(PayloadTooLarge):
        values_in_text("\u00e9" * (MAX_TEXT_BYTES // 2 + 1))  # two bytes each in UTF-8
    # A long token is passed over, not read.
    assert values_in_text("x" * 100_000 + ".example 192.0.2.9") == ["192.0.2.9"]


def recognised(value: str) -> bool:
    keys = parse_query(value)
    return bool(keys) and all(split(key)[0] in KINDS for key in keys)


PIECES = st.sampled_from(
    [
        "198.51.100.7",
        "198.51.100[.]8",
        "2001:db8::1",
        "::1",
        "example[.]org",
        "hxxp://a.example/x?y=1",
        "AS64500",
        SHA256,
        MD5,
        "(",
        ")",
        "[",
        "]",
        '"',
        ".",
        ",",
        ":",
        "=",
        " ",
        "\n",
        "[.]",
        "hxxp",
    ]
)


@settings(max_examples=60)
@given(st.lists(PIECES | st.text(max_size=12), max_size=30).map("".join))
def test_never_raises_and_gives_only_recognised_values_once_each(text: str):
    found = values_in_text(text)
    assert all(recognised(value) for value in found), found
    keys = [tuple(parse_query(value)) for value in found]
    assert len(set(keys)) == len(keys)
    assert len(found) <= 10_000


@settings(max_examples=30)
@given(
    st.lists(PIECES, max_size=40).map(" ".join),
    st.integers(min_value=1, max_value=5),
)
def test_bounded_by_the_limit(text: str, limit: int):
    found = values_in_text(text, limit=limit)
    assert len(found) <= limit
    assert found == values_in_text(text)[:limit]
