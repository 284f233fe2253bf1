"""Issue 8, findings 1, 2 and 6: nothing correlation shows crosses a collection or a TLP level.

The world of finding 1: two RED reports in a restricted collection and two
GREEN reports in a shared collection use the same two campaign names; they
share addresses and a /24, and the RED reports add RED-only addresses, one
of them in a /24 only they use, and RED-only targets. A GREEN partner reads
only the shared collection; a RED-cleared partner reads both.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from steppe.access.collections import add_collection
from steppe.access.partners import add_partner
from steppe.stix import tlp
from support.app import App, open_app

TAXII = "application/taxii+json;version=2.1"
ALPHA, BETA = "Operation Steppe Wind", "Operation Steppe Fire"
SHARED = ["198.51.100.7", "198.51.100.8"]  # reported in both collections
GREEN_ONLY = ["198.51.100.9"]
RED_ONLY = ["198.51.100.66", "203.0.113.99"]  # the second in a /24 only RED reports use
RED_NETWORK = "203.0.113.0/24"
# One more address of that /24 per RED campaign: neighbours, so a weak (network) link at RED.
RED_NEIGHBOURS = ["203.0.113.90", "203.0.113.91"]
RED_TARGETS = ["Secret ministry relay", "Classified uplink"]
RED_DATE = "2010-03-03"


@dataclass
class World:
    shared: str
    restricted: str
    green: str  # keys
    red: str
    red_submissions: list[str]
    green_submissions: list[str]


@pytest.fixture(params=["sqlite", "aws"])
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[App]:
    opened = open_app(tmp_path / "data", request.param)
    yield opened
    opened.close()


def report(name: str, level: str, collection: str, values: list[str], target: str, day: str):
    return {
        "tlp": level,
        "collection": collection,
        "confidence": 70,
        "attack": {
            "kind": "ddos",
            "first_seen": f"{day}T00:00:00Z",
            "last_seen": f"{day}T12:00:00Z",
        },
        "campaign": {"name": name},
        "targets": [{"name": target, "kind": "organization"}],
        "observables": [
            {"type": "ipv4-addr", "value": value, "role": "source", "asn": 64500}
            for value in values
        ],
    }


def build(app: App) -> World:
    store = app.services.store
    shared = app.default_collection
    restricted = add_collection(store, app.settings.api_root, "restricted investigations").id
    org = app.settings.org_name
    green = add_partner(
        store, "cert-green", "partner", org_name=org, clearance="green", can_read=[shared]
    ).key
    red = add_partner(
        store,
        "cert-red",
        "partner",
        org_name=org,
        clearance="red",
        can_read=[shared, restricted],
    ).key
    submissions: dict[str, list[str]] = {"red": [], "green": []}
    for n, name in enumerate((ALPHA, BETA)):
        red_values = [*SHARED, *RED_ONLY, RED_NEIGHBOURS[n]]
        red_report = report(name, "red", restricted, red_values, RED_TARGETS[n], RED_DATE)
        green_report = report(
            name, "green", shared, SHARED + GREEN_ONLY, f"Public portal {n}", "2009-01-18"
        )
        for level, body in (("red", red_report), ("green", green_report)):
            reply = app.submit(body)
            assert reply.status == 201, reply.body
            submissions[level].append(reply.json()["id"])
            app.drain()
    assert app.dead_letters() == []
    return World(shared, restricted, green, red, submissions["red"], submissions["green"])


@pytest.fixture
def world(app: App) -> World:
    return build(app)


def get(app: App, path: str, key: str, **query: str) -> Any:
    reply = app.request("GET", path, key=key, query=query)
    assert reply.status == 200, reply.body
    return reply.json()


def pull(app: App, collection: str, key: str | bool) -> list[dict[str, Any]]:
    path = f"/taxii2/{app.settings.api_root}/collections/{collection}/objects/"
    objects: list[dict[str, Any]] = []
    query: dict[str, str] = {"limit": "500"}
    while True:
        reply = app.request("GET", path, headers={"Accept": TAXII}, query=query, key=key)
        assert reply.status == 200, reply.body
        page = reply.json()
        objects += page.get("objects", [])
        if not page.get("more"):
            return objects
        query = {"next": page["next"], "limit": "500"}


def everything_read(app: App, world: World, key: str) -> str:
    """Every answer the reader gets about the world, as one text."""
    answers: list[Any] = []
    listed = get(app, "/api/v1/campaigns", key)["campaigns"]
    answers.append(listed)
    for campaign in listed:
        answers.append(get(app, f"/api/v1/campaigns/{campaign['id']}", key))
    for value in SHARED + GREEN_ONLY + ["198.51.100.0/24", "AS64500"]:
        answers.append(get(app, "/api/v1/observables", key, value=value))
    for detail in ("summary", "full"):
        reply = app.request(
            "POST",
            "/api/v1/observables/lookup",
            json_body={"values": SHARED + GREEN_ONLY + ["AS64500"], "detail": detail},
            key=key,
        )
        assert reply.status == 200, reply.body
        answers.append(reply.json())
    answers.append(pull(app, world.shared, key))
    return json.dumps(answers)


def red_facts(world: World) -> list[str]:
    return [
        *RED_ONLY,
        *RED_NEIGHBOURS,
        RED_NETWORK,
        *RED_TARGETS,
        RED_DATE,
        world.restricted,
        *world.red_submissions,
    ]


def test_a_green_reader_of_the_shared_collection_learns_nothing_of_the_red_reports(
    app: App, world: World
):
    text = everything_read(app, world, world.green)
    for fact in red_facts(world):
        assert fact not in text, f"{fact!r} reached a GREEN reader of the shared collection"
    # What it may see, it does see: both campaigns, linked by the shared values.
    listed = get(app, "/api/v1/campaigns", world.green)["campaigns"]
    assert sorted(c["name"] for c in listed) == sorted([ALPHA, BETA])
    view = get(app, f"/api/v1/campaigns/{listed[0]['id']}", world.green)
    [exact] = [r for r in view["related"] if r["strength"] == "exact"]
    assert sorted(exact["shared"]) == sorted(SHARED + GREEN_ONLY)
    assert exact["count"] == len(SHARED + GREEN_ONLY)
    for value in RED_ONLY:
        answer = get(app, "/api/v1/observables", world.green, value=value)
        assert answer["found"] is False and answer["count"] == 0
        assert answer["campaigns"] == []
        # Weak evidence: only the GREEN campaigns' own addresses in the same /24.
        for entry in answer["weak_evidence"]:
            assert set(entry["sample"]) <= set(SHARED + GREEN_ONLY)
        assert not any(fact in json.dumps(answer) for fact in red_facts(world) if fact != value)
    assert get(app, "/api/v1/observables", world.green, value=RED_ONLY[1])["weak_evidence"] == []
    bulk = app.request(
        "POST",
        "/api/v1/observables/lookup",
        json_body={"values": RED_ONLY, "detail": "full"},
        key=world.green,
    ).json()
    assert bulk["found"] == 0
    assert all(r["campaigns"] == [] for r in bulk["results"])


def test_the_shared_collections_correlation_objects_name_only_its_own_values(
    app: App, world: World
):
    objects = pull(app, world.shared, True)  # everything the collection holds
    text = json.dumps(objects)
    for fact in red_facts(world):
        assert fact not in text
    related = [o for o in objects if o.get("relationship_type") == "related-to"]
    assert related, "the two GREEN campaigns share values: correlation links them"
    for relationship in related:
        assert relationship["object_marking_refs"] == [tlp.GREEN.marking_id]
    # The restricted collection's own links are RED and name its values.
    restricted = [
        o for o in pull(app, world.restricted, True) if o.get("relationship_type") == "related-to"
    ]
    assert restricted
    assert all(o["object_marking_refs"] == [tlp.RED.marking_id] for o in restricted)
    assert any("198.51.100.66" in o["description"] for o in restricted)


def test_a_red_reader_of_both_collections_sees_both(app: App, world: World):
    listed = get(app, "/api/v1/campaigns", world.red)["campaigns"]
    # The same name in another collection at another TLP is another campaign.
    assert sorted(c["name"] for c in listed) == sorted([ALPHA, ALPHA, BETA, BETA])
    assert len({c["id"] for c in listed}) == 4
    text = everything_read(app, world, world.red)
    for fact in [*RED_TARGETS, RED_NETWORK, *world.red_submissions]:
        assert fact in text
    answer = get(app, "/api/v1/observables", world.red, value=RED_ONLY[0])
    assert answer["found"] is True
    assert sorted(c["name"] for c in answer["campaigns"]) == sorted([ALPHA, BETA])


def test_a_campaign_posted_with_the_id_of_a_red_campaign_opens_nothing(app: App, world: World):
    store = app.services.store
    own = add_collection(store, app.settings.api_root, "cert-green drop box").id
    poster = add_partner(
        store,
        "cert-poster",
        "partner",
        org_name=app.settings.org_name,
        clearance="green",
        can_read=[own, world.shared],
        can_write=[own],
    ).key
    red_ids = [
        c["id"]
        for c in get(app, "/api/v1/campaigns", world.red)["campaigns"]
        if c["collection"] == world.restricted
    ]
    assert len(red_ids) == 2
    for red_id in red_ids:
        assert app.request("GET", f"/api/v1/campaigns/{red_id}", key=poster).status == 404
    target = red_ids[0]
    stamp = "2012-05-01T00:00:00.000Z"
    green = [tlp.GREEN.marking_id]
    indicator = f"indicator--{uuid.uuid4()}"
    objects = [
        tlp.GREEN.marking_definition(),
        {
            "type": "campaign",
            "spec_version": "2.1",
            "id": target,
            "created": stamp,
            "modified": stamp,
            "name": "Borrowed id",
            "first_seen": "2012-05-01T00:00:00Z",
            "object_marking_refs": green,
        },
        {
            "type": "indicator",
            "spec_version": "2.1",
            "id": indicator,
            "created": stamp,
            "modified": stamp,
            "pattern": f"[ipv4-addr:value = '{SHARED[0]}']",
            "pattern_type": "stix",
            "valid_from": stamp,
            "object_marking_refs": green,
        },
        {
            "type": "relationship",
            "spec_version": "2.1",
            "id": f"relationship--{uuid.uuid4()}",
            "created": stamp,
            "modified": stamp,
            "relationship_type": "indicates",
            "source_ref": indicator,
            "target_ref": target,
            "object_marking_refs": green,
        },
    ]
    posted = app.request(
        "POST",
        f"/taxii2/{app.settings.api_root}/collections/{own}/objects/",
        body=json.dumps({"objects": objects}),
        headers={"Accept": TAXII},
        content_type=TAXII,
        key=poster,
    )
    assert posted.status == 202, posted.body
    app.drain()
    reply = app.request("GET", f"/api/v1/campaigns/{target}", key=poster)
    assert reply.status in (200, 404)
    if reply.status == 200:
        view = reply.json()
        assert view["name"] == "Borrowed id" and view["collections"] == [own]
        assert view["targets"] == [] and view["first_seen"].startswith("2012-05-01")
    text = reply.body.decode() + everything_read(app, world, poster)
    text += json.dumps(get(app, "/api/v1/observables", poster, value=SHARED[0]))
    for fact in red_facts(world):
        assert fact not in text
    # The RED reader still sees the RED campaign as the restricted collection holds it.
    view = get(app, f"/api/v1/campaigns/{target}", world.red)
    assert set(view["targets"]) & set(RED_TARGETS)


def test_a_false_positive_reason_stays_with_the_readers_of_its_collection(app: App, world: World):
    reason = "our own honeypot in the restricted investigation"
    declared = app.request(
        "POST",
        "/api/v1/false-positives",
        json_body={"value": RED_ONLY[0], "reason": reason},
    )
    assert declared.status == 201, declared.body
    store = app.services.store
    analyst = add_partner(
        store,
        "analyst-shared",
        "analyst",
        org_name=app.settings.org_name,
        clearance="red",
        can_read=[world.shared],
    ).key
    for key in (world.green, analyst):
        answer = get(app, "/api/v1/observables", key, value=RED_ONLY[0])
        assert answer["false_positive"] is None
        bulk = app.request(
            "POST", "/api/v1/observables/lookup", json_body={"values": RED_ONLY[:1]}, key=key
        )
        assert reason not in bulk.body.decode()
    listed = app.request("GET", "/api/v1/false-positives", key=analyst)
    assert listed.status == 200 and reason not in listed.body.decode()
    # Those who read the restricted collection at RED see the reason.
    seen = get(app, "/api/v1/observables", world.red, value=RED_ONLY[0])
    assert seen["false_positive"]["reason"] == reason
    assert reason in app.request("GET", "/api/v1/false-positives").body.decode()
