"""GET /api/v1/campaigns/graph on both shapes: a three-campaign world built through the API.

Three analyst reports, correlated by the worker:

* Bishkek, January 2009 (DDoS, GREEN): 198.51.100.7, 198.51.100.8 and 192.0.2.50;
* Osh, March 2010 (DDoS, GREEN): 198.51.100.7 again and 198.51.100.60 (the same /24);
* Talas, May 2011 (phishing, AMBER): 192.0.2.50 again, from Bishkek's report.

The graph's edges must be exactly what the campaign views list as `related` for
the same caller, and a GREEN partner must see neither Talas nor anything that
rests on it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from steppe.access.collections import add_collection
from steppe.access.partners import add_partner
from support.app import App

BISHKEK = "Bishkek ISP flood, January 2009"
OSH = "Osh ISP flood, March 2010"
TALAS = "Talas bank phishing, May 2011"
NODE_FIELDS = {
    "id",
    "name",
    "first_seen",
    "last_seen",
    "collection",
    "collections",
    "tlp",
    "producer",
    "kind",
    "values",
    "targets",
}
EDGE_FIELDS = {"source", "target", "strength", "evidence", "confidence", "count", "shared"}


def report(
    name: str, kind: str, tlp: str, seen: tuple[str, str], values: list[str]
) -> dict[str, Any]:
    return {
        "tlp": tlp,
        "attack": {"kind": kind, "first_seen": seen[0], "last_seen": seen[1]},
        "campaign": {"name": name},
        "targets": [{"name": f"Target of {name}"}],
        "observables": [{"type": "ipv4-addr", "value": value} for value in values],
    }


@pytest.fixture
def world(app: App) -> dict[str, str]:
    reports = [
        report(
            BISHKEK,
            "ddos",
            "green",
            ("2009-01-18T00:00:00Z", "2009-01-28T00:00:00Z"),
            ["198.51.100.7", "198.51.100.8", "192.0.2.50"],
        ),
        report(
            OSH,
            "ddos",
            "green",
            ("2010-03-02T00:00:00Z", "2010-03-09T00:00:00Z"),
            ["198.51.100.7", "198.51.100.60"],
        ),
        report(
            TALAS,
            "phishing",
            "amber",
            ("2011-05-09T00:00:00Z", "2011-05-20T00:00:00Z"),
            ["192.0.2.50"],
        ),
    ]
    for body in reports:
        reply = app.submit(body)
        assert reply.status in (201, 202), reply.body
        app.drain()
    listed = app.request("GET", "/api/v1/campaigns").json()["campaigns"]
    ids = {c["name"]: c["id"] for c in listed}
    assert set(ids) == {BISHKEK, OSH, TALAS}, listed
    store = app.services.store
    collection = app.default_collection
    keys = {
        name: add_partner(
            store,
            name,
            role,
            org_name=app.settings.org_name,
            clearance=clearance,
            can_read=[collection],
        ).key
        for name, role, clearance in (
            ("siem-green", "partner", "green"),
            ("analyst-amber", "analyst", "amber"),
        )
    }
    return {"bishkek": ids[BISHKEK], "osh": ids[OSH], "talas": ids[TALAS], **keys}


def graph(app: App, key: str | bool = True, query: Any = None) -> dict[str, Any]:
    reply = app.request("GET", "/api/v1/campaigns/graph", key=key, query=query)
    assert reply.status == 200, reply.body
    return reply.json()


def edge_facts(edge: dict[str, Any]) -> tuple:
    return (
        edge["source"],
        edge["target"],
        edge["strength"],
        edge["evidence"],
        edge["confidence"],
        edge["count"],
        tuple(edge["shared"]),
    )


def related_as_edges(app: App, campaign_ids: list[str], key: str | bool) -> set[tuple]:
    """The union of the campaign views' `related`, written as graph edges."""
    found = set()
    for campaign_id in campaign_ids:
        reply = app.request("GET", f"/api/v1/campaigns/{campaign_id}", key=key)
        assert reply.status == 200, reply.body
        for entry in reply.json()["related"]:
            other = entry["campaign"]["id"]
            found.add(
                (
                    min(campaign_id, other),
                    max(campaign_id, other),
                    entry["strength"],
                    entry["evidence"],
                    entry["confidence"],
                    entry["count"],
                    tuple(entry["shared"][:5]),
                )
            )
    return found


def test_the_graphs_edges_are_the_union_of_the_campaign_views_related(app: App, world):
    for key in (True, world["siem-green"], world["analyst-amber"]):
        answer = graph(app, key)
        nodes = [node["id"] for node in answer["nodes"]]
        assert nodes == sorted(nodes)
        edges = {edge_facts(edge) for edge in answer["edges"]}
        assert len(edges) == len(answer["edges"])  # one per pair and strength
        assert edges == related_as_edges(app, nodes, key)
        assert answer["counts"] == {"nodes": len(nodes), "edges": len(edges)}
        assert answer["truncated"] is False
    everything = graph(app)
    by_pair = {(e["source"], e["target"], e["strength"]): e for e in everything["edges"]}
    bishkek, osh, talas = world["bishkek"], world["osh"], world["talas"]
    pair = (min(bishkek, osh), max(bishkek, osh))
    assert by_pair[(*pair, "exact")]["shared"] == ["198.51.100.7"]
    assert by_pair[(*pair, "exact")]["evidence"] == "strong"
    assert by_pair[(*pair, "network")]["shared"] == ["198.51.100.0/24"]
    assert by_pair[(*pair, "network")]["evidence"] == "weak"
    pair = (min(bishkek, talas), max(bishkek, talas))
    assert by_pair[(*pair, "exact")]["shared"] == ["192.0.2.50"]
    assert not any({e["source"], e["target"]} == {osh, talas} for e in everything["edges"])


def test_nodes_carry_the_campaign_and_its_attack_kind(app: App, world):
    answer = graph(app)
    nodes = {node["id"]: node for node in answer["nodes"]}
    assert set(nodes) == {world["bishkek"], world["osh"], world["talas"]}
    for node in nodes.values():
        assert set(node) == NODE_FIELDS
    for edge in answer["edges"]:
        assert set(edge) == EDGE_FIELDS and edge["source"] < edge["target"]
    bishkek = nodes[world["bishkek"]]
    assert bishkek["name"] == BISHKEK and bishkek["kind"] == "ddos"
    assert bishkek["values"] == 3 and bishkek["tlp"] == "green"
    assert bishkek["collections"] == [app.default_collection]
    assert bishkek["targets"] == [f"Target of {BISHKEK}"]
    assert nodes[world["talas"]]["kind"] == "phishing"
    assert nodes[world["talas"]]["tlp"] == "amber"
    # The listing and the view say the same kind.
    listed = app.request("GET", "/api/v1/campaigns").json()["campaigns"]
    assert {c["id"]: c["kind"] for c in listed} == {i: n["kind"] for i, n in nodes.items()}
    view = app.request("GET", f"/api/v1/campaigns/{world['talas']}").json()
    assert view["kind"] == "phishing"


def ids(answer: dict[str, Any]) -> set[str]:
    return {node["id"] for node in answer["nodes"]}


def test_filters_narrow_the_graph(app: App, world):
    bishkek, osh, talas = world["bishkek"], world["osh"], world["talas"]
    phishing = graph(app, query={"kind": "phishing"})
    assert ids(phishing) == {talas} and phishing["edges"] == []
    both = graph(app, query=[("kind", "phishing"), ("kind", "ddos")])
    assert ids(both) == {bishkek, osh, talas}
    assert ids(graph(app, query={"kind": "ddos,phishing"})) == {bishkek, osh, talas}

    green = graph(app, query={"tlp": "green"})
    assert ids(green) == {bishkek, osh}
    assert all(talas not in (e["source"], e["target"]) for e in green["edges"])

    exact = graph(app, query={"strength": "exact"})
    assert {e["strength"] for e in exact["edges"]} == {"exact"}
    weak = graph(app, query={"strength": "network,asn"})
    assert weak["edges"] and {e["strength"] for e in weak["edges"]} <= {"network", "asn"}

    assert ids(graph(app, query={"since": "2010-01-01T00:00:00Z"})) == {osh, talas}
    assert ids(graph(app, query={"until": "2010-03-02"})) == {bishkek, osh}
    window = graph(app, query={"since": "2010-01-01", "until": "2010-12-31T23:59:59Z"})
    assert ids(window) == {osh} and window["edges"] == []

    assert ids(graph(app, query={"collection": app.default_collection})) == {bishkek, osh, talas}
    other = add_collection(app.services.store, app.settings.api_root, "elsewhere").id
    assert graph(app, query={"collection": other})["nodes"] == []

    one = graph(app, query={"limit": "1"})
    assert one["truncated"] is True and len(one["nodes"]) == 1 and one["edges"] == []
    assert one["counts"] == {"nodes": 1, "edges": 0}
    assert graph(app, query={"limit": "3"})["truncated"] is False


def test_a_green_partner_gets_no_amber_node_or_edge(app: App, world):
    reply = app.request("GET", "/api/v1/campaigns/graph", key=world["siem-green"])
    assert reply.status == 200, reply.body
    answer = reply.json()
    assert ids(answer) == {world["bishkek"], world["osh"]}
    assert all(node["tlp"] in ("clear", "green") for node in answer["nodes"])
    text = reply.body.decode()
    assert world["talas"] not in text and TALAS not in text and "phishing" not in text
    assert "192.0.2.50" not in text  # the value Bishkek shares only with the AMBER campaign
    # Asking for more than its clearance shows no more.
    assert graph(app, world["siem-green"], {"tlp": "red"}) == answer


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("since", "yesterday"),
        ("until", "2010-13-01"),
        ("kind", "earthquake"),
        ("kind", ""),
        ("collection", "not-a-collection"),
        ("tlp", "purple"),
        ("strength", "telepathic"),
        ("limit", "0"),
        ("limit", "5001"),
        ("limit", "9" * 400),
        ("colour", "red"),
    ],
)
def test_a_bad_filter_is_a_400_naming_it(app: App, name: str, value: str):
    reply = app.request("GET", "/api/v1/campaigns/graph", query={name: value})
    assert reply.status == 400, reply.body
    error = reply.json()
    assert error["where"] == name, error
    assert name in error["description"] or value in error["description"], error


def test_a_repeated_single_filter_and_an_empty_window_are_400(app: App):
    reply = app.request("GET", "/api/v1/campaigns/graph", query=[("tlp", "red"), ("tlp", "green")])
    assert reply.status == 400 and reply.json()["where"] == "tlp", reply.body
    reply = app.request(
        "GET", "/api/v1/campaigns/graph", query={"since": "2011-01-01", "until": "2010-01-01"}
    )
    assert reply.status == 400 and reply.json()["where"] == "since", reply.body


def test_the_graph_needs_a_key(app: App):
    reply = app.request("GET", "/api/v1/campaigns/graph", key=False)
    assert reply.status == 401, reply.body
    assert json.loads(reply.body)["description"]
