"""Indicators expire at valid_until; the same producer reporting the value again extends it."""

from __future__ import annotations

import json

from steppe.store.port import ALL_VERSIONS, ObjectQuery
from support.app import App, example


def indicator_versions(app: App, value: str) -> list[dict]:
    page = app.services.store.list_objects(
        app.default_collection,
        ObjectQuery(types=frozenset({"indicator"}), versions=ALL_VERSIONS, limit=1000),
    )
    found = [json.loads(r.body) for r in page.records]
    return [obj for obj in found if f"'{value}'" in obj["pattern"]]


def test_a_later_sighting_by_the_same_producer_extends_the_indicator(app: App):
    first = example()
    assert app.submit(first).status == 201
    [original] = indicator_versions(app, "198.51.100.7")

    again = example()
    again["attack"]["first_seen"] = "2009-03-01T00:00:00Z"
    again["attack"]["last_seen"] = "2009-03-05T00:00:00Z"
    for observable in again["observables"]:
        observable["first_seen"] = "2009-03-02T00:00:00Z"
        observable["last_seen"] = "2009-03-04T00:00:00Z"
    assert app.submit(again).status == 201
    versions = indicator_versions(app, "198.51.100.7")
    assert len(versions) == 2
    latest = max(versions, key=lambda obj: obj["modified"])
    assert latest["id"] == original["id"]  # the same indicator, a new version
    assert latest["valid_until"] > original["valid_until"]
    assert latest["valid_from"] == original["valid_from"]  # the range only widens

    earlier = example()  # an older report of the same value shortens nothing
    earlier["source"]["name"] = "Analyst notes, January 2009 (read again)"  # not a replay
    reply = app.submit(earlier)
    assert reply.status == 201 and reply.json()["id"] != app.submit(first).json()["id"]
    assert len(indicator_versions(app, "198.51.100.7")) == 2
