"""Feed definitions through the admin API: added, listed, shown, rotated, removed."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from steppe.access.credentials import hash_key
from steppe.access.partners import add_partner
from support.app import App

FEEDS = "/api/v1/admin/feeds"


def add(app: App, **fields) -> dict:
    reply = app.request("POST", FEEDS, json_body=fields)
    assert reply.status == 201, reply.body
    return reply.json()


def _token_in(url: str, feed_id: str) -> str:
    """The token in a feed URL's path, /feeds/<feed id>/<token>/<file>."""
    prefix = f"/feeds/{feed_id}/"
    path = urlsplit(url).path
    assert path.startswith(prefix), url
    return path.removeprefix(prefix).split("/")[0]


def test_a_feed_is_added_with_its_url_shown_once(app: App):
    reply = app.request(
        "POST",
        FEEDS,
        json_body={"name": "palo-alto", "format": "text", "types": ["ipv4-addr", "ipv6-addr"]},
        headers={"Host": "cti.example.org"},
    )
    assert reply.status == 201, reply.body
    assert reply.header("Location") == f"{FEEDS}/palo-alto"
    feed = reply.json()
    assert uuid.UUID(feed["id"]).version == 4
    assert feed["format"] == "text" and feed["file"] == "feed.txt"
    assert feed["collections"] == [app.default_collection]
    assert feed["tlp"] == "green" and feed["min_score"] == 0 and feed["max_entries"] == 100_000
    assert feed["types"] == ["ipv4-addr", "ipv6-addr"]
    token = feed["token"]
    assert feed["url"] == f"http://cti.example.org/feeds/{feed['id']}/{token}/feed.txt"
    assert len(token.removeprefix("stf_")) >= 43  # 32 random bytes, URL-safe base64

    stored = app.services.store.get_feed(feed["id"])
    assert stored.token_hash == hash_key(token) and token not in repr(stored)

    listed = app.request("GET", FEEDS)
    shown = app.request("GET", f"{FEEDS}/palo-alto")
    assert listed.status == shown.status == 200
    assert [f["name"] for f in listed.json()["feeds"]] == ["palo-alto"]
    for reply in (listed, shown):
        assert token.encode() not in reply.body
        assert stored.token_hash.encode() not in reply.body
        assert b"/feeds/" not in reply.body
    described = {k: v for k, v in feed.items() if k not in ("token", "url")}
    assert shown.json() == described == listed.json()["feeds"][0]


def test_every_choice_is_kept(app: App):
    other = app.request("POST", "/api/v1/admin/collections", json_body={"title": "KG 2009"})
    feed = add(
        app,
        name="zeek-sensors",
        format="zeek",
        collections=["steppe indicators", other.json()["id"]],
        tlp="TLP:AMBER",
        types=["url", "ipv4-addr"],
        min_score=60,
        max_entries=5000,
    )
    assert feed["collections"] == sorted([app.default_collection, other.json()["id"]])
    assert feed["tlp"] == "amber" and feed["types"] == ["ipv4-addr", "url"]
    assert feed["min_score"] == 60 and feed["max_entries"] == 5000
    assert feed["url"].endswith("/intel.dat")
    misp = add(app, name="misp.cert-kg", format="misp")
    # MISP is given the feed's directory, without a trailing slash: it appends /manifest.json
    assert misp["url"].endswith(f"/{misp['token']}")
    assert len(misp["types"]) == 6


def test_rotating_changes_the_token_and_its_hash(app: App):
    first = add(app, name="fortigate", format="text", types=["domain-name"])
    rotated = app.request("POST", f"{FEEDS}/fortigate/rotate")
    assert rotated.status == 200
    second = rotated.json()
    assert second["id"] == first["id"] and second["token"] != first["token"]
    assert _token_in(second["url"], first["id"]) == second["token"]
    stored = app.services.store.get_feed(first["id"])
    assert stored.token_hash == hash_key(second["token"]) != hash_key(first["token"])
    assert second["token"].encode() not in app.request("GET", f"{FEEDS}/fortigate").body


def test_a_removed_feed_is_gone_and_its_name_free(app: App):
    first = add(app, name="check-point", format="csv")
    removed = app.request("DELETE", f"{FEEDS}/check-point")
    assert removed.status == 200
    assert removed.json() == {"deleted": "check-point", "id": first["id"]}
    assert app.request("GET", f"{FEEDS}/check-point").status == 404
    assert app.request("DELETE", f"{FEEDS}/check-point").status == 404
    assert app.request("POST", f"{FEEDS}/check-point/rotate").status == 404
    assert app.services.store.get_feed(first["id"]) is None
    again = add(app, name="check-point", format="csv")
    assert again["id"] != first["id"]


def test_a_name_is_taken_once(app: App):
    add(app, name="suricata", format="suricata-iprep")
    taken = app.request("POST", FEEDS, json_body={"name": "suricata", "format": "csv"})
    assert taken.status == 409 and taken.json()["where"] == "name"
    assert [f["format"] for f in app.request("GET", FEEDS).json()["feeds"]] == ["suricata-iprep"]


def test_bad_feeds_say_which_field_and_write_nothing(app: App):
    cases = [
        ({"name": "x", "format": "pdf"}, "format"),
        ({"name": "x"}, "format"),
        ({"format": "csv"}, "name"),
        ({"name": "has space", "format": "csv"}, "name"),
        ({"name": "null", "format": "csv"}, "name"),
        ({"name": "x", "format": "csv", "tlp": "purple"}, "tlp"),
        ({"name": "x", "format": "text"}, "types"),
        ({"name": "x", "format": "text", "types": ["ipv4-addr", "domain-name"]}, "types"),
        ({"name": "x", "format": "text", "types": ["email-addr"]}, "types"),
        ({"name": "x", "format": "suricata-iprep", "types": ["domain-name"]}, "types"),
        ({"name": "x", "format": "csv", "types": ["autonomous-system"]}, "types[0]"),
        ({"name": "x", "format": "csv", "types": []}, "types"),
        ({"name": "x", "format": "csv", "types": ["url", "url"]}, "types"),
        ({"name": "x", "format": "csv", "min_score": 101}, "min_score"),
        ({"name": "x", "format": "csv", "min_score": -1}, "min_score"),
        ({"name": "x", "format": "csv", "min_score": "50"}, "min_score"),
        ({"name": "x", "format": "csv", "max_entries": 0}, "max_entries"),
        ({"name": "x", "format": "csv", "max_entries": 1_000_001}, "max_entries"),
        ({"name": "x", "format": "csv", "collections": ["no such thing"]}, "collections[0]"),
        ({"name": "x", "format": "csv", "colour": "red"}, "colour"),
    ]
    for body, where in cases:
        reply = app.request("POST", FEEDS, json_body=body)
        assert reply.status == 400, (body, reply.body)
        assert reply.json()["where"] == where, (body, reply.json())
    assert app.request("GET", FEEDS).json() == {"feeds": []}
    assert app.services.store.list_feeds() == []
    assert app.request("GET", f"{FEEDS}/{'x' * 65}").status == 400


def test_only_admins_manage_feeds(app: App):
    add(app, name="edl", format="text", types=["url"])
    rights = {"can_read": [app.default_collection], "can_write": [app.default_collection]}
    analyst = add_partner(app.services.store, "ana", "analyst", org_name="steppe", **rights).key
    for method, path in [
        ("GET", FEEDS),
        ("POST", FEEDS),
        ("GET", f"{FEEDS}/edl"),
        ("DELETE", f"{FEEDS}/edl"),
        ("POST", f"{FEEDS}/edl/rotate"),
    ]:
        reply = app.request(method, path, key=analyst, json_body={"name": "y", "format": "text"})
        assert reply.status == 403 and "admin" in reply.json()["description"], (method, path)
        assert app.request(method, path, key=False).status == 401
    assert [f.name for f in app.services.store.list_feeds()] == ["edl"]
