"""Feeds served over HTTP: what each may show, conditional requests, caps, removals."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import stix2
from pymisp import MISPEvent
from stix2validator import ValidationOptions, validate_instance

from support.app import App, open_app

FEEDS = "/api/v1/admin/feeds"
NOW = datetime.now(UTC)


@pytest.fixture(params=["sqlite", "aws"])
def app(request: pytest.FixtureRequest, tmp_path) -> App:
    """steppe in each shape, its feeds rendered again by any request after a change
    (STEPPE_FEED_STALE_SECONDS=0; the default minute is tested on its own below)."""
    opened = open_app(tmp_path / "data", request.param, STEPPE_FEED_STALE_SECONDS="0")
    yield opened
    opened.close()


def _stamp(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def report(tlp: str, confidence: int, observables: list[dict], campaign: str) -> dict:
    return {
        "tlp": tlp,
        "confidence": confidence,
        "attack": {"kind": "ddos", "first_seen": _stamp(3), "last_seen": _stamp(1)},
        "campaign": {"name": campaign},
        "observables": observables,
    }


def ip(value: str, days_ago: float = 1) -> dict:
    return {
        "type": "ipv4-addr",
        "value": value,
        "role": "source",
        "first_seen": _stamp(days_ago + 1),
        "last_seen": _stamp(days_ago),
    }


def add_feed(app: App, **fields) -> tuple[dict, str]:
    reply = app.request("POST", FEEDS, json_body=fields)
    assert reply.status == 201, reply.body
    feed = reply.json()
    return feed, urlsplit(feed["url"]).path


def submitted(app: App, body: dict) -> dict:
    reply = app.submit(body)
    assert reply.status in (201, 202), reply.body
    app.drain()
    return reply.json()


def get(app: App, path: str, **headers: str):
    return app.request("GET", path, headers=headers, key=False)


def test_a_text_feed_serves_what_its_collection_and_clearance_allow_merged(app: App):
    submitted(
        app,
        report("green", 80, [ip("198.51.100.4"), ip("198.51.100.5"), ip("198.51.100.9")], "G"),
    )
    submitted(app, report("amber", 90, [ip("203.0.113.77")], "A"))
    _feed, path = add_feed(app, name="edl", format="text", types=["ipv4-addr"])
    reply = get(app, path)
    assert reply.status == 200, reply.body
    assert reply.header("Content-Type").startswith("text/plain")
    lines = reply.body.decode().splitlines()
    # .4 and .5 merge into one /31; the AMBER address is above the feed's GREEN clearance
    assert lines == ["198.51.100.4/31", "198.51.100.9"]
    assert b"203.0.113.77" not in reply.body
    assert reply.header("X-Steppe-Truncated") == "false"
    assert reply.header("Last-Modified").endswith("GMT")

    _amber, amber_path = add_feed(
        app, name="edl-amber", format="text", types=["ipv4-addr"], tlp="amber"
    )
    assert "203.0.113.77" in get(app, amber_path).body.decode()


def test_a_wrong_token_or_file_is_a_404_that_says_nothing(app: App):
    submitted(app, report("green", 80, [ip("198.51.100.4")], "G"))
    feed, path = add_feed(app, name="edl", format="text", types=["ipv4-addr"])
    wrong_token = path.replace(path.split("/")[3], "stf_" + "A" * 43)
    unknown_feed = path.replace(feed["id"], "00000000-0000-4000-8000-000000000000")
    replies = [
        get(app, wrong_token),
        get(app, unknown_feed),
        get(app, path[: -len("feed.txt")] + "x.txt"),
    ]
    assert [r.status for r in replies] == [404, 404, 404]
    assert replies[0].body == replies[1].body
    for r in replies:
        assert b"198.51.100" not in r.body


def test_basic_credentials_open_the_feed_without_the_token_in_the_path(app: App):
    submitted(app, report("green", 80, [ip("198.51.100.4")], "G"))
    feed, path = add_feed(app, name="edl", format="text", types=["ipv4-addr"])
    token = path.split("/")[3]
    good = base64.b64encode(f"{feed['id']}:{token}".encode()).decode()
    bad = base64.b64encode(f"{feed['id']}:stf_nope".encode()).decode()
    reply = get(app, f"/feeds/{feed['id']}/feed.txt", Authorization=f"Basic {good}")
    assert reply.status == 200 and reply.body.decode().split() == ["198.51.100.4"]
    assert get(app, f"/feeds/{feed['id']}/feed.txt", Authorization=f"Basic {bad}").status == 404
    # without credentials, the second segment is the token: the file name is not one
    assert get(app, f"/feeds/{feed['id']}/feed.txt").status == 404


def test_etag_gives_304_until_the_feed_changes(app: App):
    submitted(app, report("green", 80, [ip("198.51.100.4")], "G"))
    _feed, path = add_feed(app, name="edl", format="text", types=["ipv4-addr"])
    first = get(app, path)
    etag = first.header("ETag")
    assert etag and etag.startswith('"')
    again = get(app, path, **{"If-None-Match": etag})
    assert again.status == 304 and again.body == b""
    assert again.header("ETag") == etag
    assert get(app, path, **{"If-None-Match": '"other"'}).status == 200
    submitted(app, report("green", 80, [ip("198.51.100.200")], "G2"))
    changed = get(app, path, **{"If-None-Match": etag})
    assert changed.status == 200 and "198.51.100.200" in changed.body.decode()
    assert changed.header("ETag") != etag


def test_the_cap_keeps_the_highest_scores_and_says_it_cut(app: App):
    submitted(app, report("green", 90, [ip("198.51.100.10")], "high"))
    submitted(app, report("green", 60, [ip("198.51.100.20")], "mid"))
    submitted(app, report("green", 30, [ip("198.51.100.30")], "low"))
    _feed, path = add_feed(app, name="csv", format="csv", max_entries=2)
    reply = get(app, path)
    assert reply.header("X-Steppe-Truncated") == "true" and reply.header("X-Steppe-Total") == "2"
    rows = [line.split(",") for line in reply.body.decode().splitlines()[1:]]
    assert [r[0] for r in rows] == ["198.51.100.10", "198.51.100.20"]
    scores = [int(r[2]) for r in rows]
    assert scores == sorted(scores, reverse=True) and scores[0] <= 90

    _, min_path = add_feed(app, name="min", format="text", types=["ipv4-addr"], min_score=50)
    assert get(app, min_path).body.decode().split() == ["198.51.100.10", "198.51.100.20"]


def test_revoked_and_false_positive_values_leave_and_misp_is_told(app: App):
    kept = submitted(app, report("green", 80, [ip("198.51.100.4")], "kept"))
    gone = submitted(app, report("green", 80, [ip("198.51.100.66")], "gone"))
    submitted(app, report("green", 80, [ip("198.51.100.99")], "fp"))
    _, text_path = add_feed(app, name="edl", format="text", types=["ipv4-addr"])
    misp, misp_path = add_feed(app, name="misp", format="misp")
    assert not misp["url"].endswith("/")
    assert sorted(get(app, text_path).body.decode().split()) == [
        "198.51.100.4",
        "198.51.100.66",
        "198.51.100.99",
    ]
    get(app, misp_path + "/manifest.json")
    revoked = app.request(
        "POST", f"/api/v1/submissions/{gone['id']}/revoke", json_body={"reason": "test upload"}
    )
    assert revoked.status in (200, 202), revoked.body
    app.drain()
    declared = app.request(
        "POST", "/api/v1/false-positives", json_body={"value": "198.51.100.99", "reason": "CDN"}
    )
    assert declared.status in (200, 201), declared.body
    app.drain()
    assert get(app, text_path).body.decode().split() == ["198.51.100.4"]

    manifest = get(app, misp_path + "/manifest.json")
    assert manifest.status == 200
    attributes = {}
    for uuid in manifest.json():
        served = get(app, f"{misp_path}/{uuid}.json")
        event = served.json()["Event"]
        for attribute in event["Attribute"]:
            attributes[attribute["value"]] = attribute
        loaded = MISPEvent()  # MISP's own library reads what steppe serves
        loaded.load(served.body.decode())
        assert loaded.uuid == uuid
        deleted = {a.value: a.deleted for a in loaded.attributes}
        assert all(deleted[a["value"]] == a["deleted"] for a in event["Attribute"])
    assert attributes["198.51.100.4"]["deleted"] is False
    assert attributes["198.51.100.66"]["deleted"] is True
    assert attributes["198.51.100.66"]["to_ids"] is False
    hashes = get(app, misp_path + "/hashes.csv").body.decode()
    assert len(hashes.splitlines()) == 1  # only what is active is offered for correlation
    assert kept["id"]


def test_the_stix_feed_is_a_valid_bundle_of_the_stored_indicators(app: App):
    submitted(app, report("green", 80, [ip("198.51.100.4"), ip("198.51.100.5")], "G"))
    _, path = add_feed(app, name="bundle", format="stix")
    reply = get(app, path)
    assert reply.status == 200 and reply.header("Content-Type").startswith("application/stix+json")
    bundle = json.loads(reply.body)
    parsed = stix2.parse(bundle, allow_custom=False)
    patterns = sorted(o.pattern for o in parsed.objects)
    assert patterns == [
        "[ipv4-addr:value = '198.51.100.4']",
        "[ipv4-addr:value = '198.51.100.5']",
    ]
    result = validate_instance(bundle, ValidationOptions(version="2.1"))
    assert result.is_valid, [str(e) for e in result.errors]
    scores = [next(iter(o["extensions"].values()))["score"] for o in bundle["objects"]]
    assert scores == [80, 80]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_by_default_a_request_serves_the_kept_rendering_and_the_schedule_renders(
    backend: str, tmp_path
):
    app = open_app(tmp_path / "data", backend)  # STEPPE_FEED_STALE_SECONDS: 60
    try:
        submitted(app, report("green", 80, [ip("198.51.100.4")], "G"))
        _, path = add_feed(app, name="edl", format="text", types=["ipv4-addr"])
        first = get(app, path)
        assert first.body.decode().split() == ["198.51.100.4"]
        submitted(app, report("green", 80, [ip("198.51.100.200")], "G2"))
        # within the minute, the kept rendering answers (the data changed: not a 304's ETag)
        assert get(app, path).body == first.body
        app.services.queue.send([{"task": "render_feeds"}])
        app.drain()
        assert get(app, path).body.decode().split() == ["198.51.100.4", "198.51.100.200"]
    finally:
        app.close()


def test_a_new_rendering_replaces_the_files_of_the_one_before(app: App):
    submitted(app, report("green", 80, [ip("198.51.100.4")], "G"))
    feed, path = add_feed(app, name="edl", format="text", types=["ipv4-addr"])
    prefix = f"feed-renders/{feed['id']}/"
    first = get(app, path).header("ETag").strip('"')
    submitted(app, report("green", 80, [ip("198.51.100.200")], "G2"))
    second = get(app, path).header("ETag").strip('"')
    assert first != second
    kept = sorted(k for k in app.blob_keys() if k.startswith(prefix))
    assert kept == [f"{prefix}{second}/feed.txt", f"{prefix}state.json"]
