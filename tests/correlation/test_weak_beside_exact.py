"""Weak evidence means other addresses nearby: the very address two campaigns share is an
exact match, and on its own adds no network or AS link beside it."""

from __future__ import annotations

from typing import Any

from test_scenario import campaign_id, pull

from support.app import App


def report(name: str, addresses: list[str]) -> dict[str, Any]:
    return {
        "tlp": "green",
        "attack": {"kind": "ddos", "first_seen": "2009-01-18T00:00:00Z"},
        "campaign": {"name": name},
        "observables": [
            {"type": "ipv4-addr", "value": value, "role": "source", "asn": 64500}
            for value in addresses
        ],
    }


def strengths(app: App, campaign: str) -> dict[str, list[str]]:
    view = app.request("GET", f"/api/v1/campaigns/{campaign}").json()
    return {r["strength"]: r["shared"] for r in view["related"]}


def submit(app: App, *reports: dict[str, Any]) -> list[dict[str, Any]]:
    for body in reports:
        assert app.submit(body).status == 201
        app.drain()
    return pull(app, app.default_collection)


def test_one_shared_address_and_nothing_near_it_is_an_exact_link_only(app: App):
    objects = submit(
        app, report("Flood one", ["198.51.100.7"]), report("Flood two", ["198.51.100.7"])
    )
    one, two = campaign_id(objects, "Flood one"), campaign_id(objects, "Flood two")
    assert strengths(app, one) == {"exact": ["198.51.100.7"]}
    assert strengths(app, two) == {"exact": ["198.51.100.7"]}
    links = [o for o in objects if o.get("relationship_type") == "related-to"]
    assert len(links) == 1 and "(exact matches)" in links[0]["description"]


def test_a_neighbour_beside_the_shared_address_is_weak_evidence_as_well(app: App):
    objects = submit(
        app,
        report("Flood one", ["198.51.100.7"]),
        report("Flood two", ["198.51.100.7", "198.51.100.8"]),
    )
    one = campaign_id(objects, "Flood one")
    found = strengths(app, one)
    assert found["exact"] == ["198.51.100.7"]
    assert set(found) == {"exact", "network", "asn"}, found
    assert found["network"] == ["198.51.100.0/24"]
