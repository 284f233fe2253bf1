"""Value keys: one spelling per observable, whichever way it reached steppe."""

from __future__ import annotations

import pytest

from steppe.correlate.extract import read_batch
from steppe.observables import correlation_keys as values
from steppe.stix import tlp

SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("198.51.100.7", "ipv4-addr:198.51.100.7"),
        (" 198.51.100.0/24 ", "ipv4-addr:198.51.100.0/24"),
        ("198.51.100.7/32", "ipv4-addr:198.51.100.7"),
        ("2001:DB8:0:0::1", "ipv6-addr:2001:db8::1"),
        ("AS64496", "autonomous-system:64496"),
        ("as 64496", "autonomous-system:64496"),
        ("Botnet-C2.Example.NET.", "domain-name:botnet-c2.example.net"),
        ("abuse@example.org", "email-addr:abuse@example.org"),
        ("http://example.org/kg/payload.exe", "url:http://example.org/kg/payload.exe"),
        (SHA256.upper(), f"file:SHA-256:{SHA256}"),
        ("d41d8cd98f00b204e9800998ecf8427e", "file:MD5:d41d8cd98f00b204e9800998ecf8427e"),
    ],
)
def test_what_people_type_becomes_one_key(text: str, key: str):
    assert values.parse_query(text) == [key]


@pytest.mark.parametrize("text", ["", "   ", "not a value!", "198.51.100.0/33", "AS-x"])
def test_what_is_not_an_observable_has_no_key(text: str):
    assert values.parse_query(text) == []


def test_patterns_name_their_values_by_equality_only():
    pattern = (
        "[ipv4-addr:value = '198.51.100.7' OR ipv4-addr:value ISSUBSET '203.0.113.0/24'] "
        f"AND [file:hashes.'SHA-256' = '{SHA256.upper()}'] "
        "AND [domain-name:value IN ('Example.org', 'c2.example.net')] "
        "AND [autonomous-system:number = 64500] "
        "AND [ipv4-addr:value NOT = '192.0.2.1'] AND [url:value LIKE 'http://%']"
    )
    assert values.pattern_keys(pattern) == [
        "ipv4-addr:198.51.100.7",
        "ipv4-addr:203.0.113.0/24",
        f"file:SHA-256:{SHA256}",
        "domain-name:example.org",
        "domain-name:c2.example.net",
        "autonomous-system:64500",
    ]
    assert values.pattern_keys("[email-addr:value = 'o\\'brien@example.org']") == [
        "email-addr:o'brien@example.org"
    ]


def test_an_address_probes_only_the_network_sizes_the_index_holds():
    prefixes = {"ipv4-addr": frozenset({16, 24}), "ipv6-addr": frozenset({48})}
    assert values.probe_keys("ipv4-addr:198.51.100.7", prefixes) == [
        "ipv4-addr:198.51.100.7",
        "ipv4-addr:198.51.100.0/24",
        "ipv4-addr:198.51.0.0/16",
    ]
    assert values.probe_keys("ipv4-addr:198.51.100.0/24", prefixes) == [
        "ipv4-addr:198.51.100.0/24",
        "ipv4-addr:198.51.0.0/16",
    ]
    assert values.probe_keys("ipv6-addr:2001:db8:1:2::5", prefixes) == [
        "ipv6-addr:2001:db8:1:2::5",
        "ipv6-addr:2001:db8:1::/48",
    ]
    assert values.probe_keys("domain-name:example.org", prefixes) == ["domain-name:example.org"]
    assert values.contains("ipv4-addr:198.51.100.0/24", "ipv4-addr:198.51.100.7")
    assert not values.contains("ipv4-addr:198.51.100.0/24", "ipv4-addr:198.51.101.7")


def test_neighbourhoods_for_weak_evidence():
    assert values.network_group("ipv4-addr:198.51.100.7") == "net:198.51.100.0/24"
    assert values.network_group("ipv6-addr:2001:db8:1:2::5") == "net:2001:db8:1::/48"
    assert values.network_group("ipv4-addr:198.51.0.0/16") is None
    assert values.network_group("domain-name:example.org") is None
    assert values.group_display("asn:64500") == "the autonomous system AS64500"


def test_a_batch_ties_values_to_campaigns_through_relationships():
    campaign = {
        "type": "campaign",
        "id": "campaign--7c2d7f0e-4e35-4bb0-9f7b-1c4c2a1e0b01",
        "name": "Georgia DDoS, August 2008",
        "object_marking_refs": [tlp.AMBER.marking_id],
        "created_by_ref": "identity--0d6f5a4e-9d36-4b0e-8a0f-3b8f6c1c2d01",
    }
    indicator = {
        "type": "indicator",
        "id": "indicator--1c8e0a4e-2f0b-4d8c-9a31-6f1e2d3c4b01",
        "pattern": "[ipv4-addr:value = '198.51.100.7']",
        "pattern_type": "stix",
        "valid_from": "2008-08-08T00:00:00Z",
    }
    revoked = {
        **indicator,
        "id": "indicator--1c8e0a4e-2f0b-4d8c-9a31-6f1e2d3c4b02",
        "pattern": "[ipv4-addr:value = '198.51.100.8']",
        "revoked": True,
    }
    victim = {
        "type": "ipv4-addr",
        "id": "ipv4-addr--0b1c2d3e-4f50-5a6b-8c7d-9e0f1a2b3c4d",
        "value": "192.0.2.10",
    }
    relate = [
        {
            "type": "relationship",
            "id": "relationship--00000000-0000-4000-8000-000000000001",
            "relationship_type": "indicates",
            "source_ref": indicator["id"],
            "target_ref": campaign["id"],
        },
        {
            "type": "relationship",
            "id": "relationship--00000000-0000-4000-8000-000000000002",
            "relationship_type": "related-to",
            "source_ref": victim["id"],
            "target_ref": campaign["id"],
        },
    ]
    batch = read_batch(
        [indicator, revoked, victim, *relate], tlp.GREEN.rank, {campaign["id"]: campaign}
    )
    by_key = {o.key: o for o in batch.occurrences}
    assert set(by_key) == {"ipv4-addr:198.51.100.7", "ipv4-addr:192.0.2.10"}
    assert by_key["ipv4-addr:198.51.100.7"].indicator
    assert by_key["ipv4-addr:198.51.100.7"].campaign_id == campaign["id"]
    assert by_key["ipv4-addr:198.51.100.7"].tlp == tlp.GREEN.rank  # unmarked: the default
    assert not by_key["ipv4-addr:192.0.2.10"].indicator
    assert batch.campaigns[campaign["id"]].tlp == tlp.AMBER.rank
    assert batch.campaigns[campaign["id"]].name == "Georgia DDoS, August 2008"
