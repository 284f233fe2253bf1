"""Campaigns over the API, on both shapes: the listing, the campaign view, what links them.

The index is seeded through the store as correlation leaves it
(tests/support/index_world.py).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from steppe.cli import main as cli_main
from steppe.correlate import lookup
from steppe.store.port import IndexedValue
from support.app import App
from support.index_world import (
    EE,
    EE_NAME,
    GE,
    GE_NAME,
    KG,
    KG_NAME,
    RS,
    SHA256,
    World,
    seed,
    sid,
    t,
)


@pytest.fixture
def world(app: App) -> World:
    return seed(app)


def listing(app: App, key: str | bool = True, **query: str) -> dict[str, Any]:
    reply = app.request("GET", "/api/v1/campaigns", query=query, key=key)
    assert reply.status == 200, reply.body
    return reply.json()


def view(app: App, campaign_id: str, key: str | bool = True) -> dict[str, Any]:
    reply = app.request("GET", f"/api/v1/campaigns/{campaign_id}", key=key)
    assert reply.status == 200, reply.body
    return reply.json()


def test_campaigns_are_listed_for_who_may_see_them(app: App, world):
    everything = listing(app)
    assert sorted(c["id"] for c in everything["campaigns"]) == sorted([KG, GE, EE, RS])
    assert everything["next"] is None
    kg = next(c for c in everything["campaigns"] if c["id"] == KG)
    assert kg == {
        "id": KG,
        "name": KG_NAME,
        "first_seen": "2009-01-17T00:00:00.000Z",
        "last_seen": "2009-01-28T00:00:00.000Z",
        "collection": world.default,
        "collections": [world.default],
        "tlp": "green",
        "producer": world.org,
        "kind": "",  # seeded through the store, as a partner's campaign would be
        "modified": "2011-07-01T00:00:00.000Z",
        "targets": ["Kyrgyz ISP A", "Kyrgyz ISP B"],
    }
    for key in (world.green_partner, world.green_analyst):
        assert sorted(c["id"] for c in listing(app, key)["campaigns"]) == sorted([KG, GE])
    assert sorted(c["id"] for c in listing(app, world.amber_partner)["campaigns"]) == sorted(
        [KG, GE, EE]
    )


def test_the_listing_pages_with_after_and_limit(app: App, world):
    seen: list[str] = []
    after = None
    while True:
        page = listing(app, limit="1", **({"after": after} if after else {}))
        seen += [c["id"] for c in page["campaigns"]]
        after = page["next"]
        if after is None:
            break
        assert page["links"]["next"] == f"/api/v1/campaigns?after={after}&limit=1"
    assert seen == sorted([KG, GE, EE, RS])
    # A partner's pages skip what it may not see, and still end.
    first = listing(app, world.green_partner, limit="1")
    second = listing(app, world.green_partner, limit="1", after=first["next"])
    assert [c["id"] for c in first["campaigns"] + second["campaigns"]] == sorted([KG, GE])
    assert second["next"] is None


def test_the_campaign_view_has_indicators_targets_timeline_and_related(app: App, world):
    kg = view(app, KG)
    assert kg["name"] == KG_NAME and kg["tlp"] == "green" and kg["complete"] is True
    assert kg["targets"] == ["Kyrgyz ISP A", "Kyrgyz ISP B"]
    assert kg["values"] == 5
    indicators = kg["indicators"]
    assert indicators["total"] == 4
    assert [(i["id"], i["values"]) for i in indicators["items"]] == [
        (sid("indicator", "kg-dropper"), [f"SHA-256 {SHA256}"]),
        (sid("indicator", "kg-c2"), ["ddos-c2.example.org"]),
        (sid("indicator", "kg-7"), ["198.51.100.7"]),
        (sid("indicator", "kg-23"), ["198.51.100.23"]),
    ]
    assert indicators["items"][2]["first_seen"] == "2009-01-18T00:00:00.000Z"
    assert [o["values"] for o in kg["observables"]["items"]] == [["192.0.2.10"]]
    assert kg["timeline"] == [
        {
            "source": "submission:sub-kg-2009",
            "first_seen": "2009-01-17T00:00:00.000Z",
            "last_seen": "2009-01-28T00:00:00.000Z",
            "values": 5,
            "producers": [world.org],
        }
    ]
    related = [(r["campaign"]["id"], r["strength"], r["evidence"]) for r in kg["related"]]
    assert related == [
        (GE, "exact", "strong"),
        (RS, "exact", "strong"),
        (EE, "network", "weak"),
        (EE, "asn", "weak"),
    ]
    georgia = kg["related"][0]
    assert georgia["campaign"]["name"] == GE_NAME
    assert georgia["shared"] == ["198.51.100.7"] and georgia["count"] == 1
    assert georgia["confidence"] == 61
    assert georgia["relationship_id"].startswith("relationship--")
    assert [r["shared"] for r in kg["related"][2:]] == [["198.51.100.0/24"], ["AS64500"]]


def test_a_partner_sees_only_visible_links_and_never_an_amber_campaign(app: App, world):
    for key in (world.green_partner, world.green_analyst):
        kg = view(app, KG, key)
        assert [(r["campaign"]["id"], r["strength"]) for r in kg["related"]] == [(GE, "exact")]
        assert EE_NAME not in json.dumps(kg) and RS not in json.dumps(kg)
        for hidden in (EE, RS):
            reply = app.request("GET", f"/api/v1/campaigns/{hidden}", key=key)
            assert reply.status == 404, reply.body  # never 403: existence is not revealed
            assert (
                reply.json()["description"] == f"there is no campaign '{hidden}' that you may see"
            )
    amber = view(app, KG, world.amber_partner)
    assert [(r["campaign"]["id"], r["strength"]) for r in amber["related"]] == [
        (GE, "exact"),
        (EE, "network"),
        (EE, "asn"),
    ]
    estonia = view(app, EE, world.amber_partner)
    # Estonia's weak link to the restricted investigation stays hidden.
    assert [r["campaign"]["id"] for r in estonia["related"]] == [KG, KG]


def test_the_view_shows_only_the_visible_occurrences_of_a_visible_campaign(app: App, world):
    # An AMBER indicator reported in the GREEN Georgian campaign.
    app.services.store.index_values(
        [
            IndexedValue(
                "ipv4-addr:198.51.100.250",
                world.default,
                sid("indicator", "ge-amber"),
                GE,
                "submission:sub-ge-amber",
                world.org,
                2,
                t("2008-08-10T00:00:00Z"),
                t("2008-08-10T00:00:00Z"),
            )
        ]
    )
    full = view(app, GE)
    assert full["indicators"]["total"] == 4 and len(full["timeline"]) == 2
    assert [e["source"] for e in full["timeline"]] == [
        "taxii:status-ge-2008",
        "submission:sub-ge-amber",
    ]
    partial = view(app, GE, world.green_partner)
    assert partial["indicators"]["total"] == 3 and partial["values"] == 3
    assert "198.51.100.250" not in json.dumps(partial)
    assert [e["source"] for e in partial["timeline"]] == ["taxii:status-ge-2008"]


def test_a_large_campaign_lists_its_first_indicators_with_the_total(
    app: App, world, monkeypatch: pytest.MonkeyPatch
):
    # Small pages and caps, so that a few dozen values need several reads (moto stays fast).
    monkeypatch.setattr(lookup, "CAMPAIGN_PAGE", 7)
    monkeypatch.setattr(lookup, "CAMPAIGN_ITEMS", 10)
    many = 30
    app.services.store.index_values(
        [
            IndexedValue(
                f"ipv6-addr:2001:db8:7::{i:x}",
                world.default,
                sid("indicator", f"kg-bulk-{i}"),
                KG,
                "submission:sub-kg-bulk",
                world.org,
                1,
                t("2009-01-20T00:00:00Z") + i,
                t("2009-01-20T00:00:00Z") + i,
            )
            for i in range(many)
        ]
    )
    kg = view(app, KG)
    assert kg["indicators"]["total"] == 4 + many
    assert len(kg["indicators"]["items"]) == 10
    assert kg["values"] == 5 + many and kg["complete"] is True
    bulk = next(e for e in kg["timeline"] if e["source"] == "submission:sub-kg-bulk")
    assert bulk["values"] == many
    assert [e["source"] for e in kg["timeline"]] == [
        "submission:sub-kg-2009",
        "submission:sub-kg-bulk",
    ]
    # Past the scan bound the view says it is partial rather than reading on.
    monkeypatch.setattr(lookup, "CAMPAIGN_SCAN", 14)
    partial = view(app, KG)
    assert partial["complete"] is False and 14 <= partial["values"] < 5 + many


def test_bad_campaign_requests_say_what_is_wrong(app: App, world):
    unknown = app.request("GET", "/api/v1/campaigns/campaign--00000000-0000-4000-8000-000000000000")
    assert unknown.status == 404 and unknown.json()["where"] == "path"
    for query, where in (
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"sort": "name"}, "sort"),
    ):
        reply = app.request("GET", "/api/v1/campaigns", query=query)
        assert reply.status == 400 and reply.json()["where"] == where, (query, reply.body)
    assert app.request("GET", "/api/v1/campaigns", key=False).status == 401
    assert app.request("GET", f"/api/v1/campaigns/{KG}", key=False).status == 401


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_steppe_campaign_list_and_show_print_the_same_for_a_person(app: App, world, capsys):
    assert cli_main(["campaign", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4 and all(line.startswith("campaign--") for line in lines)
    assert any(KG_NAME in line and "green" in line for line in lines)

    assert cli_main(["campaign", "show", KG]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"{KG_NAME}  ({KG})")
    assert "targets:        Kyrgyz ISP A, Kyrgyz ISP B" in text
    assert "indicators:     4" in text and "198.51.100.23" in text
    assert "submission:sub-kg-2009" in text
    assert "exact (strong)" in text and "network (weak)" in text and "AS64500" in text

    assert cli_main(["campaign", "show", "--json", KG]) == 0
    assert json.loads(capsys.readouterr().out) == view(app, KG)
    assert cli_main(["campaign", "show", "campaign--00000000-0000-4000-8000-000000000000"]) == 1
    assert "there is no campaign" in capsys.readouterr().err
