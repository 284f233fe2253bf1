"""Parsing and validating JSON submissions (steppe.observables.report_json)."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from steppe.errors import InvalidInput
from steppe.observables import model as models
from steppe.observables import observable_checks
from steppe.observables.model import Observable
from steppe.observables.report_json import parse_json
from steppe.observables.submission_codecs import (
    decode_observables,
    encode_observables,
    report_from_dict,
    report_to_dict,
)
from steppe.stix import tlp
from steppe.stix.timestamps import parse_micros

SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
MD5 = "d41d8cd98f00b204e9800998ecf8427e"


def kyrgyzstan() -> dict[str, Any]:
    return {
        "tlp": "amber",
        "confidence": 60,
        "source": {"name": "IntelFusion", "url": "https://example.org/post"},
        "attack": {
            "kind": "ddos",
            "first_seen": "2009-01-18T00:00:00Z",
            "last_seen": "2009-01-20T00:00:00Z",
            "description": "Flood of traffic that took the four ISPs offline.",
        },
        "campaign": {"name": "Kyrgyzstan ISP DDoS, January 2009", "objective": "Silence"},
        "targets": [
            {
                "name": "ISP One",
                "kind": "organization",
                "sectors": ["telecommunications"],
                "country": "KG",
            },
        ],
        "attribution": {"name": "Unattributed RU botnet", "country": "RU", "confidence": 15},
        "observables": [
            {
                "type": "ipv4-addr",
                "value": "198.51.100.7",
                "role": "source",
                "asn": 64500,
                "country": "RU",
                "first_seen": "2009-01-18T01:00:00Z",
                "last_seen": "2009-01-19T00:00:00Z",
            },
            {"type": "ipv4-addr", "value": "203.0.113.10", "role": "victim"},
        ],
    }


def submit(doc: dict[str, Any]) -> models.SubmissionRequest:
    return parse_json(orjson.dumps(doc))


def with_observables(*observables: dict[str, Any], kind: str = "ddos") -> dict[str, Any]:
    return {"attack": {"kind": kind}, "observables": list(observables)}


def rejected(doc: dict[str, Any] | bytes) -> InvalidInput:
    body = doc if isinstance(doc, bytes) else orjson.dumps(doc)
    with pytest.raises(InvalidInput) as caught:
        parse_json(body)
    return caught.value


# ---------------------------------------------------------------- the good path


def test_kyrgyzstan_report_is_parsed_into_the_models():
    request = submit(kyrgyzstan())
    report = request.report
    assert report.kind == "ddos"
    assert report.tlp is tlp.AMBER
    assert report.confidence == 60
    assert report.source == models.Source("IntelFusion", "https://example.org/post")
    assert report.first_seen == parse_micros("2009-01-18T00:00:00Z")
    assert report.last_seen == parse_micros("2009-01-20T00:00:00Z")
    assert report.campaign == models.Campaign("Kyrgyzstan ISP DDoS, January 2009", "Silence")
    assert report.targets == (
        models.Target("ISP One", "organization", ("telecommunications",), "KG"),
    )
    assert report.attribution == models.Attribution(
        "Unattributed RU botnet", "intrusion-set", "RU", 15
    )
    assert report.observed_first == parse_micros("2009-01-18T01:00:00Z")
    assert report.observed_last == parse_micros("2009-01-19T00:00:00Z")
    assert request.observables == [
        Observable(
            "ipv4-addr",
            "198.51.100.7",
            (),
            "source",
            64500,
            "RU",
            parse_micros("2009-01-18T01:00:00Z"),
            parse_micros("2009-01-19T00:00:00Z"),
        ),
        # "victim" is the ddos template's alias of the target role
        Observable("ipv4-addr", "203.0.113.10", (), "target"),
    ]


def test_defaults_come_from_the_template():
    request = submit(with_observables({"type": "ipv4-addr", "value": "198.51.100.7"}))
    assert request.report.tlp is tlp.AMBER
    assert request.report.confidence == 60  # ddos.yaml report.confidence
    assert request.observables[0].role == "source"  # ddos.yaml default_roles
    domain = submit(with_observables({"type": "domain-name", "value": "example.org"}))
    assert domain.observables[0].role == "target"


@pytest.mark.parametrize(
    ("obs_type", "raw", "normalized"),
    [
        ("ipv4-addr", " 198.51.100.7 ", "198.51.100.7"),
        ("ipv4-addr", "198.51.100.0/24", "198.51.100.0/24"),
        ("ipv4-addr", "198.51.100.7/32", "198.51.100.7"),
        ("ipv6-addr", "2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("ipv6-addr", "2001:db8::/32", "2001:db8::/32"),
        ("ipv6-addr", "2001:db8::1/128", "2001:db8::1"),
        ("domain-name", "WWW.Example.ORG.", "www.example.org"),
        ("domain-name", "bücher.example", "xn--bcher-kva.example"),
        ("domain-name", "_dmarc.example.com", "_dmarc.example.com"),
        ("url", "HTTP://Example.ORG/Login?Next=%2F", "http://example.org/Login?Next=%2F"),
        ("url", "https://[2001:DB8::1]:8443/a", "https://[2001:db8::1]:8443/a"),
        ("url", "http://198.51.100.7/x.exe", "http://198.51.100.7/x.exe"),
        ("email-addr", "Alice.Smith@Example.ORG", "Alice.Smith@example.org"),
    ],
)
def test_values_are_normalized(obs_type, raw, normalized):
    kind = "phishing" if obs_type == "email-addr" else "ddos"
    role = {"ddos": "target", "phishing": "sender"}[kind]
    request = submit(with_observables({"type": obs_type, "value": raw, "role": role}, kind=kind))
    assert request.observables[0].value == normalized


def test_file_hashes_are_normalized_and_sorted():
    request = submit(
        with_observables(
            {"type": "file", "hashes": {"sha256": SHA256.upper(), "md5": MD5}},
            {"type": "file", "value": MD5.upper()},
            {"type": "file", "value": SHA256, "hash_type": "SHA_256"},
            kind="phishing",
        )
    )
    first, second, third = request.observables
    assert first.value is None
    assert first.hashes == (("MD5", MD5), ("SHA-256", SHA256))
    assert second.hashes == (("MD5", MD5),)  # algorithm inferred from the length
    assert third.hashes == (("SHA-256", SHA256),)
    assert first.role == "attachment"


def test_country_and_asn_are_normalized():
    request = submit(
        with_observables(
            {"type": "ipv4-addr", "value": "198.51.100.7", "asn": "AS64500", "country": " ru"}
        )
    )
    assert request.observables[0].asn == 64500
    assert request.observables[0].country == "RU"


def test_timestamps_accept_offsets_and_dates():
    request = submit(
        with_observables(
            {
                "type": "ipv4-addr",
                "value": "198.51.100.7",
                "first_seen": "2009-01-18",
                "last_seen": "2009-01-18T06:30:00.5+06:00",
            }
        )
    )
    obs = request.observables[0]
    assert obs.first_seen == parse_micros("2009-01-18T00:00:00Z")
    assert obs.last_seen == parse_micros("2009-01-18T00:30:00.5Z")


def test_tlp_names_are_read_as_users_write_them():
    doc = with_observables({"type": "ipv4-addr", "value": "198.51.100.7"})
    doc["tlp"] = "TLP:AMBER+STRICT"
    assert submit(doc).report.tlp is tlp.AMBER_STRICT
    doc["tlp"] = "White"
    assert submit(doc).report.tlp is tlp.CLEAR


def test_duplicate_observables_are_merged_with_the_widest_times():
    request = submit(
        with_observables(
            {
                "type": "ipv4-addr",
                "value": "198.51.100.7",
                "first_seen": "2009-01-18T05:00:00Z",
                "last_seen": "2009-01-18T06:00:00Z",
            },
            {"type": "domain-name", "value": "example.org"},
            {
                "type": "ipv4-addr",
                "value": "198.51.100.7 ",
                "first_seen": "2009-01-18T01:00:00Z",
                "last_seen": "2009-01-18T02:00:00Z",
                "asn": 64500,
            },
            {"type": "ipv4-addr", "value": "198.51.100.7", "last_seen": "2009-01-19T00:00:00Z"},
            # the same value in another role is another observation
            {"type": "ipv4-addr", "value": "198.51.100.7", "role": "reflector"},
        )
    )
    assert [(o.value, o.role) for o in request.observables] == [
        ("198.51.100.7", "source"),
        ("example.org", "target"),
        ("198.51.100.7", "reflector"),
    ]
    merged = request.observables[0]
    assert merged.first_seen == parse_micros("2009-01-18T01:00:00Z")
    assert merged.last_seen == parse_micros("2009-01-19T00:00:00Z")
    assert merged.asn == 64500


def test_the_report_round_trips_through_a_json_dict():
    report = submit(kyrgyzstan()).report
    stored = orjson.loads(orjson.dumps(report_to_dict(report)))
    assert report_from_dict(stored) == report


def test_observables_round_trip_through_their_encoding():
    observables = submit(
        with_observables(
            {"type": "file", "hashes": {"SHA-256": SHA256, "MD5": MD5}},
            {
                "type": "ipv4-addr",
                "value": "198.51.100.7",
                "asn": 64500,
                "country": "RU",
                "first_seen": "2009-01-18T00:00:00Z",
            },
            {"type": "url", "value": "http://example.org/'quoted'\\path"},
            kind="malware-c2",
        )
    ).observables
    blob = encode_observables(observables)
    assert isinstance(blob, bytes)
    assert decode_observables(blob) == observables


# ---------------------------------------------------------------- bad input


def test_malformed_json_names_line_and_column():
    error = rejected(b'{"attack": {"kind": "ddos"},\n "observables": [}')
    assert error.where == "body, line 2, column 18"
    assert "not valid JSON" in error.message


@pytest.mark.parametrize("body", [b"[]", b'"ddos"', b"42"])
def test_body_must_be_an_object(body):
    error = rejected(body)
    assert error.where == "body"
    assert "must be a JSON object" in error.message


def test_unknown_top_level_field_is_rejected():
    doc = kyrgyzstan()
    doc["atack"] = doc.pop("attack")
    assert rejected(doc).where == "atack"


def test_missing_attack_kind():
    doc = kyrgyzstan()
    del doc["attack"]
    error = rejected(doc)
    assert error.where == "attack.kind"
    assert "ddos" in error.message


def test_unknown_attack_kind_lists_the_known_ones():
    doc = kyrgyzstan()
    doc["attack"]["kind"] = "ransomware"
    error = rejected(doc)
    assert error.where == "attack.kind"
    for kind in ("ddos", "phishing", "malware-c2", "scanning", "brute-force", "defacement"):
        assert kind in error.message


def test_observable_type_not_allowed_for_the_kind():
    error = rejected(with_observables({"type": "email-addr", "value": "a@example.org"}))
    assert error.where == "observables[0].type"
    assert "ddos" in error.message and "ipv4-addr" in error.message


def test_unknown_observable_type():
    error = rejected(with_observables({"type": "ipv5-addr", "value": "1"}))
    assert error.where == "observables[0].type"


def test_role_not_of_the_kind():
    error = rejected(
        with_observables({"type": "ipv4-addr", "value": "198.51.100.7", "role": "sender"})
    )
    assert error.where == "observables[0].role"
    assert "source" in error.message and "target" in error.message


def test_role_that_does_not_take_the_type():
    error = rejected(
        with_observables({"type": "domain-name", "value": "example.org", "role": "source"})
    )
    assert error.where == "observables[0].role"
    assert "does not take domain-name" in error.message


@pytest.mark.parametrize(
    ("obs_type", "value", "fragment"),
    [
        ("ipv4-addr", "198.51.100.256", "not an IPv4"),
        ("ipv4-addr", "198.051.100.7", "not an IPv4"),
        ("ipv4-addr", "198.51.100", "not an IPv4"),
        ("ipv4-addr", "2001:db8::1", "not an IPv4"),
        ("ipv4-addr", "198.51.100.7/24", "host bits set"),
        ("ipv4-addr", "198.51.100.0/33", "not an IPv4"),
        ("ipv6-addr", "2001:db8:::1", "not an IPv6"),
        ("ipv6-addr", "198.51.100.7", "not an IPv6"),
        ("ipv6-addr", "2001:db8::1/32", "host bits set"),
        ("domain-name", "example", "at least two labels"),
        ("domain-name", "-bad.example.org", "invalid label"),
        ("domain-name", "a..example.org", "empty label"),
        ("domain-name", "exa mple.org", "invalid label"),
        ("domain-name", "*.example.org", "invalid label"),
        ("domain-name", "x" * 64 + ".example.org", "longer than 63"),
        ("domain-name", ".".join(["abcdefghij"] * 25) + ".org", "longer than 253"),
        ("domain-name", "198.51.100.7", "last label"),
        ("url", "example.org/login", "no scheme"),
        ("url", "http:///login", "no host"),
        ("url", "mailto:alice@example.org", "no host"),
        ("url", "http://exa mple.org/", "spaces"),
        ("url", "http://example.org:99999/", "not a URL"),
        ("url", "http://bad_tld.example.o-/", "invalid host"),
    ],
)
def test_invalid_values_are_rejected_with_where(obs_type, value, fragment):
    error = rejected(with_observables({"type": obs_type, "value": value, "role": "target"}))
    assert error.where == "observables[0].value"
    assert fragment in error.message
    assert error.errors == [
        {"where": "observables[0].value", "message": error.errors[0]["message"]}
    ]


@pytest.mark.parametrize(
    "value",
    ["alice", "alice@", "@example.org", "al ice@example.org", "alice@example", "a..b@example.org"],
)
def test_invalid_email_addresses(value):
    error = rejected(with_observables({"type": "email-addr", "value": value}, kind="phishing"))
    assert error.where == "observables[0].value"


@pytest.mark.parametrize(
    ("observable", "where", "fragment"),
    [
        (
            {"type": "file", "hashes": {"SHA-256": "zz" * 32}},
            "observables[0].hashes.SHA-256",
            "not a hexadecimal",
        ),
        (
            {"type": "file", "hashes": {"SHA-256": MD5}},
            "observables[0].hashes.SHA-256",
            "64 hex digits",
        ),
        (
            {"type": "file", "hashes": {"CRC32": "abcd1234"}},
            "observables[0].hashes.CRC32",
            "not a supported hash algorithm",
        ),
        ({"type": "file", "hashes": {}}, "observables[0].hashes", "hashes must be an object"),
        ({"type": "file", "value": "ab" * 25}, "observables[0].value", "cannot tell the algorithm"),
        (
            {"type": "file", "value": MD5, "hash_type": "SHA-1"},
            "observables[0].value",
            "40 hex digits",
        ),
        (
            {"type": "file", "value": MD5, "hash_type": "whirlpool"},
            "observables[0].hash_type",
            "not a supported",
        ),
        (
            {"type": "file", "value": MD5, "hashes": {"MD5": MD5}},
            "observables[0].value",
            "not both",
        ),
        ({"type": "file"}, "observables[0].hashes", "needs its hashes"),
        (
            {"type": "url", "value": "http://example.org/", "hashes": {"MD5": MD5}},
            "observables[0].hashes",
            "only file observables",
        ),
    ],
)
def test_invalid_file_hashes(observable, where, fragment):
    error = rejected(with_observables(observable, kind="phishing"))
    assert error.where == where
    assert fragment in error.message


@pytest.mark.parametrize(
    ("extra", "where", "fragment"),
    [
        ({"value": None}, "observables[0].value", "required"),
        ({"value": 19851100}, "observables[0].value", "must be a string"),
        ({"value": "   "}, "observables[0].value", "empty"),
        ({"asn": 4_294_967_296}, "observables[0].asn", "autonomous system number"),
        ({"asn": "ASX"}, "observables[0].asn", "autonomous system number"),
        ({"asn": True}, "observables[0].asn", "autonomous system number"),
        ({"country": "XX"}, "observables[0].country", "ISO 3166-1"),
        ({"country": "UK"}, "observables[0].country", "ISO 3166-1"),  # reserved, GB is assigned
        ({"first_seen": "yesterday"}, "observables[0].first_seen", "not a timestamp"),
        ({"first_seen": ["2009"]}, "observables[0].first_seen", "not a timestamp"),
        ({"last_seen": "2009-01-18T00:00:00"}, "observables[0].last_seen", "no time zone"),
        (
            {"first_seen": "2009-01-19T00:00:00Z", "last_seen": "2009-01-18T00:00:00Z"},
            "observables[0].last_seen",
            "before first_seen",
        ),
        ({"valeu": "typo"}, "observables[0].valeu", "not a known field"),
        ({"type": ["ipv4-addr"]}, "observables[0].type", "not an observable type"),
        ({"role": ["source"]}, "observables[0].role", "not a role"),
        ({"role": 7}, "observables[0].role", "not a role"),
        ({"country": ["RU"]}, "observables[0].country", "ISO 3166-1"),
        ({"asn": [64500]}, "observables[0].asn", "autonomous system number"),
    ],
)
def test_invalid_observable_fields(extra, where, fragment):
    observable = {"type": "ipv4-addr", "value": "198.51.100.7", **extra}
    error = rejected(with_observables(observable))
    assert error.where == where
    assert fragment in error.message


def test_asn_only_on_ip_addresses():
    error = rejected(
        with_observables({"type": "domain-name", "value": "example.org", "asn": 64500})
    )
    assert error.where == "observables[0].asn"


def test_observable_that_is_not_an_object():
    error = rejected(with_observables({"type": "ipv4-addr", "value": "198.51.100.7"}, "x"))
    assert error.where == "observables[1]"


def test_many_bad_observables_list_the_first_errors():
    good = {"type": "ipv4-addr", "value": "198.51.100.7"}
    items = [good] * 5 + [
        {"type": "ipv4-addr", "value": f"198.51.100.{300 + i}"} for i in range(30)
    ]
    items[12] = {"type": "ipv4-addr", "value": "198.51.100.7", "country": "ZZ"}
    error = rejected(with_observables(*items))
    assert error.where == "observables[5].value"
    assert error.message.startswith("30 observables are invalid (the first 20 are listed)")
    assert len(error.errors) == observable_checks.MAX_LISTED_ERRORS
    assert error.errors[7] == {
        "where": "observables[12].country",
        "message": "'ZZ' is not an ISO 3166-1 alpha-2 country code (e.g. KG, RU)",
    }
    assert error.to_dict()["errors"] == error.errors


@pytest.mark.parametrize("confidence", [-1, 101, 60.5, "60", True])
def test_confidence_out_of_range(confidence):
    doc = kyrgyzstan()
    doc["confidence"] = confidence
    error = rejected(doc)
    assert error.where == "confidence"
    assert "0 to 100" in error.message


def test_unknown_tlp():
    doc = kyrgyzstan()
    doc["tlp"] = "purple"
    error = rejected(doc)
    assert error.where == "tlp"
    assert "amber+strict" in error.message


def test_empty_missing_or_wrong_observables():
    doc = kyrgyzstan()
    doc["observables"] = []
    assert rejected(doc).where == "observables"
    doc["observables"] = {"type": "ipv4-addr"}
    assert rejected(doc).where == "observables"
    del doc["observables"]
    assert rejected(doc).where == "observables"


@pytest.mark.parametrize(
    ("path", "value", "where"),
    [
        (("attack", "first_seen"), "18/01/2009", "attack.first_seen"),
        (("attack", "last_seen"), "2009-01-17T00:00:00Z", "attack.last_seen"),
        (("attack", "speed"), "fast", "attack.speed"),
        (("source", "url"), "ftp://example.org/x", "source.url"),
        (("source", "name"), "", "source.name"),
        (("campaign", "name"), None, "campaign.name"),
        (("attribution", "confidence"), 150, "attribution.confidence"),
        (("attribution", "kind"), "threat-actor", "attribution.kind"),
        (("attribution", "country"), "Russia", "attribution.country"),
        (("targets",), "ISP One", "targets"),
        (("targets", 0, "country"), "KGZ", "targets[0].country"),
        (("targets", 0, "kind"), "company", "targets[0].kind"),
        (("targets", 0, "sectors", 0), "telecoms", "targets[0].sectors[0]"),
        (("targets", 0, "name"), "  ", "targets[0].name"),
        (("collection",), 7, "collection"),
        (("valid_until",), "2009-01-18T00:30:00Z", "valid_until"),
    ],
)
def test_invalid_report_fields(path, value, where):
    doc = copy.deepcopy(kyrgyzstan())
    node: Any = doc
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    error = rejected(doc)
    assert error.where == where
    assert error.message.startswith(where)


def test_valid_until_must_follow_every_observation():
    doc = kyrgyzstan()
    doc["attack"].pop("first_seen")
    doc["valid_until"] = "2009-01-18T00:30:00Z"
    error = rejected(doc)
    assert error.where == "valid_until"
    assert "observables[0].first_seen" in error.message


def test_sectors_are_normalized_and_deduplicated():
    doc = kyrgyzstan()
    doc["targets"][0]["sectors"] = [
        "Telecommunications",
        "financial services",
        "telecommunications",
    ]
    target = submit(doc).report.targets[0]
    assert target.sectors == ("telecommunications", "financial-services")
