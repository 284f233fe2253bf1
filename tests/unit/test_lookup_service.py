"""The lookup service on the embedded store: how many store calls a bulk lookup makes, and
what a caller learns of a campaign it may not see."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from steppe.access.caller import Caller
from steppe.config import Settings
from steppe.correlate import lookup
from steppe.correlate.lookup import LookupService, shared_display
from steppe.observables.correlation_keys import network_group, probe_keys
from steppe.runtime import Services, lookup_service
from steppe.stix.timestamps import parse_micros
from steppe.store.port import CampaignRecord, GroupMember, IndexedValue
from steppe.store.sqlite import SqliteStore

COLLECTION = "0b7a9a4e-6f0c-4c1e-9d0b-1f6f3a5c2e11"
T0 = parse_micros("2009-01-18T00:00:00Z")
CAMPAIGN = "campaign--1e0f3c52-5a54-4a51-8f4e-3c8f2f4b9a10"
AMBER_CAMPAIGN = "campaign--2b6c8d1e-8f7a-4c3b-9e2d-5a6b7c8d9e0f"


class Counting:
    """The real store, counting the calls made to it."""

    def __init__(self, store: SqliteStore) -> None:
        self._store = store
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._store, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            return method(*args, **kwargs)

        return counted


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    opened = SqliteStore(tmp_path)
    yield opened
    opened.close()


def service(tmp_path: Path, store: Any) -> LookupService:
    settings = Settings.from_env({"STEPPE_DATA_DIR": str(tmp_path)})
    return lookup_service(Services(settings, store, None, None, None))  # type: ignore[arg-type]


def caller(clearance: int, role: str = "partner") -> Caller:
    return Caller("someone", role, clearance, frozenset({COLLECTION}), frozenset(), None)


def occurrence(key: str, campaign: str | None, tlp: int = 1, n: int = 0) -> IndexedValue:
    return IndexedValue(
        key,
        COLLECTION,
        f"indicator--00000000-0000-4000-8000-{n:012d}",
        campaign,
        "submission:s1",
        "identity--00000000-0000-4000-8000-000000000000",
        tlp,
        T0,
        T0,
    )


def campaign(campaign_id: str, name: str, tlp: int) -> CampaignRecord:
    return CampaignRecord(campaign_id, name, COLLECTION, tlp, "identity--x", T0, T0, T0, 1)


def test_a_bulk_lookup_makes_a_bounded_number_of_store_calls(
    tmp_path: Path, store: SqliteStore, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(lookup, "KEY_BATCH", 1000)
    store.index_values(
        [occurrence(f"ipv4-addr:198.51.100.{i}", CAMPAIGN, n=i) for i in range(1, 200)]
        + [occurrence("ipv4-addr:203.0.113.0/24", CAMPAIGN, n=999)]
    )
    store.add_cidr_prefixes("ipv4-addr", [24])
    store.index_groups(
        [
            GroupMember("net:198.51.100.0/24", CAMPAIGN, COLLECTION, 1, f"ipv4-addr:198.51.100.{i}")
            for i in range(1, 200)
        ]
    )
    store.put_campaign(campaign(CAMPAIGN, "Kyrgyzstan", 1))
    counting = Counting(store)
    values = (
        [f"198.51.100.{i}" for i in range(256)]
        + [f"203.0.113.{i}" for i in range(256)]
        + [f"192.0.2.{i}" for i in range(256)]
        + [f"host{i}.example.org" for i in range(1500)]
        + [f"2001:db8::{i:x}" for i in range(1500)]
        + ["198.51.100.0/28", "AS64500"]
    )
    results = service(tmp_path, counting).lookup(values, caller(1))
    assert len(results) == len(values)
    assert sum(r["found"] for r in results) == 199 + 256 + 1  # exact, within, the /28
    # 3,770 keys and the three /24s that could contain an IPv4 address: 3,773
    # probes in batches of 1,000. The /28's contents were probed already, and
    # the groups (three /24s, one /48, the AS) fit in one call; the scores of the
    # indicators found, one read per collection.
    assert counting.calls == {
        "cidr_prefixes": 1,
        "find_values": 4,
        "find_groups": 1,
        "find_false_positives": 1,
        "get_campaigns": 1,
        "get_feed_entries": 1,
    }


def test_a_value_in_a_campaign_the_caller_may_not_see_names_no_campaign(
    tmp_path: Path, store: SqliteStore
):
    # A GREEN indicator reported in an AMBER campaign.
    store.index_values([occurrence("domain-name:c2.example.org", AMBER_CAMPAIGN, tlp=1)])
    store.put_campaign(campaign(AMBER_CAMPAIGN, "Operation Secret", 2))
    lookups = service(tmp_path, store)
    [green] = lookups.lookup(["c2.example.org"], caller(1))
    assert green["found"] is True and green["count"] == 1
    assert green["campaigns"] == [] and green["matches"][0]["campaigns"] == []
    assert AMBER_CAMPAIGN not in repr(green) and "Operation Secret" not in repr(green)
    [amber] = lookups.lookup(["c2.example.org"], caller(2))
    assert [c["name"] for c in amber["campaigns"]] == ["Operation Secret"]
    # Without read access to the collection, not even the occurrence.
    outsider = Caller("other", "partner", 4, frozenset(), frozenset(), None)
    [nothing] = lookups.lookup(["c2.example.org"], outsider)
    assert nothing["found"] is False and nothing["count"] == 0


def test_shared_evidence_reads_as_people_write_it():
    assert shared_display("ipv4-addr:198.51.100.7") == "198.51.100.7"
    assert shared_display("net:198.51.100.0/24") == "198.51.100.0/24"
    assert shared_display("net:2001:db8:4::/48") == "2001:db8:4::/48"
    assert shared_display("asn:64500") == "AS64500"
    assert shared_display("file:SHA-256:" + "a" * 64) == "SHA-256 " + "a" * 64


def test_the_ipv4_address_shortcut_probes_what_probe_keys_would():
    prefixes = {"ipv4-addr": frozenset({0, 8, 16, 22, 24, 29, 31, 32})}
    for address in ("0.0.0.0", "192.0.2.1", "198.51.100.255", "203.0.113.128", "255.255.255.255"):
        key = f"ipv4-addr:{address}"
        plan = lookup._plan(key, prefixes)
        assert plan.probes == probe_keys(key, prefixes)
        assert plan.group == network_group(key) and plan.container is False
