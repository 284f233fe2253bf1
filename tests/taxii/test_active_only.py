"""Collections that serve only active objects, for SIEMs that cannot handle expiry themselves.

Everything goes through the real paths on both shapes: collections are set up
through the admin API and the CLI, objects arrive as a partner's TAXII POST
(taxii/adding.py) and as an analyst's submission (the ingest service), and a
SIEM pages through the collection over TAXII. The SIEM's collection never
hands it an expired or revoked indicator; a full feed holding the same
objects serves them all, the revoked ones as their revoked versions.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from taxii_world import (
    CAMPAIGN,
    DAY,
    HOUR,
    TAXII,
    World,
    campaign,
    identity,
    indicator,
    make_world,
    objects_of,
    pages,
    relationship,
    stix_id,
)

from steppe import cli
from steppe.stix import tlp
from steppe.stix.timestamps import format_stix, now_micros, parse_micros
from steppe.store.aws.table_keys import LISTING_SHARDS
from steppe.taxii.adding import check_object
from support.app import example, open_app

DAYS = 24 * HOUR
EXPIRED = "2009-03-01T00:00:00.000Z"  # the spring after the attacks


def add_collection(world: World, title: str, **fields: Any) -> dict[str, Any]:
    reply = world.app.request(
        "POST", "/api/v1/admin/collections", json_body={"title": title, **fields}
    )
    assert reply.status == 201, reply.body
    return reply.json()


def post(world: World, collection_id: str, objects: list[dict[str, Any]]) -> None:
    reply = world.request(
        "POST",
        world.collection_path(collection_id, "objects/"),
        body=json.dumps({"objects": objects}),
        headers={"Content-Type": TAXII},
    )
    assert reply.status == 202, reply.body
    status = reply.json()
    assert (status["status"], status["failure_count"]) == ("complete", 0), status


def pulled(world: World, collection_id: str, who: str, rest: str = "objects/", **query: str):
    """Every record of a listing, page by page (next and limit alone, as Elastic pages)."""
    path = world.collection_path(collection_id, rest)
    return [record for reply in pages(world, path, who, **query) for record in objects_of(reply)]


class Feed:
    """The same partner content posted to a SIEM feed (active only) and to a full feed."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.siem = add_collection(world, "SIEM feed", active_only=True)["id"]
        self.full = add_collection(world, "Full feed")["id"]
        world.partner("siem", "green", read=[self.siem])
        world.partner("cert", "green", read=[self.full])
        future = format_stix(now_micros() + 30 * DAYS)
        self.lasting = indicator("198.51.100.7", valid_until=future)
        self.expired = indicator("198.51.100.8", valid_until=EXPIRED)
        self.timeless = indicator("198.51.100.9")
        revoked_id, renewed_id, withdrawn_id = (stix_id("indicator") for _ in range(3))
        self.revoked = [
            indicator("198.51.100.10", oid=revoked_id, valid_until=future),
            indicator(
                "198.51.100.10",
                oid=revoked_id,
                modified=DAY + DAYS,
                valid_until=future,
                revoked=True,
            ),
        ]
        self.renewed = [
            indicator("198.51.100.11", oid=renewed_id, valid_until=EXPIRED),
            indicator("198.51.100.11", oid=renewed_id, modified=DAY + DAYS, valid_until=future),
        ]
        self.withdrawn = [
            indicator("198.51.100.12", oid=withdrawn_id, valid_until=future),
            indicator("198.51.100.12", oid=withdrawn_id, modified=DAY + DAYS, valid_until=EXPIRED),
        ]
        self.red = indicator("198.51.100.13", tlp.RED, valid_until=future)
        self.link = relationship(self.lasting["id"], CAMPAIGN)
        objects = [
            tlp.GREEN.marking_definition(),
            identity(),
            campaign(DAY + HOUR),
            self.lasting,
            self.expired,
            self.revoked[0],
            self.timeless,
            self.renewed[0],
            self.withdrawn[0],
            self.red,
            self.link,
            self.revoked[1],
            self.renewed[1],
            self.withdrawn[1],
        ]
        for collection_id in (self.siem, self.full):
            for start in range(0, len(objects), 4):  # several writes, as partners post
                post(world, collection_id, objects[start : start + 4])

    @property
    def active_indicators(self) -> set[str]:
        return {self.lasting["id"], self.timeless["id"], self.renewed[1]["id"]}


@pytest.fixture
def feed(world: World) -> Feed:
    return Feed(world)


def assert_active(objects: list[dict[str, Any]], at: int) -> None:
    for obj in objects:
        assert obj.get("revoked") is not True, obj
        if "valid_until" in obj:
            assert parse_micros(obj["valid_until"]) > at, obj


def test_a_siem_pulling_an_active_only_collection_never_receives_expired_or_revoked_indicators(
    feed: Feed,
):
    world = feed.world
    before = now_micros()
    received = pulled(world, feed.siem, "siem")
    assert_active(received, before)
    indicators = {obj["id"] for obj in received if obj["type"] == "indicator"}
    assert indicators == feed.active_indicators
    served = {obj["id"]: obj for obj in received}
    assert served[feed.renewed[1]["id"]]["modified"] == feed.renewed[1]["modified"]
    # The rest of the collection comes as usual (not RED: above the SIEM's clearance).
    assert {obj["type"] for obj in received} == {
        "marking-definition",
        "identity",
        "campaign",
        "indicator",
        "relationship",
    }
    assert feed.red["id"] not in served
    # Paging with added_after from X-TAXII-Date-Added-Last, as a polling SIEM does.
    path = world.collection_path(feed.siem, "objects/")
    first = world.get(path, "siem", query={"limit": "3"})
    later = world.get(path, "siem", query={"added_after": first.header("X-TAXII-Date-Added-Last")})
    polled = objects_of(first) + objects_of(later)
    assert [obj["id"] for obj in polled] == [obj["id"] for obj in received]
    # The manifest lists exactly what the objects endpoint serves.
    manifest = pulled(world, feed.siem, "siem", rest="manifest/")
    assert [(m["id"], m["version"]) for m in manifest] == [
        (obj["id"], obj.get("modified", obj.get("created"))) for obj in received
    ]


def test_a_normal_collection_serves_everything_revoked_ones_as_revoked_versions(feed: Feed):
    world = feed.world
    received = {obj["id"]: obj for obj in pulled(world, feed.full, "cert")}
    indicators = {oid for oid, obj in received.items() if obj["type"] == "indicator"}
    assert indicators == feed.active_indicators | {
        feed.expired["id"],
        feed.revoked[0]["id"],
        feed.withdrawn[0]["id"],
    }
    assert received[feed.revoked[0]["id"]]["revoked"] is True
    assert received[feed.revoked[0]["id"]]["modified"] == feed.revoked[1]["modified"]
    assert received[feed.expired["id"]]["valid_until"] == EXPIRED
    assert received[feed.withdrawn[0]["id"]]["valid_until"] == EXPIRED
    versions = world.get(
        world.collection_path(feed.full, f"objects/{feed.revoked[0]['id']}/versions/"), "cert"
    )
    assert versions.json()["versions"] == [feed.revoked[0]["modified"], feed.revoked[1]["modified"]]


def test_the_object_and_versions_endpoints_of_an_active_only_collection(feed: Feed):
    """An object with no active version is not there (404); versions lists the active ones."""
    world = feed.world

    def get(rest: str, who: str = "siem", collection: str | None = None, **query: str):
        return world.get(world.collection_path(collection or feed.siem, rest), who, query=query)

    lasting = get(f"objects/{feed.lasting['id']}/")
    assert [obj["id"] for obj in objects_of(lasting)] == [feed.lasting["id"]]
    assert get(f"objects/{feed.expired['id']}/").status == 404
    assert get(f"objects/{feed.expired['id']}/versions/").status == 404
    assert get(f"objects/{feed.expired['id']}/", "cert", feed.full).status == 200
    # A revoked object: its latest version is the revocation, so the default read is empty,
    # and its versions are those before the revocation.
    revoked = feed.revoked[0]["id"]
    assert get(f"objects/{revoked}/").json() == {}
    assert get(f"objects/{revoked}/versions/").json()["versions"] == [feed.revoked[0]["modified"]]
    everything = objects_of(get(f"objects/{revoked}/", **{"match[version]": "all"}))
    assert [obj.get("revoked", False) for obj in everything] == [False]
    # Renewed: the expired first version is not listed, the renewal is.
    renewed = feed.renewed[0]["id"]
    assert get(f"objects/{renewed}/versions/").json()["versions"] == [feed.renewed[1]["modified"]]


def test_switching_a_collection_to_active_only_and_back(feed: Feed):
    world = feed.world
    path = f"/api/v1/admin/collections/{feed.full}"
    switched = world.app.request("PATCH", path, json_body={"active_only": True})
    assert switched.status == 200 and switched.json()["active_only"] is True
    now = now_micros()
    received = pulled(world, feed.full, "cert")
    assert_active(received, now)
    assert {o["id"] for o in received if o["type"] == "indicator"} == feed.active_indicators
    back = world.app.request("PATCH", path, json_body={"active_only": False})
    assert back.json()["active_only"] is False
    assert feed.expired["id"] in {o["id"] for o in pulled(world, feed.full, "cert")}


def test_an_analysts_expired_indicators_are_served_once_renewed(world: World):
    """Submissions of the 2009 attacks: their indicators expired long ago, until an analyst
    submits them again with a later valid_until (reconciliation: a new version of each)."""
    siem = add_collection(world, "SIEM feed", active_only=True)["id"]
    full = add_collection(world, "Full feed")["id"]
    world.partner("siem", "amber", read=[siem])
    world.partner("cert", "amber", read=[full])
    created: dict[str, list[str]] = {}
    for collection_id in (siem, full):
        reply = world.app.submit({**example(), "collection": collection_id})
        assert reply.status == 201, reply.body
        created[collection_id] = reply.json()["objects"]["created"]
    historic = pulled(world, full, "cert")
    assert {obj["id"] for obj in historic if obj["type"] == "indicator"} == {
        i for i in created[full] if i.startswith("indicator--")
    }
    assert all(obj["valid_until"] < "2010" for obj in historic if "valid_until" in obj)
    # Each collection has indicators of its own (ids are scoped by collection and TLP).
    indicators = {i for i in created[siem] if i.startswith("indicator--")}
    assert indicators and indicators.isdisjoint(created[full])
    served = pulled(world, siem, "siem")
    assert served and not [obj for obj in served if obj["type"] == "indicator"]

    renewal = {**example(), "collection": siem, "valid_until": "2099-01-01T00:00:00Z"}
    assert world.app.submit(renewal).status == 201
    renewed = [obj for obj in pulled(world, siem, "siem") if obj["type"] == "indicator"]
    assert {obj["id"] for obj in renewed} == indicators
    assert all(obj["valid_until"] == "2099-01-01T00:00:00.000Z" for obj in renewed)


def test_active_only_through_the_admin_api(world: World):
    app = world.app
    created = add_collection(world, "Sentinel feed", active_only=True)
    assert created["active_only"] is True
    plain = add_collection(world, "Archive")
    assert plain["active_only"] is False
    listed = {
        c["title"]: c["active_only"]
        for c in app.request("GET", "/api/v1/admin/collections").json()["collections"]
    }
    assert listed["Sentinel feed"] is True and listed["Archive"] is False
    untouched = app.request(
        "PATCH", f"/api/v1/admin/collections/{created['id']}", json_body={"description": "SIEM"}
    )
    assert untouched.json()["active_only"] is True
    for bad in ("yes", 1, None):
        reply = app.request(
            "POST", "/api/v1/admin/collections", json_body={"title": "Bad", "active_only": bad}
        )
        assert reply.status == 400, (bad, reply.body)
        assert "active_only" in reply.json()["description"]
    reply = app.request(
        "PATCH", f"/api/v1/admin/collections/{plain['id']}", json_body={"active_only": "true"}
    )
    assert reply.status == 400
    assert app.services.store.get_collection(plain["id"]).active_only is False


def test_active_only_through_the_cli(world: World, capsys: pytest.CaptureFixture[str]):
    store = world.app.services.store
    assert cli.main(["collection", "add", "QRadar feed", "--active-only"]) == 0
    printed = capsys.readouterr().out
    collection_id = printed.split()[0]
    assert "(active only)" in printed
    assert store.get_collection(collection_id).active_only is True
    assert cli.main(["collection", "set", "QRadar feed", "--no-active-only"]) == 0
    assert "active only" not in capsys.readouterr().out
    assert store.get_collection(collection_id).active_only is False
    assert cli.main(["collection", "set", collection_id, "--active-only"]) == 0
    capsys.readouterr()
    assert store.get_collection(collection_id).active_only is True
    # set without the flag leaves it as it is
    assert cli.main(["collection", "set", collection_id, "--description", "for QRadar"]) == 0
    capsys.readouterr()
    assert store.get_collection(collection_id).active_only is True
    assert cli.main(["collection", "add", "Plain feed"]) == 0
    plain_id = capsys.readouterr().out.split()[0]
    assert store.get_collection(plain_id).active_only is False
    assert cli.main(["collection", "list"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert lines[collection_id].endswith("QRadar feed  (active only)")
    assert lines[plain_id].endswith("Plain feed")
    assert lines[world.app.default_collection].endswith("(default)")


def in_a_fresh_thread(action: Callable[[], None]) -> None:
    """Run `action` at the shallow stack of a new thread (see tests/taxii/test_page_cost.py:
    deep in pytest's stack, moto's loops run several times slower on CPython 3.11)."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            action()
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def test_an_active_only_page_costs_the_same_dynamodb_requests_at_any_collection_size(
    tmp_path: Path,
):
    """The lifecycle filter runs on the listing, like the TLP filter: a page of an active-only
    collection makes the same DynamoDB requests at 30 and at 150 objects (two in three expired
    or revoked), whatever it skips. Requests are counted, nothing is timed."""
    app = open_app(tmp_path / "data", "aws")

    def scenario() -> None:
        world = make_world(app)
        future = format_stix(now_micros() + 30 * DAYS)
        feeds = {}
        for size in (30, 150):
            feeds[size] = add_collection(world, f"SIEM feed of {size}", active_only=True)["id"]
            objects = [
                indicator(
                    f"198.51.{100 + n // 250}.{n % 250}",
                    **(
                        {"valid_until": future}
                        if n % 3 == 0
                        else {"valid_until": EXPIRED}
                        if n % 3 == 1
                        else {"revoked": True}
                    ),
                )
                for n in range(size)
            ]
            versions = [
                check_object(obj, i, tlp.GREEN.rank, EXPIRED).version  # type: ignore[union-attr]
                for i, obj in enumerate(objects)
            ]
            for start in range(0, size, 100):
                app.services.store.put_objects(feeds[size], versions[start : start + 100])
        world.partner("siem", "green", read=feeds.values())
        client = app.services.store._table.client
        operations: list[str] = []
        client.meta.events.register(
            "before-call.dynamodb", lambda model, **_: operations.append(model.name)
        )

        def cost(collection_id: str, rest: str, **query: str) -> list[str]:
            path = world.collection_path(collection_id, rest)
            world.get(path, "siem", query={"limit": "4", **query})  # warm: the paging secret
            operations.clear()
            reply = world.get(path, "siem", query={"limit": "4", **query})
            assert reply.status == 200
            served = reply.json().get("objects", [])
            assert len(served) == 4 and reply.json()["more"] is True
            assert all("valid_until" not in obj or obj["valid_until"] > EXPIRED for obj in served)
            return list(operations)

        def next_token(collection_id: str) -> str:
            path = world.collection_path(collection_id, "objects/")
            return world.get(path, "siem", query={"limit": "4"}).json()["next"]

        for rest in ("objects/", "manifest/"):
            small, large = cost(feeds[30], rest), cost(feeds[150], rest)
            assert small == large, (rest, small, large)
            # One Query per listing shard of each view read, whatever the collection's size.
            assert "Scan" not in large and large.count("Query") <= 2 * LISTING_SHARDS
        small = cost(feeds[30], "objects/", next=next_token(feeds[30]))
        large = cost(feeds[150], "objects/", next=next_token(feeds[150]))
        assert small == large

    try:
        in_a_fresh_thread(scenario)
    finally:
        app.close()
