"""The observable index: value occurrences, CIDR prefixes, groups, link evidence,
campaign links, campaign records and false positives (port: ObservableIndex).

The data is the January 2009 DDoS seen from two reports: documentation
addresses (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32),
private-use AS numbers (64496-64511) and example.org names.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from steppe.store.port import (
    CampaignLink,
    CampaignRecord,
    EvidenceScope,
    FalsePositive,
    GroupHit,
    GroupMember,
    IndexedValue,
    Store,
)
from steppe.store.sqlite import SqliteStore

DAY = 86_400_000_000
HOUR = 3_600_000_000
JAN_18 = 1_232_236_800_000_000  # 2009-01-18T00:00:00Z
FEED = "7d1b3c0e-5c8a-4b7e-9a51-0f2e4d6c8b10"
PARTNER_FEED = "0b6f2d4e-1a3c-4e5f-8a7b-9c0d1e2f3a4b"
BISHKEK_CERT = "identity--5f2a9d0c-3b1e-4c7d-8e6f-0a1b2c3d4e5f"
REPORT = "submission:3f9c8e2a-6d4b-4a1c-9e7f-2b5d8c0a1e3f"
PARTNER_POST = "taxii:c4e1a7b2-9d3f-4e6a-8b0c-1d2e3f4a5b6c"
_NAMES = uuid.UUID("1b671a64-40d5-491e-99b0-da01ff1f3341")


def stix_id(kind: str, name: str) -> str:
    return f"{kind}--{uuid.uuid5(_NAMES, name)}"


DDOS_2009 = stix_id("campaign", "Kyrgyzstan DDoS, January 2009")
DDOS_2008 = stix_id("campaign", "Georgia DDoS, August 2008")
PHISHING = stix_id("campaign", "example.org phishing wave")


def ipv4(address: str) -> str:
    return f"ipv4-addr:{address}"


def seen(
    key: str,
    name: str | None = None,
    *,
    campaign: str | None = DDOS_2009,
    collection: str = FEED,
    source: str = REPORT,
    first: int = JAN_18,
    last: int | None = None,
    tlp: int = 1,
) -> IndexedValue:
    """One occurrence of `key`, carried by the indicator named `name` (default: the key)."""
    return IndexedValue(
        key=key,
        collection_id=collection,
        object_id=stix_id("indicator", name or key),
        campaign_id=campaign,
        source=source,
        producer=BISHKEK_CERT,
        tlp=tlp,
        first_seen=first,
        last_seen=first + HOUR if last is None else last,
    )


def identity(value: IndexedValue) -> tuple[str, str, str]:
    return value.collection_id, value.object_id, value.source


# -- value occurrences ----------------------------------------------------------------


def test_indexing_again_changes_nothing(store):
    values = [
        seen(ipv4("198.51.100.7")),
        seen(
            ipv4("198.51.100.7"), source=PARTNER_POST, collection=PARTNER_FEED, first=JAN_18 + DAY
        ),
        seen("domain-name:ddos.example.org", campaign=None),
    ]
    store.index_values(values)
    keys = [ipv4("198.51.100.7"), "domain-name:ddos.example.org"]
    before = store.find_values(keys)
    campaign_before = store.campaign_values(DDOS_2009)
    # The same occurrences again, then the same identities with other details:
    # the first write of an identity stands.
    store.index_values(values)
    store.index_values(
        [
            value._replace(first_seen=JAN_18 - 30 * DAY, last_seen=JAN_18 + 9 * DAY, tlp=3)
            for value in values
        ]
    )
    assert store.find_values(keys) == before
    assert store.campaign_values(DDOS_2009) == campaign_before
    assert before == {
        ipv4("198.51.100.7"): values[:2],
        "domain-name:ddos.example.org": [values[2]],
    }
    assert campaign_before == sorted(values[:2], key=lambda v: (v.key, *identity(v)))


def test_find_values_orders_each_key_by_first_seen_then_identity(store):
    key = ipv4("203.0.113.5")
    late = seen(key, "late", first=JAN_18 + 2 * DAY)
    early = seen(key, "early", first=JAN_18 - DAY, campaign=DDOS_2008)
    # Same first_seen: collection, then object, then source decide.
    tie_b = seen(key, "tie", collection=PARTNER_FEED, first=JAN_18)
    tie_a_report = seen(key, "tie", first=JAN_18)
    tie_a_post = seen(key, "tie", first=JAN_18, source=PARTNER_POST)
    other_key = seen(ipv4("203.0.113.6"), first=JAN_18)
    store.index_values([late, tie_b, other_key, tie_a_post, early, tie_a_report])

    ties = sorted([tie_b, tie_a_report, tie_a_post], key=identity)
    expected = [early, *ties, late]
    found = store.find_values([key, "domain-name:never-seen.example.org", key])
    assert found == {key: expected}
    assert store.find_values([key], limit_per_key=2) == {key: expected[:2]}
    assert store.find_values([key, ipv4("203.0.113.6")], limit_per_key=1) == {
        key: expected[:1],
        ipv4("203.0.113.6"): [other_key],
    }
    assert store.find_values(["domain-name:never-seen.example.org"]) == {}
    assert store.find_values([]) == {}


def test_campaign_values_pages_by_key_with_every_occurrence_of_the_last_key(store):
    addresses = [ipv4(f"192.0.2.{n}") for n in (10, 11, 12, 13, 14)]
    values = []
    for n, key in enumerate(addresses):
        # 192.0.2.11 was reported three times: by two indicators, and by a partner.
        copies = 3 if n == 1 else 1
        for copy in range(copies):
            values.append(
                seen(
                    key,
                    f"{key} #{copy % 2}",
                    source=PARTNER_POST if copy == 2 else REPORT,
                    first=JAN_18 + n * HOUR,
                )
            )
    noise = [
        seen(ipv4("192.0.2.10"), "other campaign", campaign=DDOS_2008),
        seen(ipv4("192.0.2.99"), "no campaign", campaign=None),
    ]
    store.index_values(list(reversed(values)) + noise)
    ordered = sorted(values, key=lambda v: (v.key, *identity(v)))

    assert store.campaign_values(DDOS_2009) == ordered
    # A limit that falls inside a key's occurrences brings all of that key's.
    first = store.campaign_values(DDOS_2009, limit=2)
    assert first == ordered[:4]
    assert {v.key for v in first} == set(addresses[:2])
    rest = store.campaign_values(DDOS_2009, limit=2, after=first[-1].key)
    assert rest == ordered[4:6]
    last = store.campaign_values(DDOS_2009, limit=2, after=rest[-1].key)
    assert last == ordered[6:]
    assert store.campaign_values(DDOS_2009, limit=2, after=last[-1].key) == []
    # `after` need not be a stored key.
    assert store.campaign_values(DDOS_2009, after=ipv4("192.0.2.115")) == ordered[4:]
    assert store.campaign_values(DDOS_2008) == [noise[0]]
    assert store.campaign_values(PHISHING) == []


# -- CIDR prefix lengths --------------------------------------------------------------


def test_cidr_prefix_lengths_accumulate_per_family(store):
    assert store.cidr_prefixes() == {}
    store.add_cidr_prefixes("ipv4", [24, 16])
    store.add_cidr_prefixes("ipv4", iter([24, 28]))
    store.add_cidr_prefixes("ipv6", {48})
    store.add_cidr_prefixes("ipv6", [])
    store.add_cidr_prefixes("ipv6", [48, 32])
    assert store.cidr_prefixes() == {
        "ipv4": frozenset({16, 24, 28}),
        "ipv6": frozenset({32, 48}),
    }


# -- groups ---------------------------------------------------------------------------

NET = "net:198.51.100.0/24"
AS_64500 = "asn:64500"


def member(group: str, campaign: str, key: str, tlp: int = 1) -> GroupMember:
    return GroupMember(group, campaign, FEED, tlp, key)


def test_groups_count_each_campaigns_members_once(store):
    mine = [ipv4(f"198.51.100.{n}") for n in range(1, 8)]
    theirs = [ipv4("198.51.100.200"), ipv4("198.51.100.201")]
    store.index_groups(
        [member(NET, DDOS_2009, key) for key in mine[:4]]
        + [member(NET, DDOS_2008, key, tlp=2) for key in theirs]
        + [member(AS_64500, DDOS_2009, key) for key in mine[:2]]
    )
    # Again, overlapping: only 198.51.100.5-7 are new.
    store.index_groups([member(NET, DDOS_2009, key) for key in mine[2:]] * 2)

    hits = store.find_groups([NET, AS_64500, "asn:64511", NET], limit_per_campaign=3)
    assert set(hits) == {NET, AS_64500}
    assert [hit.campaign_id for hit in hits[NET]] == sorted([DDOS_2009, DDOS_2008])
    by_campaign = {hit.campaign_id: hit for hit in hits[NET]}
    ours = by_campaign[DDOS_2009]
    assert (ours.group, ours.collection_id, ours.tlp, ours.count) == (NET, FEED, 1, 7)
    assert len(ours.keys) == 3 and ours.keys <= set(mine)
    assert by_campaign[DDOS_2008] == GroupHit(NET, DDOS_2008, FEED, 2, frozenset(theirs), 2)
    assert hits[AS_64500] == [GroupHit(AS_64500, DDOS_2009, FEED, 1, frozenset(mine[:2]), 2)]

    everything = store.find_groups([NET], limit_per_campaign=50)[NET]
    assert {hit.campaign_id: hit.keys for hit in everything} == {
        DDOS_2009: frozenset(mine),
        DDOS_2008: frozenset(theirs),
    }
    assert store.find_groups([]) == {}


def test_a_campaigns_members_in_other_collections_or_at_other_tlps_are_kept_apart(store):
    login = "domain-name:login.example.org"
    store.index_groups([member(AS_64500, PHISHING, login, tlp=1)])
    store.index_groups(
        [
            GroupMember(AS_64500, PHISHING, PARTNER_FEED, 3, login),
            GroupMember(AS_64500, PHISHING, FEED, 4, "domain-name:mail.example.org"),
        ]
    )
    store.index_groups([member(AS_64500, PHISHING, login, tlp=1)])  # again: nothing new
    hits = store.find_groups([AS_64500])[AS_64500]
    assert [(hit.collection_id, hit.tlp, hit.count, hit.keys) for hit in hits] == sorted(
        [
            (FEED, 1, 1, frozenset([login])),
            (FEED, 4, 1, frozenset(["domain-name:mail.example.org"])),
            (PARTNER_FEED, 3, 1, frozenset([login])),
        ]
    )


# -- link evidence --------------------------------------------------------------------


GREEN_FEED = EvidenceScope((FEED,), 1)
RED_FEED = EvidenceScope((FEED,), 4)
ACROSS = EvidenceScope((PARTNER_FEED, FEED), 1)


def test_link_evidence_is_a_set_union_per_unordered_pair_strength_and_scope(store):
    pair = (DDOS_2009, DDOS_2008)
    shared = [ipv4(f"203.0.113.{n}") for n in (9, 3, 7, 1)]
    assert store.link_evidence(pair, "exact", [GREEN_FEED]) == {}
    store.add_link_evidence(pair, "exact", [GREEN_FEED, RED_FEED], shared[:3])
    store.add_link_evidence(
        (DDOS_2008, DDOS_2009), "exact", [GREEN_FEED], iter(shared[1:] + shared[1:])
    )
    store.add_link_evidence(pair, "exact", [ACROSS], [ipv4("192.0.2.1")])
    store.add_link_evidence(pair, "network", [GREEN_FEED], [NET])
    store.add_link_evidence(pair, "asn", [GREEN_FEED], [])

    assert store.link_evidence(pair, "exact", [GREEN_FEED, RED_FEED, ACROSS]) == {
        GREEN_FEED: (4, sorted(shared)),
        RED_FEED: (3, sorted(shared[:3])),
        ACROSS: (1, [ipv4("192.0.2.1")]),
    }
    assert store.link_evidence((DDOS_2008, DDOS_2009), "exact", [GREEN_FEED], limit=2) == {
        GREEN_FEED: (4, sorted(shared)[:2])
    }
    assert store.link_evidence(pair, "exact", [EvidenceScope((FEED,), 2)]) == {}
    assert store.link_evidence(pair, "network", [GREEN_FEED, RED_FEED]) == {GREEN_FEED: (1, [NET])}
    assert store.link_evidence(pair, "asn", [GREEN_FEED]) == {}
    assert store.link_evidence((DDOS_2009, PHISHING), "exact", [GREEN_FEED]) == {}
    assert store.link_evidence(pair, "exact", []) == {}


def test_concurrent_evidence_writers_count_each_key_once(store):
    pair = (DDOS_2009, PHISHING)
    common = [ipv4(f"192.0.2.{n}") for n in range(20)]
    writers = 4
    gate = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(writer: int) -> None:
        try:
            gate.wait()
            own = [ipv4(f"198.51.100.{writer * 10 + n}") for n in range(5)]
            store.add_link_evidence(pair, "exact", [GREEN_FEED, RED_FEED], common + own)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    found = store.link_evidence(pair, "exact", [GREEN_FEED, RED_FEED], limit=1000)
    for count, keys in found.values():
        assert count == len(keys) == len(common) + writers * 5
    assert set(found) == {GREEN_FEED, RED_FEED}


# -- campaign links -------------------------------------------------------------------


def link(campaign: str, other: str, strength: str, count: int, **fields: Any) -> CampaignLink:
    rel = stix_id("relationship", f"{min(campaign, other)} {max(campaign, other)} {strength}")
    return CampaignLink(
        campaign_id=campaign,
        other_id=other,
        strength=strength,  # type: ignore[arg-type]
        count=count,
        sample=fields.get("sample", (ipv4("203.0.113.1"),)),
        confidence=fields.get("confidence", 30),
        relationship_id=fields.get("relationship_id", rel),
        collection_ids=fields.get("collection_ids", (FEED,)),
        tlp=fields.get("tlp", 1),
        modified=fields.get("modified", JAN_18),
    )


def test_campaign_links_are_replaced_per_scope_and_listed_in_order(store):
    store.put_campaign_links(
        [link(a, b, "exact", 1) for a, b in ((DDOS_2009, DDOS_2008), (DDOS_2008, DDOS_2009))]
    )
    store.put_campaign_links(
        [
            link(DDOS_2009, PHISHING, "asn", 1, tlp=2),
            link(DDOS_2009, DDOS_2008, "network", 1),
            link(DDOS_2009, DDOS_2008, "exact", 2, tlp=4, relationship_id=""),
            link(DDOS_2009, DDOS_2008, "exact", 1, collection_ids=(PARTNER_FEED, FEED)),
        ]
    )
    stronger = link(
        DDOS_2009,
        DDOS_2008,
        "exact",
        3,
        sample=(ipv4("203.0.113.1"), ipv4("203.0.113.2"), ipv4("203.0.113.3")),
        confidence=55,
        modified=JAN_18 + DAY,
    )
    store.put_campaign_links([stronger])  # replaces the link of its scope only
    store.put_campaign_links([])

    expected = sorted(
        [
            stronger,
            link(DDOS_2009, DDOS_2008, "exact", 2, tlp=4, relationship_id=""),
            link(DDOS_2009, DDOS_2008, "exact", 1, collection_ids=(PARTNER_FEED, FEED)),
            link(DDOS_2009, DDOS_2008, "network", 1),
            link(DDOS_2009, PHISHING, "asn", 1, tlp=2),
        ],
        key=lambda entry: (entry.other_id, entry.strength, entry.collection_ids, entry.tlp),
    )
    assert store.campaign_links(DDOS_2009) == expected
    assert store.campaign_links(DDOS_2008) == [link(DDOS_2008, DDOS_2009, "exact", 1)]
    assert store.campaign_links(PHISHING) == []


# -- campaign records -----------------------------------------------------------------


def record(campaign: str, **fields: Any) -> CampaignRecord:
    defaults: dict[str, Any] = {
        "name": "Kyrgyzstan DDoS, January 2009",
        "collection_id": FEED,
        "tlp": 1,
        "producer": BISHKEK_CERT,
        "first_seen": JAN_18,
        "last_seen": JAN_18 + DAY,
        "modified": JAN_18 + 2 * DAY,
        "values": 40,
        "targets": ("Kyrgyz ISPs",),
    }
    return CampaignRecord(id=campaign, **{**defaults, **fields})


def test_put_campaign_merges_as_the_port_says(store):
    first = record(DDOS_2009, targets=("Elcat", "Kyrgyz ISPs", "Elcat"))
    stored = store.put_campaign(first)
    assert stored == record(DDOS_2009, targets=("Elcat", "Kyrgyz ISPs"))
    assert store.get_campaign(DDOS_2009) == [stored]

    later = record(
        DDOS_2009,
        name="Kyrgyzstan DDoS (January 2009)",
        producer=stix_id("identity", "partner CERT"),
        first_seen=JAN_18 - DAY,  # earlier: taken
        last_seen=JAN_18 + 12 * HOUR,  # earlier: not taken
        modified=JAN_18 + DAY,  # earlier: not taken
        values=12,  # fewer: not taken
        targets=("Kyrgyz ISPs", "Domain Technologies"),
    )
    merged = store.put_campaign(later)
    assert merged == CampaignRecord(
        id=DDOS_2009,
        name="Kyrgyzstan DDoS (January 2009)",
        collection_id=FEED,
        tlp=1,
        producer=stix_id("identity", "partner CERT"),
        first_seen=JAN_18 - DAY,
        last_seen=JAN_18 + DAY,
        modified=JAN_18 + 2 * DAY,
        values=40,
        targets=("Elcat", "Kyrgyz ISPs", "Domain Technologies"),
    )
    assert store.get_campaign(DDOS_2009) == [merged]
    grown = store.put_campaign(
        replace(later, last_seen=JAN_18 + 3 * DAY, modified=JAN_18 + 3 * DAY, values=41, targets=())
    )
    assert (grown.last_seen, grown.modified, grown.values) == (JAN_18 + 3 * DAY,) * 2 + (41,)
    assert grown.targets == merged.targets
    assert store.get_campaign(PHISHING) == []
    assert store.get_campaigns([PHISHING, DDOS_2009, DDOS_2009]) == {DDOS_2009: [grown]}


def test_a_campaigns_kind_round_trips_and_an_unknown_kind_keeps_the_known_one(store):
    assert store.put_campaign(record(DDOS_2009)).kind == ""  # a partner's: kind unknown
    stored = store.put_campaign(record(DDOS_2009, kind="ddos"))
    assert stored.kind == "ddos"
    # A later chunk of the same report carries no attack pattern: the kind stays.
    later = store.put_campaign(record(DDOS_2009, values=41, modified=JAN_18 + 3 * DAY))
    assert later.kind == "ddos" and later.values == 41
    assert [r.kind for r in store.get_campaign(DDOS_2009)] == ["ddos"]
    assert [r.kind for r in store.list_campaigns()] == ["ddos"]
    assert store.put_campaign(record(DDOS_2009, kind="phishing")).kind == "phishing"
    phishing = store.put_campaign(record(PHISHING, kind="phishing", tlp=2))
    assert store.get_campaigns([PHISHING, DDOS_2009]) == {
        DDOS_2009: [replace(later, kind="phishing")],
        PHISHING: [phishing],
    }


def test_what_other_collections_and_tlps_say_of_a_campaign_is_kept_apart(store):
    green = store.put_campaign(record(DDOS_2009, targets=("Kyrgyz ISPs",)))
    red = store.put_campaign(
        record(DDOS_2009, tlp=4, first_seen=JAN_18 - 9 * DAY, targets=("Elcat",))
    )
    theirs = store.put_campaign(
        record(DDOS_2009, collection_id=PARTNER_FEED, name="their name", targets=())
    )
    assert green.targets == ("Kyrgyz ISPs",) and green.first_seen == JAN_18
    assert red.targets == ("Elcat",)
    expected = sorted([green, red, theirs], key=lambda r: (r.collection_id, r.tlp))
    assert store.get_campaign(DDOS_2009) == expected
    assert store.get_campaigns([DDOS_2009, PHISHING]) == {DDOS_2009: expected}
    assert store.list_campaigns() == expected


def test_list_campaigns_pages_by_id(store):
    ids = sorted(stix_id("campaign", f"wave {n}") for n in range(7))
    for campaign in reversed(ids):
        store.put_campaign(record(campaign, name=f"wave of {campaign[-4:]}"))
    assert [c.id for c in store.list_campaigns()] == ids
    pages, after = [], None
    for _ in range(len(ids) + 1):  # bounded: a wrong `after` must fail, not loop
        page = store.list_campaigns(limit=3, after=after)
        if not page:
            break
        pages.append([c.id for c in page])
        after = page[-1].id
    assert pages == [ids[:3], ids[3:6], ids[6:]]
    assert store.list_campaigns(limit=2, after="campaign--") == [
        record for i in ids[:2] for record in store.get_campaign(i)
    ]


def test_list_campaigns_hands_every_record_of_its_last_campaign_in_one_call(store):
    ids = sorted(stix_id("campaign", f"wave {n}") for n in range(4))
    for campaign in ids:
        for tlp in (1, 2, 4):
            store.put_campaign(record(campaign, tlp=tlp))
    seen_ids: list[str] = []
    after = None
    for _ in range(len(ids) * 3 + 1):
        page = store.list_campaigns(limit=4, after=after)
        if not page:
            break
        assert len(page) % 3 == 0  # never a campaign cut in two
        seen_ids += [r.id for r in page]
        after = page[-1].id
    assert seen_ids == [i for i in ids for _ in range(3)]


# -- false positives ------------------------------------------------------------------


def test_false_positives_can_be_declared_replaced_found_listed_and_removed(store):
    resolver = FalsePositive(
        "ipv4-addr:192.0.2.53", "the ISP's resolver", "analyst-bishkek", JAN_18
    )
    cdn = FalsePositive(
        "domain-name:cdn.example.org", "shared CDN", "analyst-bishkek", JAN_18, (FEED,), 4
    )
    store.put_false_positive(resolver)
    store.put_false_positive(cdn)
    replaced = FalsePositive(
        resolver.key, "public resolver", "analyst-osh", JAN_18 + DAY, (PARTNER_FEED, FEED), 2
    )
    store.put_false_positive(replaced)

    assert store.find_false_positives([resolver.key, "url:http://example.org/", cdn.key]) == {
        resolver.key: replaced,
        cdn.key: cdn,
    }
    assert store.find_false_positives([]) == {}
    assert store.list_false_positives() == [cdn, replaced]  # by key
    assert store.list_false_positives(limit=1) == [cdn]
    assert store.remove_false_positive(cdn.key) is True
    assert store.remove_false_positive(cdn.key) is False
    assert store.list_false_positives() == [replaced]
    assert store.find_false_positives([cdn.key]) == {}


# -- keys with any characters ---------------------------------------------------------

LONG_PATH = "http://example.org/" + "a/" * 1500
ODD_KEYS = [
    "url:http://example.org/a",
    "url:http://example.org/a b",
    "url:http://example.org/a!b",
    'url:http://example.org/a"b',
    "url:http://example.org/a\tb",
    "url:http://example.org/a#frag",
    "url:http://example.org/a/b?q=1:2#x",
    "url:http://example.org/ä",
    "email-addr:админ@example.org",
    "domain-name:例え.example.org",
    "url:http://example.org/a😀",
    "",
]
LONG_KEYS = ["url:" + LONG_PATH, "url:" + LONG_PATH + "b", "url:" + LONG_PATH + "c"]


def test_keys_and_ids_may_hold_any_characters(store):
    odd_campaign = "campaign--odd#id with spaces/and:colons"
    values = [
        seen(key, f"odd {n}", campaign=odd_campaign, source="submission:a b#c")
        for n, key in enumerate(ODD_KEYS + LONG_KEYS)
    ]
    store.index_values(values)

    found = store.find_values(ODD_KEYS + LONG_KEYS + ["url:http://example.org/a "])
    assert found == {value.key: [value] for value in values}
    listed = store.campaign_values(odd_campaign)
    assert sorted(listed) == sorted(values)
    # Short keys come in key order (very long ones sort by a prefix, then a hash).
    assert [v.key for v in listed if v.key in ODD_KEYS] == sorted(ODD_KEYS)
    # Paging one key at a time visits every key exactly once.
    visited: list[str] = []
    after = None
    for _ in range(len(values) + 1):  # bounded: a wrong `after` must fail, not loop
        page = store.campaign_values(odd_campaign, limit=1, after=after)
        if not page:
            break
        assert len({v.key for v in page}) == 1
        visited.append(page[0].key)
        after = page[-1].key
    assert sorted(visited) == sorted(ODD_KEYS + LONG_KEYS)

    for key in ODD_KEYS + LONG_KEYS:
        store.put_false_positive(FalsePositive(key, "test: " + key[:20], "analyst", JAN_18))
    assert set(store.find_false_positives(LONG_KEYS[:2])) == set(LONG_KEYS[:2])
    listed_keys = [fp.key for fp in store.list_false_positives()]
    assert sorted(listed_keys) == sorted(ODD_KEYS + LONG_KEYS)
    assert [k for k in listed_keys if k in ODD_KEYS] == sorted(ODD_KEYS)
    assert store.remove_false_positive(LONG_KEYS[1]) is True
    assert store.remove_false_positive(LONG_KEYS[1]) is False

    group = "net:" + LONG_PATH
    store.index_groups([member(group, odd_campaign, key) for key in ODD_KEYS + LONG_KEYS])
    [hit] = store.find_groups([group], limit_per_campaign=100)[group]
    assert (hit.campaign_id, hit.count, hit.keys) == (
        odd_campaign,
        len(ODD_KEYS) + 3,
        frozenset(ODD_KEYS + LONG_KEYS),
    )
    odd_scope = EvidenceScope(("a b", "a#b!c"), 1)
    store.add_link_evidence(
        (odd_campaign, "campaign--a#b"), "exact", [odd_scope], ODD_KEYS + LONG_KEYS
    )
    [(count, sample)] = store.link_evidence(
        ("campaign--a#b", odd_campaign), "exact", [odd_scope], limit=100
    ).values()
    assert count == len(ODD_KEYS) + 3 and sorted(sample) == sorted(ODD_KEYS + LONG_KEYS)
    # Pairs and scopes that would spell the same if simply joined stay apart.
    store.add_link_evidence(
        ("campaign--1#campaign--2", "campaign--3"), "exact", [GREEN_FEED], ["asn:64496"]
    )
    assert (
        store.link_evidence(("campaign--1", "campaign--2#campaign--3"), "exact", [GREEN_FEED]) == {}
    )
    assert (
        store.link_evidence(
            ("campaign--1#campaign--2", "campaign--3"), "exact", [EvidenceScope(("a b",), 1)]
        )
        == {}
    )
    assert store.link_evidence(
        ("campaign--1#campaign--2", "campaign--3"), "exact", [GREEN_FEED]
    ) == {GREEN_FEED: (1, ["asn:64496"])}

    store.put_campaign(record(odd_campaign))
    store.put_campaign(record(odd_campaign + " "))
    store.put_campaign(record(odd_campaign + "!"))
    ids = [c.id for c in store.list_campaigns(after=odd_campaign[:-1])]
    assert ids == sorted([odd_campaign, odd_campaign + " ", odd_campaign + "!"])
    assert [c.id for c in store.list_campaigns(after=odd_campaign)] == ids[1:]


# -- scale: one call for a thousand keys ----------------------------------------------


@contextmanager
def operations(store: Store) -> Iterator[list[str]]:
    """What the store sends to its engine meanwhile: SQL statements, or DynamoDB operations."""
    seen_operations: list[str] = []
    if isinstance(store, SqliteStore):
        conn = store.database.connection()
        conn.set_trace_callback(seen_operations.append)
        try:
            yield seen_operations
        finally:
            conn.set_trace_callback(None)
        return
    client = store.table.client  # type: ignore[attr-defined]

    def record_call(model: Any, **_: Any) -> None:
        seen_operations.append(model.name)

    client.meta.events.register("before-call.dynamodb", record_call)
    try:
        yield seen_operations
    finally:
        client.meta.events.unregister("before-call.dynamodb", record_call)


def test_a_thousand_keys_are_found_in_one_call_whose_cost_follows_the_hits(store):
    # moto reads its whole table for every Query: the AWS index holds fewer values
    # (the call under test, a thousand keys at once, is the same).
    known = 2_500 if isinstance(store, SqliteStore) else 100
    addresses = [f"198.51.{100 + n // 250}.{n % 250}" for n in range(known)]
    values = []
    for n, address in enumerate(addresses):
        key = ipv4(address)
        values.append(seen(key, first=JAN_18 + n))
        values.append(seen(key, source=PARTNER_POST, collection=PARTNER_FEED, first=JAN_18 - n))
    with operations(store) as writes:
        store.index_values(values)
    if isinstance(store, SqliteStore):
        assert len(writes) == 1  # one INSERT ... SELECT FROM json_each
    store.index_values(values[: len(values) // 2])  # idempotent at scale too

    hits = [ipv4(address) for address in addresses[: min(known, 500)]]
    misses = [f"ipv6-addr:2001:db8::{n:x}" for n in range(1_000 - len(hits))]
    probe = hits + misses
    with operations(store) as reads:
        found = store.find_values(probe, limit_per_key=5)
    assert set(found) == set(hits)
    for key in hits:
        n = addresses.index(key.split(":", 1)[1])
        assert [(v.collection_id, v.first_seen) for v in found[key]] == [
            (PARTNER_FEED, JAN_18 - n),
            (FEED, JAN_18 + n),
        ]
    if isinstance(store, SqliteStore):
        assert len(reads) == 1
    else:
        # Presence of every key in batches of 100, then one Query per key found.
        assert sorted(set(reads)) == ["BatchGetItem", "Query"]
        assert reads.count("BatchGetItem") == 10
        assert reads.count("Query") == len(hits)
