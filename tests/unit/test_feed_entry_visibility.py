"""A feed entry names a campaign or a producer only at or below its indicator's own TLP."""

from __future__ import annotations

from pathlib import Path

import orjson

from steppe.stix import tlp
from steppe.stix.timestamps import format_stix, now_micros
from steppe.store.sqlite.store import SqliteStore
from steppe.store.write_path import STEPPE, WritePath, candidate

COLLECTION = "c"
PARTNER = "identity--5f1b7c3e-9d2a-4b8e-8f6a-0c1d2e3f4a5b"
INDICATOR = "indicator--0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d"
CAMPAIGN = "campaign--1b2c3d4e-5f6a-4b7c-9d8e-9f0a1b2c3d4e"


def stix(obj_type: str, obj_id: str, level: tlp.TlpLevel, **props) -> dict:
    stamp = format_stix(now_micros() - 3_600_000_000)
    return {
        "type": obj_type,
        "spec_version": "2.1",
        "id": obj_id,
        "created": stamp,
        "modified": stamp,
        "object_marking_refs": [level.marking_id],
        **props,
    }


def world(relationship: tlp.TlpLevel, campaign: tlp.TlpLevel, producer: tlp.TlpLevel):
    identity = stix(
        "identity", PARTNER, producer, name="Secret Partner", identity_class="organization"
    )
    indicator = stix(
        "indicator",
        INDICATOR,
        tlp.GREEN,
        created_by_ref=PARTNER,
        pattern="[ipv4-addr:value = '198.51.100.7']",
        pattern_type="stix",
        valid_from=format_stix(now_micros() - 3_600_000_000),
        confidence=80,
    )
    named = stix("campaign", CAMPAIGN, campaign, created_by_ref=PARTNER, name="Operation Hidden")
    tie = stix(
        "relationship",
        "relationship--2c3d4e5f-6a7b-4c8d-8e9f-0a1b2c3d4e5f",
        relationship,
        created_by_ref=PARTNER,
        relationship_type="indicates",
        source_ref=INDICATOR,
        target_ref=CAMPAIGN,
    )
    return identity, indicator, named, tie


def detail_after(tmp_path: Path, writes: list[list[dict]]) -> dict:
    tmp_path.mkdir(parents=True, exist_ok=True)
    store = SqliteStore(tmp_path)
    try:
        path = WritePath(store, store, "identity--steppe", store)
        for objects in writes:
            result = path.write(COLLECTION, [candidate(o, tlp.CLEAR.rank) for o in objects], STEPPE)
            assert not result.refused
        [entry] = store.get_feed_entries(COLLECTION, [INDICATOR])
        assert entry.tlp == tlp.GREEN.rank
        return orjson.loads(entry.detail)
    finally:
        store.close()


def test_a_campaign_and_producer_at_the_indicators_level_are_named(tmp_path: Path):
    objects = list(world(tlp.GREEN, tlp.GREEN, tlp.CLEAR))
    detail = detail_after(tmp_path, [objects])
    assert detail["campaign_id"] == CAMPAIGN and detail["campaign"] == "Operation Hidden"
    assert detail["source"] == "Secret Partner"


def test_a_stricter_tie_campaign_or_producer_is_not_named(tmp_path: Path):
    for levels in (
        (tlp.AMBER, tlp.GREEN, tlp.AMBER),  # the tie is AMBER
        (tlp.GREEN, tlp.AMBER, tlp.AMBER),  # the campaign is AMBER
    ):
        identity, indicator, named, tie = world(*levels)
        # in one write, and with the tie arriving after the indicator
        for writes in ([[identity, indicator, named, tie]], [[identity, indicator], [named, tie]]):
            folder = tmp_path / f"{levels[0].name}-{levels[1].name}-{len(writes)}"
            detail = detail_after(folder, writes)
            assert "campaign_id" not in detail and "campaign" not in detail, (levels, writes)
            assert "source" not in detail  # the producer's identity is AMBER too
