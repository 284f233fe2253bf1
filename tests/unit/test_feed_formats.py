"""The feed renderers (steppe.feed_formats), each line checked against its consumer's grammar.

One set of entries holds a value of every type, CIDR blocks (two adjacent
halves and an address inside them, which `text` merges), an internationalised
domain, a URL with a query string, and metadata with a comma, a quote and a
TAB, which each format must escape or replace as its grammar says.
"""

from __future__ import annotations

import base64
import csv
import io
import re
from pathlib import Path
from typing import Any

import orjson
import pytest
import stix2
from hypothesis import example, given, settings
from hypothesis import strategies as st
from netaddr import IPAddress, IPNetwork, IPSet
from stix2validator import ValidationOptions, validate_instance

from steppe.conversion.converter import ConversionContext, Converter, Producer
from steppe.feed_formats import (
    csv_feed,
    edl_text,
    stix_bundle,
    suricata_dataset,
    suricata_iprep,
    zeek_intel,
)
from steppe.feed_formats.entries import FeedEntry, FeedInfo
from steppe.feed_formats.feed_values import (
    merged_networks,
    network_text,
    span,
    url_without_scheme,
)
from steppe.feed_formats.format_table import FORMATS, check_feed_types, format_named
from steppe.observables.normalize import domain_value
from steppe.observables.report_json import parse_json
from steppe.stix.timestamps import parse_micros
from steppe.templates.registry import TemplateRegistry

T0 = parse_micros("2026-01-02T03:04:05Z")
DAY = 86_400_000_000
PUNY = "xn--e1afmkfd.xn--p1ai"  # пример.рф
URL = f"https://{PUNY}/login?next=a,b&x='1'"
SHA256 = "ab" * 32
CAMPAIGN = 'Op "Red", wave\t2'


def entry(value: str, type_: str, score: int = 80, **extra: Any) -> FeedEntry:
    n = abs(hash((value, type_))) % 10**12
    return FeedEntry(
        value=value,
        type=type_,
        score=score,
        indicator_id=f"indicator--00000000-0000-4000-8000-{n:012d}",
        confidence=70,
        first_seen=T0,
        last_seen=T0 + DAY,
        valid_until=T0 + 30 * DAY,
        **extra,
    )


ENTRIES = [
    entry("198.51.100.7", "ipv4-addr", 95, kind="phishing", campaign=CAMPAIGN, source="CERT, X"),
    entry("203.0.113.0/25", "ipv4-addr", 90, kind="ddos"),
    entry("203.0.113.128/25", "ipv4-addr", 85, kind="ddos"),
    entry("203.0.113.5", "ipv4-addr", 84, kind="ddos"),
    entry("2001:db8::/48", "ipv6-addr", 70, kind="scanning"),
    entry("2001:db8:1::1", "ipv6-addr", 60, kind="malware-c2"),
    entry(PUNY, "domain-name", 55, kind="phishing", campaign=CAMPAIGN),
    entry(URL, "url", 50, kind="phishing"),
    entry("boss@example.com", "email-addr", 45, kind="phishing"),
    entry(SHA256, "file", 40, hash_algorithm="SHA-256", kind="malware-c2"),
    entry("64500", "autonomous-system", 35),
]
INFO = FeedInfo(name="edge", generated=T0 + 2 * DAY, total=len(ENTRIES), truncated=False)
TRUNCATED = FeedInfo(name="edge", generated=T0 + 2 * DAY, total=5000, truncated=True)
ISO_Z = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3}|\.\d{6})?Z")


def text_lines(body: bytes) -> list[str]:
    text = body.decode("utf-8")
    assert text.endswith("\n") and "\r" not in text
    return text[:-1].split("\n")


# -- text (PAN-OS EDL, FortiGate threat feed) -------------------------------------------------


def of_types(*types: str) -> list[FeedEntry]:
    return [e for e in ENTRIES if e.type in types]


def test_text_writes_each_list_as_the_firewalls_read_it() -> None:
    ip_list = text_lines(edl_text.render(of_types("ipv4-addr", "ipv6-addr"), INFO))
    assert ip_list == [
        "198.51.100.7",
        "203.0.113.0/24",  # two adjacent /25 merged, the address inside absorbed
        "2001:db8::/48",
        "2001:db8:1::1",
    ]
    for line in ip_list:
        IPNetwork(line)  # every line an address or a block
    assert text_lines(edl_text.render(of_types("domain-name"), INFO)) == [PUNY]
    url_list = text_lines(edl_text.render(of_types("url"), INFO))
    assert url_list == [f"{PUNY}/login?next=a,b&x='1'"]  # no scheme, query kept
    assert text_lines(edl_text.render(of_types("file"), INFO)) == [SHA256]
    for line in ip_list + url_list:
        assert line.isascii() and not line.startswith("#") and " " not in line
        assert not line.startswith(("http://", "https://"))


def test_text_is_one_list_even_when_given_several_kinds() -> None:
    # the first entry's kind decides; a PAN-OS list must hold one type only
    assert text_lines(edl_text.render(ENTRIES, INFO))[0] == "198.51.100.7"
    assert all(
        "/" not in line or IPNetwork(line) for line in text_lines(edl_text.render(ENTRIES, INFO))
    )
    assert text_lines(edl_text.render(of_types("url", "domain-name"), TRUNCATED)) == [PUNY]
    with pytest.raises(ValueError, match="mixes them"):
        check_feed_types("text", ["ipv4-addr", "domain-name"])
    with pytest.raises(ValueError, match="needs --types of one list"):
        check_feed_types("text", [])
    check_feed_types("text", ["ipv4-addr", "ipv6-addr"])


def test_text_of_nothing_is_an_empty_list() -> None:
    assert edl_text.render([], INFO) == b""


# -- shared value forms ------------------------------------------------------------------------


def test_an_idn_domain_and_an_idn_url_host_are_written_in_punycode() -> None:
    assert domain_value("пример.рф") == PUNY
    assert domain_value("Example.ORG") == "example.org"
    assert url_without_scheme("http://пример.рф:8080/a b?q=1") == f"{PUNY}:8080/a%20b?q=1"
    with pytest.raises(ValueError, match="not an absolute URL"):
        url_without_scheme("example.org/path")


V4_BLOCKS = st.builds(
    lambda n, p: f"{IPAddress(n, 4)}/{p}", st.integers(0, 2**32 - 1), st.integers(0, 32)
)
# clustered, so that blocks overlap and touch often
NEAR_V4 = st.builds(
    lambda n, p: f"{IPAddress(0x0A000000 + (n << 6), 4)}/{p}",
    st.integers(0, 255),
    st.integers(22, 32),
)
NEAR_V6 = st.builds(
    lambda n, p: f"{IPAddress((0x20010DB8 << 96) + (n << 62), 6)}/{p}",
    st.integers(0, 255),
    st.integers(58, 128),
)


# two halves of one block, which must merge into it
SIBLINGS = st.builds(
    lambda n, p: [
        f"{IPAddress(0x0A000000 + (2 * n << (32 - p)), 4)}/{p}",
        f"{IPAddress(0x0A000000 + ((2 * n + 1) << (32 - p)), 4)}/{p}",
    ],
    st.integers(0, 63),
    st.integers(24, 32),
)
VALUES = st.lists(
    st.one_of(*(single.map(lambda v: [v]) for single in (NEAR_V4, NEAR_V6, V4_BLOCKS)), SIBLINGS),
    max_size=20,
).map(lambda groups: [v for group in groups for v in group])


@settings(max_examples=80)
@given(VALUES)
@example(["10.0.0.0/26", "10.0.0.64/26"])  # adjacent: one /25
@example(["10.0.0.0/25", "10.0.0.64/26", "10.0.0.100"])  # inside: the /25 alone
def test_merged_networks_are_the_fewest_blocks_covering_the_same_addresses(
    values: list[str],
) -> None:
    merged = merged_networks(values)
    # netaddr's IPSet is the independent account: the same addresses as the fewest CIDR blocks
    assert [IPNetwork(v) for v in merged] == list(IPSet(values).iter_cidrs())
    assert all("/32" not in v and "/128" not in v for v in merged)  # a host is a plain address


def test_addresses_are_read_strictly() -> None:
    for bad in ("10.0.0.256", "10.0.0", "010.0.0.1/8", "2001:db8::/129", "10.0.0.0/-1", "host"):
        with pytest.raises(ValueError, match=r"not an IP address or CIDR block|prefix length"):
            span(bad)
    assert (
        network_text("203.0.113.77/24") == "203.0.113.0/24"
    )  # host bits ignored, as netaddr .cidr
    assert network_text("2001:DB8::1/128") == "2001:db8::1"
    assert merged_networks(["0.0.0.0/1", "128.0.0.0/1", "::/0"]) == ["0.0.0.0/0", "::/0"]


# -- csv ---------------------------------------------------------------------------------------


def test_csv_is_rfc_4180_with_iso_utc_times() -> None:
    body = csv_feed.render(ENTRIES, INFO)
    text = body.decode("utf-8")
    assert text.startswith(",".join(csv_feed.HEADER) + "\r\n")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == list(csv_feed.HEADER)
    assert len(rows) == len(ENTRIES) + 1
    for row, item in zip(rows[1:], ENTRIES, strict=True):
        assert len(row) == 9
        assert row[0] == item.value and row[1] == item.type and row[2] == str(item.score)
        assert row[3] == "70"
        for stamp in row[4:7]:
            assert ISO_Z.fullmatch(stamp), stamp
    first = rows[1]
    assert first[4:7] == [
        "2026-01-02T03:04:05.000Z",
        "2026-01-03T03:04:05.000Z",
        "2026-02-01T03:04:05.000Z",
    ]
    assert first[7] == CAMPAIGN and first[8] == "CERT, X"
    # quoted where RFC 4180 requires it: the comma, the doubled quote
    assert '"Op ""Red"", wave\t2","CERT, X"' in text
    assert f'"{URL}"' in text  # the query's comma


def test_csv_leaves_absent_values_empty() -> None:
    bare = FeedEntry(value="192.0.2.1", type="ipv4-addr", score=0, indicator_id="indicator--x")
    rows = list(csv.reader(io.StringIO(csv_feed.render([bare], INFO).decode(), newline="")))
    assert rows[1] == ["192.0.2.1", "ipv4-addr", "0", "", "", "", "", "", ""]


# -- stix --------------------------------------------------------------------------------------

REGISTRY = TemplateRegistry.load(Path(__file__).resolve().parents[2] / "stix_templates")
PRODUCER = Producer("identity--0b0d8c5f-2f5a-4b83-9d38-1ad8cbe3bb4a", "CERT-X")
STIX_OPTIONS = ValidationOptions(version="2.1")
# 103 uuid-check: steppe derives UUIDv5 ids (see test_convert's KNOWN_WARNINGS).
KNOWN_WARNINGS = {"103"}


def stored_indicators() -> list[dict[str, Any]]:
    """Indicator bodies as steppe writes them: through the real converter."""
    doc = {
        "tlp": "green",
        "confidence": 70,
        "source": {"name": "CERT-X"},
        "attack": {"kind": "phishing", "first_seen": "2026-01-01T00:00:00Z"},
        "observables": [
            {"type": "ipv4-addr", "value": "198.51.100.7"},
            {"type": "ipv4-addr", "value": "203.0.113.0/25"},
            {"type": "ipv6-addr", "value": "2001:db8::/48"},
            {"type": "domain-name", "value": "пример.рф"},
            {"type": "url", "value": "https://пример.рф/login?next=a,b&x='1'"},
            {"type": "email-addr", "value": "boss@example.com"},
            {"type": "file", "hashes": {"SHA-256": SHA256}},
        ],
    }
    request = parse_json(orjson.dumps(doc), REGISTRY)
    ctx = ConversionContext("submission-1", PRODUCER, T0, 1, "", bytes(range(32)))
    objects = Converter(REGISTRY).chunk_objects(request.report, request.observables, 1, ctx)
    return [o for o in objects if o["type"] == "indicator"]


def check_valid(bundle: dict[str, Any]) -> None:
    for obj in [bundle, *bundle.get("objects", [])]:
        result = validate_instance(obj, STIX_OPTIONS)
        assert result.errors == [], [str(e) for e in result.errors]
        for warning in result.warnings:
            assert re.search(r"\{(\d+)\}", str(warning)).group(1) in KNOWN_WARNINGS, str(warning)
    # with the version named: stix2 cannot detect it from a bundle without objects
    stix2.parse(bundle, allow_custom=False, version="2.1")


def test_stix_bundle_holds_the_stored_bodies_unchanged_and_valid() -> None:
    indicators = stored_indicators()
    assert len(indicators) == 7
    body = stix_bundle.render_bundle(indicators)
    bundle = orjson.loads(body)
    assert bundle["type"] == "bundle" and bundle["id"].startswith("bundle--")
    assert bundle["objects"] == indicators  # identical to what TAXII serves
    check_valid(bundle)
    stix2.parse(bundle, allow_custom=False)
    patterns = {o["pattern"] for o in bundle["objects"]}
    assert f"[domain-name:value = '{PUNY}']" in patterns


def test_stix_bundle_id_follows_the_content() -> None:
    indicators = stored_indicators()
    body = stix_bundle.render_bundle(indicators)
    assert stix_bundle.render_bundle(indicators) == body  # same versions, same bytes
    changed = [dict(indicators[0], modified="2026-01-05T00:00:00.000Z"), *indicators[1:]]
    assert orjson.loads(stix_bundle.render_bundle(changed))["id"] != orjson.loads(body)["id"]


def test_an_empty_stix_feed_is_a_valid_bundle() -> None:
    bundle = orjson.loads(stix_bundle.render_bundle([]))
    assert "objects" not in bundle
    check_valid(bundle)


def test_stix_bundle_refuses_what_is_not_a_stix_object() -> None:
    with pytest.raises(ValueError, match="bundle object 1 has no string 'type' and 'id'"):
        stix_bundle.render_bundle([stored_indicators()[0], {"id": "x"}])


# -- suricata-iprep ----------------------------------------------------------------------------

CATEGORY_LINE = re.compile(r"([1-9][0-9]?),([A-Za-z0-9_-]+),([^,\n]+)")


def test_iprep_categories_file_is_id_short_name_description() -> None:
    lines = text_lines(suricata_iprep.render_categories())
    ids = []
    for line in lines:
        match = CATEGORY_LINE.fullmatch(line)
        assert match, line
        ids.append(int(match.group(1)))
    assert len(set(ids)) == len(ids) and all(1 <= n <= 60 for n in ids)
    for kind in ("brute-force", "ddos", "defacement", "malware-c2", "phishing", "scanning"):
        assert suricata_iprep.category_of(kind) != 1
        assert f",steppe-{kind}," in suricata_iprep.render_categories().decode()
    assert suricata_iprep.category_of(None) == suricata_iprep.category_of("unheard-of") == 1


def test_iprep_reputation_file_is_ip_category_score_for_addresses_only() -> None:
    files = suricata_iprep.render_files(ENTRIES, INFO)
    assert set(files) == {"reputation.list", "categories.txt"}
    assert files["reputation.list"] == suricata_iprep.render(ENTRIES, INFO)
    rows = [line.split(",") for line in text_lines(files["reputation.list"])]
    categories = {int(line.split(",")[0]) for line in text_lines(files["categories.txt"])}
    for ip, category, score in rows:
        IPNetwork(ip)
        assert int(category) in categories and 1 <= int(score) <= 127
    assert rows == [
        ["198.51.100.7", "6", "120"],
        ["203.0.113.0/25", "3", "114"],
        ["203.0.113.128/25", "3", "108"],
        ["203.0.113.5", "3", "106"],
        ["2001:db8::/48", "7", "89"],
        ["2001:db8:1::1", "5", "76"],
    ]


def test_iprep_scales_0_100_onto_1_127_monotonically() -> None:
    scaled = [suricata_iprep.reputation(s) for s in range(101)]
    assert scaled[0] == 1 and scaled[100] == 127 and scaled == sorted(scaled)
    with pytest.raises(ValueError, match="score 101 is outside 0-100"):
        suricata_iprep.reputation(101)


# -- suricata-dataset --------------------------------------------------------------------------


def test_dataset_of_addresses_is_plain_addresses_without_networks() -> None:
    lines = text_lines(suricata_dataset.render(ENTRIES, INFO))
    assert lines == ["198.51.100.7", "203.0.113.5", "2001:db8:1::1"]
    for line in lines:
        assert IPNetwork(line).size == 1


def test_dataset_of_domains_is_base64_of_the_punycode_name() -> None:
    domains = [e for e in ENTRIES if e.type == "domain-name"]
    [line] = text_lines(suricata_dataset.render(domains, INFO))
    assert re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", line)
    assert base64.b64decode(line, validate=True).decode("ascii") == PUNY


def test_dataset_rule_loads_the_file_with_the_right_type() -> None:
    rule = suricata_dataset.dataset_rule("edge feed", "domain")
    assert rule.startswith("alert dns $HOME_NET any -> any any (")
    expected = "dns.query; dataset:isset,steppe-edge-feed, type string, load steppe-edge-feed.lst;"
    assert expected in rule
    assert rule.endswith("rev:1;)")
    ip_rule = suricata_dataset.dataset_rule("edge", "ip", sid=42)
    assert "ip.dst; dataset:isset,steppe-edge, type ip, load steppe-edge.lst; sid:42;" in ip_rule
    sized = suricata_dataset.dataset_rule("edge", "ip", entries=100_000)
    assert "load steppe-edge.lst, hashsize 100000; sid:9000001; rev:1;)" in sized
    with pytest.raises(ValueError, match="no dataset rule for 'url'"):
        suricata_dataset.dataset_rule("edge", "url")


# -- zeek --------------------------------------------------------------------------------------

ZEEK_TYPES = {
    "Intel::ADDR",
    "Intel::SUBNET",
    "Intel::DOMAIN",
    "Intel::URL",
    "Intel::EMAIL",
    "Intel::FILE_HASH",
}


def test_zeek_intel_file_follows_the_input_framework_grammar() -> None:
    lines = text_lines(zeek_intel.render(ENTRIES, INFO))
    assert lines[0] == "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url"
    rows = [line.split("\t") for line in lines[1:]]
    for row in rows:
        assert len(row) == 5 and all(row), row
        assert row[1] in ZEEK_TYPES and row[2] == "steppe edge"
    by_value = {row[0]: row[1] for row in rows}
    assert by_value == {
        "198.51.100.7": "Intel::ADDR",
        "203.0.113.0/25": "Intel::SUBNET",
        "203.0.113.128/25": "Intel::SUBNET",
        "203.0.113.5": "Intel::ADDR",
        "2001:db8::/48": "Intel::SUBNET",
        "2001:db8:1::1": "Intel::ADDR",
        PUNY: "Intel::DOMAIN",
        f"{PUNY}/login?next=a,b&x='1'": "Intel::URL",
        "boss@example.com": "Intel::EMAIL",
        SHA256: "Intel::FILE_HASH",
    }  # the autonomous system has no Intel type
    first = rows[0]
    assert first[3] == f'{ENTRIES[0].indicator_id}; score 95; phishing; campaign Op "Red", wave 2'
    assert first[4] == "-"


def test_zeek_says_it_truncated_in_a_comment_line() -> None:
    lines = text_lines(zeek_intel.render(ENTRIES[:2], TRUNCATED))
    assert lines[1] == "# truncated: the 2 highest scores of 5000 indicators"
    assert lines[1].startswith("#") and not lines[1].startswith("#fields")
    assert len(text_lines(zeek_intel.render(ENTRIES[:2], INFO))) == 3


def test_zeek_fields_never_hold_a_separator() -> None:
    assert zeek_intel.field("a\tb\r\nc") == "a b c"
    assert zeek_intel.field("") == zeek_intel.field(None) == zeek_intel.field("\t") == "-"


# -- the table of formats ----------------------------------------------------------------------


def test_every_format_is_named_with_its_renderer_and_media_type() -> None:
    assert set(FORMATS) == {
        "text",
        "csv",
        "stix",
        "suricata-iprep",
        "suricata-dataset",
        "zeek",
        "misp",
    }
    for name, feed_format in FORMATS.items():
        assert feed_format.name == name and feed_format.media_type
        renderers = (feed_format.render, feed_format.render_objects, feed_format.render_files)
        assert any(renderer is not None for renderer in renderers)
        if feed_format.render is not None:
            assert isinstance(feed_format.render(ENTRIES, TRUNCATED), bytes)
        if feed_format.render_files is not None:
            files = feed_format.render_files(ENTRIES, INFO)
            if feed_format.main_path is None:  # a directory of files: misp
                assert feed_format.file_name == "" and "manifest.json" in files
            else:
                assert feed_format.main_path in files
                assert set(files) == set(feed_format.file_media_types)


def test_unknown_formats_and_uncarried_types_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"unknown feed format 'pdf'; known formats: csv, "):
        format_named("pdf")
    with pytest.raises(ValueError, match="the text format cannot carry email-addr"):
        check_feed_types("text", ["ipv4-addr", "email-addr"])
    with pytest.raises(ValueError, match="addresses or domains, not both"):
        check_feed_types("suricata-dataset", ["ipv4-addr", "domain-name"])
    with pytest.raises(ValueError, match="needs --types"):
        check_feed_types("suricata-dataset", [])
    check_feed_types("suricata-dataset", ["ipv4-addr", "ipv6-addr"])
    check_feed_types("csv", [])
