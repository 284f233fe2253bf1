"""'Have we seen this?' over the API, on both shapes, against an index seeded through the store.

The index is written here as the correlation engine leaves it (tests/support/
index_world.py); the correlation scenario test covers submission -> engine ->
lookup end to end.
"""

from __future__ import annotations

from typing import Any

import pytest

from steppe.cli import main as cli_main
from steppe.handlers import intel
from steppe.store.port import GroupMember, IndexedValue
from support.app import App
from support.index_world import (
    EE,
    EE_NAME,
    GE,
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


def one(app: App, value: str, key: str | bool = True) -> dict[str, Any]:
    reply = app.request("GET", "/api/v1/observables", query={"value": value}, key=key)
    assert reply.status == 200, reply.body
    return reply.json()


def bulk(
    app: App, values: list[str], key: str | bool = True, detail: str = "full"
) -> list[dict[str, Any]]:
    reply = app.request(
        "POST",
        "/api/v1/observables/lookup",
        json_body={"values": values, "detail": detail},
        key=key,
    )
    assert reply.status == 200, reply.body
    answer = reply.json()
    assert answer["count"] == len(values) == len(answer["results"])
    assert answer["found"] == sum(1 for r in answer["results"] if r["found"])
    return answer["results"]


def campaign_ids(result: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["match"] for c in result["campaigns"]}


def test_an_address_seen_in_campaigns_is_found_exactly_with_when_and_by_whom(app: App, world):
    result = one(app, " 198.51.100.7 ")
    assert result["value"] == " 198.51.100.7 " and result["keys"] == ["ipv4-addr:198.51.100.7"]
    assert result["found"] is True and result["recognised"] is True
    assert result["type"] == "ipv4-addr" and result["false_positive"] is None
    # Admins see every collection: the restricted investigation too.
    assert campaign_ids(result) == {GE: "exact", KG: "exact", RS: "exact"}
    assert [c["id"] for c in result["campaigns"]] == [GE, KG, RS]  # by first seen
    kg = next(c for c in result["campaigns"] if c["id"] == KG)
    assert kg["name"] == KG_NAME
    assert (kg["first_seen"], kg["last_seen"]) == (
        "2009-01-17T00:00:00.000Z",
        "2009-01-28T00:00:00.000Z",
    )
    assert result["count"] == 3
    assert result["first_seen"] == "2008-08-08T00:00:00.000Z"
    assert result["last_seen"] == "2010-03-02T00:00:00.000Z"
    assert set(result["indicators"]) == {
        sid("indicator", "kg-7"),
        sid("indicator", "ge-7"),
        sid("indicator", "rs-7"),
    }
    assert set(result["sources"]) == {
        "submission:sub-kg-2009",
        "taxii:status-ge-2008",
        "submission:sub-rs-2010",
    }
    assert len(result["producers"]) == 2
    [match] = result["matches"]
    assert match["match"] == "exact" and match["value"] == "198.51.100.7" and match["count"] == 3
    # Estonia used another address of the /24: weak evidence, labelled, never a match.
    [weak] = result["weak_evidence"]
    assert weak["evidence"] == "weak" and weak["basis"] == "network"
    assert weak["group"] == "198.51.100.0/24" and weak["campaign"]["id"] == EE
    assert weak["count"] == 1 and weak["sample"] == ["198.51.100.99"]
    assert "weak evidence, not a match" in weak["description"]
    assert EE not in campaign_ids(result)


def test_domains_hashes_and_victims_are_found_by_their_own_keys(app: App, world):
    domain, digest, victim = bulk(app, ["DDoS-C2.Example.org.", SHA256.upper(), "192.0.2.10"])
    assert domain["keys"] == ["domain-name:ddos-c2.example.org"]
    assert campaign_ids(domain) == {KG: "exact"}
    assert domain["indicators"] == [sid("indicator", "kg-c2")]
    assert digest["keys"] == [f"file:SHA-256:{SHA256}"] and digest["type"] == "file"
    assert digest["indicators"] == [sid("indicator", "kg-dropper")]
    # A victim's address is an observed SCO, not an indicator.
    assert victim["found"] and victim["indicators"] == []
    assert victim["observables"][0].startswith("ipv4-addr--")
    assert campaign_ids(victim) == {KG: "exact"}


def test_an_address_inside_an_indexed_network_is_within_it(app: App, world):
    v4, v6 = bulk(app, ["203.0.113.200", "2001:db8:4::beef"])
    [match] = v4["matches"]
    assert match["match"] == "within" and match["description"] == "within 203.0.113.0/24"
    assert match["indicators"] == [sid("indicator", "ge-net")]
    assert campaign_ids(v4) == {GE: "within"}
    [match] = v6["matches"]
    assert match["description"] == "within 2001:db8:4::/48"
    assert campaign_ids(v6) == {GE: "within"}
    # Nothing of the kind for an address outside every indexed network.
    [outside] = bulk(app, ["203.0.114.1"])
    assert outside["found"] is False and outside["matches"] == [] and outside["campaigns"] == []


def test_a_network_contains_the_campaign_addresses_inside_it(app: App, world):
    whole, small = bulk(app, ["198.51.100.0/24", "198.51.100.0/29"])
    assert campaign_ids(whole) == {KG: "contains", GE: "contains", EE: "contains", RS: "contains"}
    assert sorted(m["description"] for m in whole["matches"]) == [
        "contains 198.51.100.23",
        "contains 198.51.100.7",
        "contains 198.51.100.99",
    ]
    assert whole["weak_evidence"] == []  # everything of the /24 is inside it
    # A /29 holds .0-.7: .7 is inside, the rest of the /24 is only a neighbour.
    assert [m["description"] for m in small["matches"]] == ["contains 198.51.100.7"]
    assert campaign_ids(small) == {GE: "contains", KG: "contains", RS: "contains"}
    [weak] = small["weak_evidence"]
    assert weak["campaign"]["id"] == EE and weak["sample"] == ["198.51.100.99"]


def test_an_autonomous_system_contains_the_addresses_reported_in_it(app: App, world):
    [result] = bulk(app, ["as64500"])
    assert result["keys"] == ["autonomous-system:64500"]
    contained = sorted(m["value"] for m in result["matches"])
    assert contained == ["198.51.100.23", "198.51.100.7", "198.51.100.99"]
    assert {KG, EE} <= set(campaign_ids(result))
    assert result["weak_evidence"] == []


def test_a_false_positive_is_flagged_with_its_reason(app: App, world):
    result = one(app, "192.0.2.1")
    assert result["false_positive"]["reason"] == "our own monitoring host"
    assert result["false_positive"]["declared_by"] == "admin"
    assert result["false_positive"]["since"] == "2011-07-01T00:00:00.000Z"
    assert result["found"] and result["campaigns"] == []
    partner_view = one(app, "192.0.2.1", key=world.green_partner)
    assert partner_view["false_positive"]["reason"] == "our own monitoring host"
    assert "declared_by" not in partner_view["false_positive"]


def test_a_green_partner_never_sees_amber_or_unreadable_campaigns(app: App, world):
    for key in (world.green_partner, world.green_analyst):
        seen = one(app, "198.51.100.7", key=key)
        assert campaign_ids(seen) == {GE: "exact", KG: "exact"}
        assert seen["count"] == 2 and sid("indicator", "rs-7") not in seen["indicators"]
        assert "submission:sub-rs-2010" not in seen["sources"]
        assert seen["weak_evidence"] == []  # Estonia is AMBER
        # Estonia's own address: nothing visible, and only GREEN neighbours as weak evidence.
        estonian = one(app, "198.51.100.99", key=key)
        assert estonian["found"] is False and estonian["matches"] == []
        assert {w["campaign"]["id"] for w in estonian["weak_evidence"]} == {KG, GE}
        network = one(app, "198.51.100.0/24", key=key)
        assert set(campaign_ids(network)) == {KG, GE}
        assert "198.51.100.99" not in {m["value"] for m in network["matches"]}
        nothing = one(app, "192.0.2.102", key=key)  # the restricted investigation's
        assert nothing["found"] is False and nothing["weak_evidence"] == []
        text = str(seen) + str(estonian) + str(network) + str(nothing)
        for secret in (EE, RS, EE_NAME, "Internal investigation"):
            assert secret not in text
    # Cleared for AMBER: Estonia appears, the restricted collection still does not.
    amber = one(app, "198.51.100.7", key=world.amber_partner)
    assert campaign_ids(amber) == {GE: "exact", KG: "exact"}
    assert [w["campaign"]["id"] for w in amber["weak_evidence"]] == [EE]


def test_weak_evidence_names_no_neighbour_the_caller_may_not_see(app: App, world):
    # An AMBER indicator reported in the GREEN Georgian campaign: its group
    # membership is kept at the stricter of the two (AMBER), as correlation writes it.
    store = app.services.store
    store.index_values(
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
    store.index_groups(
        [GroupMember("net:198.51.100.0/24", GE, world.default, 2, "ipv4-addr:198.51.100.250")]
    )

    def weak_of(result: dict[str, Any]) -> dict[str, list[str]]:
        return {w["campaign"]["id"]: w["sample"] for w in result["weak_evidence"]}

    staff = one(app, "198.51.100.251")
    assert weak_of(staff)[GE] == ["198.51.100.250", "198.51.100.7"]
    green = one(app, "198.51.100.251", key=world.green_partner)
    assert weak_of(green) == {KG: ["198.51.100.23", "198.51.100.7"], GE: ["198.51.100.7"]}
    assert next(w for w in green["weak_evidence"] if w["campaign"]["id"] == GE)["count"] == 1
    assert "198.51.100.250" not in str(green)
    # Nor inside a network the caller asks about.
    network = one(app, "198.51.100.248/29", key=world.green_partner)
    assert network["found"] is False and "198.51.100.250" not in str(network)
    assert "198.51.100.250" in str(one(app, "198.51.100.248/29"))


def test_bulk_answers_thousands_of_values_in_order(app: App, world):
    values = [f"2001:db8:ffff::{i:x}" for i in range(3000)]
    values[17] = "198.51.100.7"
    values[1234] = "203.0.113.9"
    values[2999] = "not an observable at all"
    values[2500] = "198.51.100.7"  # the same value twice: answered twice
    results = bulk(app, values)
    assert [r["value"] for r in results] == values
    found = {i for i, r in enumerate(results) if r["found"]}
    assert found == {17, 1234, 2500}
    assert results[17] == results[2500]
    assert campaign_ids(results[1234]) == {GE: "within"}
    assert results[2999] == {
        "value": "not an observable at all",
        "recognised": False,
        "found": False,
        "problem": results[2999]["problem"],
    }
    assert "not a value steppe can look up" in results[2999]["problem"]
    assert results[5]["recognised"] and results[5]["matches"] == []


def test_bulk_takes_ten_thousand_values_and_refuses_more(app: App, world):
    values = [f"2001:db8:eeee::{i:x}" for i in range(10_000)]
    assert len(bulk(app, values)) == 10_000
    reply = app.request(
        "POST", "/api/v1/observables/lookup", json_body={"values": [*values, "198.51.100.7"]}
    )
    assert reply.status == 413, reply.body
    assert reply.json()["where"] == "values" and "10,000" in reply.json()["description"]


def test_an_answer_too_large_for_one_response_says_how_many_values_fit(
    app: App, world, monkeypatch: pytest.MonkeyPatch
):
    values = ["198.51.100.7"] * 100
    whole = app.request(
        "POST", "/api/v1/observables/lookup", json_body={"values": values, "detail": "full"}
    )
    assert whole.status == 200 and len(whole.body) > 40_000
    # Room for 90% of the values that fit in proportion to the whole answer's size.
    expected = 100 * 40_000 // len(whole.body) * 9 // 10
    monkeypatch.setattr(intel, "MAX_RESPONSE_BYTES", 40_000)
    reply = app.request(
        "POST", "/api/v1/observables/lookup", json_body={"values": values, "detail": "full"}
    )
    assert reply.status == 413, reply.body
    error = reply.json()
    assert error["where"] == "values" and "100 values (100 of them seen)" in error["description"]
    fits = int(error["description"].rsplit("about ", 1)[1].split()[0].replace(",", ""))
    assert fits == expected and expected >= 1
    assert len(bulk(app, values[:fits])) == fits  # and that many do fit


def test_bad_lookups_say_what_is_wrong_and_change_nothing(app: App, world):
    before = (bulk(app, ["198.51.100.7", "192.0.2.1"]), app.request("GET", "/api/v1/campaigns"))
    cases: list[tuple[str, dict[str, Any], int, str]] = [
        ("POST", {"body": b"", "content_type": "application/json"}, 400, "body"),
        ("POST", {"body": b"{not json", "content_type": "application/json"}, 400, "body"),
        ("POST", {"json_body": ["198.51.100.7"]}, 400, "body"),
        ("POST", {"json_body": {"values": []}}, 400, "values"),
        ("POST", {"json_body": {"values": ["198.51.100.7"], "detail": "all"}}, 400, "detail"),
        ("POST", {"json_body": {"values": "198.51.100.7"}}, 400, "values"),
        ("POST", {"json_body": {"values": ["198.51.100.7", 7]}}, 400, "values[1]"),
        ("POST", {"json_body": {"values": ["x"], "limit": 3}}, 400, "limit"),
        ("GET", {"query": {}}, 400, "value"),
        ("GET", {"query": {"value": "   "}}, 400, "value"),
        ("GET", {"query": {"value": "no such thing!"}}, 400, "value"),
        ("GET", {"query": {"value": "198.51.100.7/24"}}, 400, "value"),  # host bits set
        ("GET", {"query": {"value": "198.51.100.7", "colour": "red"}}, 400, "colour"),
        ("GET", {"query": [("value", "198.51.100.7"), ("value", "x")]}, 400, "value"),
    ]
    for method, arguments, status, where in cases:
        path = "/api/v1/observables" + ("/lookup" if method == "POST" else "")
        reply = app.request(method, path, **arguments)
        assert reply.status == status, (arguments, reply.body)
        error = reply.json()
        assert error["where"] == where, (arguments, error)
        assert error["description"] and error["http_status"] == str(status)
    unrecognised = app.request("GET", "/api/v1/observables", query={"value": "no such thing!"})
    assert "AS64496" in unrecognised.json()["description"]  # it says what would do
    assert app.request("GET", "/api/v1/observables", query={"value": "x"}, key=False).status == 401
    after = (bulk(app, ["198.51.100.7", "192.0.2.1"]), app.request("GET", "/api/v1/campaigns"))
    assert after[0] == before[0] and after[1].json() == before[1].json()


def test_an_empty_index_answers_not_seen(app: App):
    [result] = bulk(app, ["198.51.100.7"])
    assert result["found"] is False and result["campaigns"] == []
    assert result["count"] == 0 and result["first_seen"] is None


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_steppe_lookup_prints_the_same_for_a_person(app: App, world, capsys):
    assert cli_main(["lookup", "198.51.100.7", "203.0.113.9", "what?"]) == 1
    text = capsys.readouterr().out
    blocks = text.split("\n\n")
    assert len(blocks) == 3
    assert blocks[0].startswith("198.51.100.7  (ipv4-addr)  SEEN: 3 occurrences")
    assert KG_NAME in blocks[0] and "exact" in blocks[0]
    assert "weak evidence:" in blocks[0] and "not a match" in blocks[0]
    assert "within 203.0.113.0/24" in blocks[1]
    assert blocks[2].startswith("what?\n  not a value steppe can look up")

    assert cli_main(["lookup", "--json", "198.51.100.7", "203.0.113.9"]) == 0
    import json

    printed = json.loads(capsys.readouterr().out)
    api = app.request(
        "POST",
        "/api/v1/observables/lookup",
        json_body={"values": ["198.51.100.7", "203.0.113.9"], "detail": "full"},
    ).json()
    assert printed == api


def test_a_bulk_summary_is_the_short_form_of_each_full_answer(app: App, world):
    values = ["198.51.100.7", "203.0.113.9", "192.0.2.250", "what?"]
    full = bulk(app, values)
    brief = bulk(app, values, detail="summary")
    assert [b["value"] for b in brief] == values
    for long, short in zip(full, brief, strict=True):
        assert short["found"] == long["found"]
        if long["found"]:
            assert short["count"] == long["count"]
            assert (short["first_seen"], short["last_seen"]) == (
                long["first_seen"],
                long["last_seen"],
            )
            assert [c["id"] for c in short["campaigns"]] == [c["id"] for c in long["campaigns"]]
            assert short["indicators"] == long["indicators"][:10]
            assert "matches" not in short
    default = app.request(
        "POST", "/api/v1/observables/lookup", json_body={"values": values}
    ).json()["results"]
    assert default == brief
