"""Decay: scores fall with time, and an indicator past its threshold expires everywhere."""

# ruff: noqa: F811 (the `app` fixture is test_feed_serving's)

from __future__ import annotations

import json
from datetime import timedelta

from test_feed_serving import add_feed, app, get, ip, report, submitted  # noqa: F401

from steppe import runtime
from steppe.access.partners import add_partner
from steppe.local.routes import RouteTable
from steppe.scoring.decay_curve import MICROSECONDS_PER_DAY
from steppe.scoring.decay_score import expires_at, score_at
from steppe.stix.score_extension import read_score
from steppe.stix.timestamps import now_micros, parse_micros
from steppe.store.feed_entries import entry_curve
from steppe.store.port import ALL_VERSIONS, ObjectQuery
from support.app import App

DAY = MICROSECONDS_PER_DAY


def indicator_versions(app: App, value: str) -> list[dict]:
    page = app.services.store.list_objects(
        app.default_collection,
        ObjectQuery(types=frozenset({"indicator"}), versions=ALL_VERSIONS, limit=1000),
    )
    found = [json.loads(r.body) for r in page.records]
    return sorted((o for o in found if f"'{value}'" in o["pattern"]), key=lambda o: o["modified"])


def entry_of(app: App, indicator_id: str):
    [entry] = app.services.store.get_feed_entries(app.default_collection, [indicator_id])
    return entry


def test_the_score_falls_with_time_and_the_feed_follows(app: App):
    submitted(app, report("green", 80, [ip("198.51.100.4", days_ago=1)], "G"))
    _, path = add_feed(app, name="csv", format="csv")
    before = get(app, path)
    [indicator] = indicator_versions(app, "198.51.100.4")
    entry = entry_of(app, indicator["id"])
    score = read_score(indicator)
    assert entry.base == score.score == 80
    assert entry.last_seen == score.last_seen
    # the feed's score is the one at the last run: today, a day after last seen
    first_row = before.body.decode().splitlines()[1].split(",")
    assert (
        int(first_row[2])
        == entry.score
        == score_at(80, entry.last_seen, entry.scored_at, entry_curve(entry))
    )

    later = now_micros() + 5 * DAY
    outcome = runtime.decay_job(app.services).run(now=later)
    assert outcome.rescored >= 1 and outcome.expired_versions == 0
    rescored = entry_of(app, indicator["id"])
    assert rescored.score == score_at(80, entry.last_seen, later, entry_curve(entry))
    assert rescored.score < entry.score
    after = get(app, path, **{"If-None-Match": before.header("ETag")})
    assert after.status == 200
    assert int(after.body.decode().splitlines()[1].split(",")[2]) == rescored.score


def test_past_its_threshold_an_indicator_gets_a_new_version_that_ends_it(app: App):
    submitted(app, report("green", 80, [ip("198.51.100.4", days_ago=1)], "G"))
    _, path = add_feed(app, name="edl", format="text", types=["ipv4-addr"])
    assert get(app, path).body.decode().split() == ["198.51.100.4"]
    [original] = indicator_versions(app, "198.51.100.4")
    entry = entry_of(app, original["id"])
    ends = expires_at(entry.base, entry.last_seen, entry_curve(entry))
    assert entry.expires_at == ends < parse_micros(original["valid_until"])

    outcome = runtime.decay_job(app.services).run(now=ends + 1)
    assert outcome.expired_versions == 1, outcome
    versions = indicator_versions(app, "198.51.100.4")
    assert len(versions) == 2
    expired = versions[-1]
    assert parse_micros(expired["valid_until"]) == ends
    assert expired["modified"] > original["modified"]
    assert {k: v for k, v in expired.items() if k not in ("valid_until", "modified")} == {
        k: v for k, v in original.items() if k not in ("valid_until", "modified")
    }
    retired = entry_of(app, original["id"])
    assert retired.retired_at == ends
    # a second run finds nothing left to expire
    again = runtime.decay_job(app.services).run(now=ends + 2)
    assert again.expired_versions == 0 and again.retired == 0


def test_an_old_report_is_retired_from_the_start(app: App):
    submitted(app, report("green", 80, [ip("198.51.100.4", days_ago=400)], "old"))
    _, path = add_feed(app, name="edl", format="text", types=["ipv4-addr"])
    assert get(app, path).body == b""
    [indicator] = indicator_versions(app, "198.51.100.4")
    assert entry_of(app, indicator["id"]).retired_at is not None


def test_the_decay_runs_as_a_queued_task_and_on_the_schedule(app: App):
    submitted(app, report("green", 80, [ip("198.51.100.4", days_ago=1)], "G"))
    app.services.queue.send([{"task": "decay"}])
    assert app.drain() >= 1
    assert not app.dead_letters()
    schedules = {s.event_name: s for s in RouteTable.from_template().schedules}
    assert schedules["Decay"].input == {"task": "decay"}
    assert schedules["Decay"].period == int(timedelta(hours=1).total_seconds())
    assert schedules["Decay"].function.handler == "steppe.handlers.worker.lambda_handler"


def test_a_lookup_answers_the_score_now_and_only_of_what_the_caller_may_see(app: App):
    submitted(app, report("green", 80, [ip("198.51.100.4", days_ago=1)], "G"))
    submitted(app, report("amber", 90, [ip("203.0.113.77", days_ago=1)], "A"))
    submitted(app, report("green", 80, [ip("198.51.100.9", days_ago=400)], "old"))
    issued = add_partner(
        app.services.store,
        "green-cert",
        "partner",
        org_name="steppe",
        clearance="green",
        can_read=[app.default_collection],
    )

    def score(value: str, key: str | bool = True):
        reply = app.request("GET", "/api/v1/observables", query={"value": value}, key=key)
        assert reply.status == 200, reply.body
        return reply.json()["score"]

    [indicator] = indicator_versions(app, "198.51.100.4")
    entry = entry_of(app, indicator["id"])
    now = score("198.51.100.4")
    assert entry.score >= now >= score_at(80, entry.last_seen, now_micros(), entry_curve(entry))
    assert 0 < now < 80
    assert score("203.0.113.77") is not None  # the admin may see AMBER
    assert score("203.0.113.77", issued.key) is None  # a GREEN partner learns nothing of it
    assert score("198.51.100.4", issued.key) == now
    assert score("198.51.100.9") is None  # seen, but long expired
