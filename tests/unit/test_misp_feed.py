"""The MISP feed as MISP's own client library reads it (PyMISP)."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymisp import MISPAttribute, MISPEvent
from pymisp.tools import feed_meta_generator

from steppe.feed_formats.entries import FeedEntry, FeedInfo
from steppe.feed_formats.misp_feed import (
    HASHES,
    MANIFEST,
    event_key,
    event_uuid,
    render_files,
    render_path,
)

T0 = 1_700_000_000_000_000  # µs
DAY = 86_400_000_000
INFO = FeedInfo(name="partners", generated=T0 + 10 * DAY, total=0, truncated=False)

HASHES_BY_ALGORITHM = {
    "MD5": ("md5", "d41d8cd98f00b204e9800998ecf8427e"),
    "SHA-1": ("sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
    "SHA-256": ("sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    "SHA-512": ("sha512", hashlib.sha512(b"").hexdigest()),
    "SHA3-256": ("sha3-256", hashlib.sha3_256(b"").hexdigest()),
    "SHA3-512": ("sha3-512", hashlib.sha3_512(b"").hexdigest()),
    "SSDEEP": ("ssdeep", "3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C"),
    "TLSH": ("tlsh", "T1" + "A" * 70),
}

IDN_DOMAIN = "xn--80ak6aa92e.com"  # пример.com, as FeedEntry carries it (IDNA)
QUERY_URL = "https://evil.example/login.php?user=a%40b&next=/x#frag"


def campaign_entries() -> list[FeedEntry]:
    common = {
        "campaign": "Winter floods",
        "campaign_id": "campaign--5b8e9a61-3f70-4a39-9d1f-07c2c6a0b6f1",
        "kind": "ddos",
        "tlp": "amber",
        "confidence": 85,
        "source": "cert-a",
    }
    return [
        FeedEntry(
            "198.51.100.0/24",
            "ipv4-addr",
            90,
            "indicator--1",
            first_seen=T0,
            last_seen=T0 + DAY,
            **common,
        ),
        FeedEntry("2001:db8::7", "ipv6-addr", 70, "indicator--2", first_seen=T0, **common),
        FeedEntry("203.0.113.9", "ipv4-addr", 50, "indicator--3", **{**common, "tlp": "green"}),
    ]


def submission_entries() -> list[FeedEntry]:
    c2 = {"kind": "malware-c2", "source": "cert-b", "tlp": "green"}
    entries = [
        FeedEntry("192.0.2.44", "ipv4-addr", 80, "indicator--10", **c2),
        FeedEntry(IDN_DOMAIN, "domain-name", 75, "indicator--11", **c2),
        FeedEntry(QUERY_URL, "url", 74, "indicator--12", **c2),
        FeedEntry("boss@phish.example", "email-addr", 60, "indicator--13", **c2),
        FeedEntry("AS64496", "autonomous-system", 40, "indicator--14", **c2),
    ]
    entries += [
        FeedEntry(value, "file", 65, f"indicator--h{i}", hash_algorithm=algorithm, **c2)
        for i, (algorithm, (_, value)) in enumerate(HASHES_BY_ALGORITHM.items())
    ]
    return entries


def all_entries() -> list[FeedEntry]:
    return campaign_entries() + submission_entries()


def load_events(files: dict[str, bytes]) -> dict[str, MISPEvent]:
    events = {}
    for path, body in files.items():
        if path in (MANIFEST, HASHES):
            continue
        event = MISPEvent()
        event.load(body)
        assert path == f"{event.uuid}.json"
        events[event.uuid] = event
    return events


def by_value(event: MISPEvent) -> dict[str, MISPAttribute]:
    return {attribute.value: attribute for attribute in event.attributes}


def test_pymisp_loads_every_event_with_the_right_types_categories_and_ids() -> None:
    files = render_files(all_entries(), INFO)
    events = load_events(files)
    assert set(events) == set(json.loads(files[MANIFEST]))
    assert len(events) == 2

    campaign = events[event_uuid(event_key(campaign_entries()[0]))]
    attributes = by_value(campaign)
    # DDoS addresses are the attackers' own: ip-src; a CIDR stays a CIDR.
    assert {v: a.type for v, a in attributes.items()} == {
        "198.51.100.0/24": "ip-src",
        "2001:db8::7": "ip-src",
        "203.0.113.9": "ip-src",
    }
    assert campaign.info == "partners: campaign Winter floods"

    submission = events[event_uuid(event_key(submission_entries()[0]))]
    attributes = by_value(submission)
    expected = {
        "192.0.2.44": "ip-dst",
        IDN_DOMAIN: "domain",
        QUERY_URL: "url",
        "boss@phish.example": "email-src",
        "64496": "AS",
        **{value: misp_type for misp_type, value in HASHES_BY_ALGORITHM.values()},
    }
    assert {v: a.type for v, a in attributes.items()} == expected

    describe = MISPAttribute().describe_types
    for event in events.values():
        for attribute in event.attributes:
            default = describe["sane_defaults"][attribute.type]
            assert attribute.type in describe["types"]
            assert attribute.category == default["default_category"]
            assert attribute.to_ids is bool(default["to_ids"])
            if attribute.type != "AS":
                assert attribute.to_ids is True


def test_tags_scores_and_seen_times_reach_pymisp() -> None:
    files = render_files(campaign_entries(), INFO)
    (event,) = load_events(files).values()
    assert [tag.name for tag in event.tags] == ["tlp:amber", 'steppe:kind="ddos"']

    attributes = by_value(event)
    cidr = attributes["198.51.100.0/24"]
    assert [tag.name for tag in cidr.tags] == ["tlp:amber", 'steppe:score="90"']
    assert "score 90" in cidr.comment and "confidence 85" in cidr.comment
    assert cidr.first_seen == datetime.fromtimestamp(T0 / 1e6, UTC)
    assert cidr.last_seen == datetime.fromtimestamp((T0 + DAY) / 1e6, UTC)
    assert cidr.timestamp == datetime.fromtimestamp((T0 + DAY) / 1e6, UTC)
    # Never seen: stamped with the feed's generation time.
    unseen = attributes["203.0.113.9"]
    assert unseen.timestamp == datetime.fromtimestamp(INFO.generated / 1e6, UTC)
    assert [tag.name for tag in unseen.tags] == ["tlp:green", 'steppe:score="50"']
    assert not hasattr(unseen, "first_seen")


def test_pymisp_feed_generator_derives_the_same_manifest_and_hashes(tmp_path: Path) -> None:
    files = render_files(all_entries(), INFO)
    for path, body in files.items():
        (tmp_path / path).write_bytes(body)
    regenerated = tmp_path / "regenerated"
    regenerated.mkdir()
    for path in files:
        if path not in (MANIFEST, HASHES):
            shutil.copy(tmp_path / path, regenerated / path)

    feed_meta_generator(regenerated)

    ours = json.loads(files[MANIFEST])
    theirs = json.loads((regenerated / MANIFEST).read_text())
    # PyMISP fills in its defaults (local, relationship_type) on every tag it loads.
    for manifest in (ours, theirs):
        for meta in manifest.values():
            meta["Tag"] = [tag["name"] for tag in meta["Tag"]]
    assert theirs == ours
    assert sorted((regenerated / HASHES).read_text().splitlines()) == sorted(
        files[HASHES].decode().splitlines()
    )


def test_hashes_csv_is_md5_of_each_value_and_its_event() -> None:
    files = render_files(all_entries(), INFO)
    expected = set()
    for uid, event in load_events(files).items():
        for attribute in event.attributes:
            expected.add(f"{hashlib.md5(attribute.value.encode()).hexdigest()},{uid}")
    lines = files[HASHES].decode().splitlines()
    assert len(lines) == len(expected) == 16
    assert set(lines) == expected
    md5_of_url = hashlib.md5(QUERY_URL.encode()).hexdigest()
    assert any(line.startswith(md5_of_url + ",") for line in lines)


def test_uuids_are_stable_across_renders_and_content_changes() -> None:
    first = load_events(render_files(all_entries(), INFO))
    later_info = FeedInfo(name="partners", generated=INFO.generated + DAY, total=0, truncated=False)
    rescored = [e._replace(score=e.score - 5) for e in reversed(all_entries())]
    later = load_events(render_files(rescored, later_info))
    assert set(later) == set(first)
    for uid, event in first.items():
        assert {a.uuid: a.value for a in event.attributes} == {
            a.uuid: a.value for a in later[uid].attributes
        }
        # A newer generation is a newer event for MISP's fetcher.
        assert later[uid].timestamp > event.timestamp


def test_the_same_entries_in_any_order_render_the_same_bytes() -> None:
    entries = all_entries()
    shuffled = entries[:]
    random.Random(7).shuffle(shuffled)
    assert render_files(shuffled, INFO) == render_files(entries, INFO)


def test_a_value_twice_in_one_event_is_one_attribute_with_its_best_score() -> None:
    low, high = campaign_entries()[0], campaign_entries()[0]
    low = low._replace(score=30)
    files = render_files([low, high], INFO)
    (event,) = load_events(files).values()
    assert len(event.attributes) == 1
    assert 'steppe:score="90"' in [tag.name for tag in event.attributes[0].tags]
    assert len(files[HASHES].decode().splitlines()) == 1


def test_each_path_renders_alone_as_in_the_whole_feed() -> None:
    entries = all_entries()
    files = render_files(entries, INFO)
    for path, body in files.items():
        assert render_path(entries, INFO, path) == body
    assert render_path(entries, INFO, "00000000-0000-0000-0000-000000000000.json") is None
    assert render_path(entries, INFO, "../etc/passwd") is None
    assert render_path([], INFO, MANIFEST) == b"{}"
    assert render_path([], INFO, HASHES) == b""


def test_an_entry_with_no_misp_type_is_refused_by_name() -> None:
    bad_hash = FeedEntry("abc", "file", 50, "indicator--bad", hash_algorithm="WHIRLPOOL")
    with pytest.raises(ValueError, match=r"indicator--bad.*WHIRLPOOL"):
        render_files([bad_hash], INFO)
    bad_tlp = FeedEntry("192.0.2.1", "ipv4-addr", 50, "indicator--tlp", tlp="purple")
    with pytest.raises(ValueError, match=r"indicator--tlp.*purple"):
        render_files([bad_tlp], INFO)


@settings(max_examples=25)
@given(
    st.lists(
        st.tuples(
            st.ip_addresses(v=4).map(str),
            st.integers(0, 100),
            st.sampled_from([None, "campaign--a", "campaign--b"]),
            st.sampled_from([None, "ddos", "phishing"]),
        ),
        max_size=12,
    )
)
def test_every_value_lands_once_in_its_event_and_in_hashes(rows: list[tuple]) -> None:
    entries = [
        FeedEntry(value, "ipv4-addr", score, f"indicator--{i}", campaign_id=cid, kind=kind)
        for i, (value, score, cid, kind) in enumerate(rows)
    ]
    files = render_files(entries, INFO)
    events = load_events(files)
    wanted = {(event_uuid(event_key(e)), e.value) for e in entries}
    got = {(uid, a.value) for uid, event in events.items() for a in event.attributes}
    assert got == wanted
    hashes = {tuple(line.split(",")) for line in files[HASHES].decode().splitlines()}
    assert hashes == {(hashlib.md5(v.encode()).hexdigest(), uid) for uid, v in wanted}
