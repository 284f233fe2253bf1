"""Feeds never serve a value their definition may not see (a property over random worlds).

Random worlds are built through the public API on the embedded shape: two or
three collections, analyst reports at every TLP level into random
collections, with random confidences and last-seen times (recent ones, ones
past their decay lifetime, ones whose valid_until has passed), addresses
shared between reports at different TLPs and collections, revoked
submissions and declared false positives. Then random feeds (every format
that carries addresses; random collections, clearance, minimum score and
cap) are fetched, every file of each.

The model of what a feed may carry is this file's own (never steppe's): a
value may be served iff it is not a declared false positive and one of its
occurrences is in one of the feed's collections, at or below its clearance,
not revoked, not past valid_until, and scored (README "Scores and decay":
confidence * (1 - (t / lifetime) ^ (1 / decay_speed)), ddos ipv4-addr: 21
days, speed 1.5, threshold 20) at or above both the threshold and the feed's
minimum. Scores within TOLERANCE of either bound may go either way; only
clear-cut values are asserted about.
"""

from __future__ import annotations

import ipaddress
import json
import re
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from support.app import App, open_app

LEVELS = ("clear", "green", "amber", "amber+strict", "red")  # rank = index
FORMATS = ("text", "csv", "zeek", "misp", "stix", "suricata-iprep")
# Addresses ten apart never share a CIDR block, so text feeds list each alone.
POOL = tuple(f"198.51.100.{10 * i}" for i in range(1, 13))
ADDRESS = re.compile(rb"(?<![0-9.])((?:[0-9]{1,3}\.){3}[0-9]{1,3})(?:/([0-9]{1,2}))?(?![0-9])")
NETWORK = ipaddress.ip_network("198.51.100.0/24")
# ddos ipv4-addr decay (stix_templates/ddos.yaml)
LIFETIME_DAYS, DECAY_SPEED, THRESHOLD = 21.0, 1.5, 20
TOLERANCE = 3  # score points around a bound where either answer is right
AGES = (0.5, 0.5, 1.0, 2.0, 5.0, 9.0, 14.0, 18.0, 25.0)  # days since last seen
CONFIDENCES = (15, 40, 60, 80, 90, 100, 100)


# -- the world, as Hypothesis draws it ---------------------------------------------------


@dataclass(frozen=True)
class ReportSpec:
    collection: int
    tlp: int
    confidence: int
    age: float  # days since its values were last seen
    expired: bool  # valid_until set a few hours ago
    values: tuple[int, ...]  # indices into POOL


@dataclass(frozen=True)
class FeedSpec:
    format: str
    collections: frozenset[int]
    tlp: int
    min_score: int
    max_entries: int


@dataclass(frozen=True)
class WorldSpec:
    collections: int
    reports: tuple[ReportSpec, ...]
    revoked: frozenset[int]  # indices of reports whose submission is revoked
    false_positives: frozenset[int]  # indices into POOL
    feeds: tuple[FeedSpec, ...]


@st.composite
def worlds(draw: st.DrawFn) -> WorldSpec:
    collections = draw(st.integers(2, 3))
    reports = draw(
        st.lists(
            st.builds(
                ReportSpec,
                collection=st.integers(0, collections - 1),
                tlp=st.integers(0, 4),
                confidence=st.sampled_from(CONFIDENCES),
                age=st.sampled_from(AGES),
                expired=st.sampled_from((False, False, False, True)),
                values=st.lists(
                    st.integers(0, len(POOL) - 1), min_size=1, max_size=4, unique=True
                ).map(tuple),
            ),
            min_size=3,
            max_size=8,
        )
    )
    # One indicator per (value, collection, TLP): the same value again there would merge
    # into one indicator (the later last seen wins), which this model does not follow.
    seen: set[tuple[int, int, int]] = set()
    kept = []
    for report in reports:
        values = []
        for v in report.values:
            if (v, report.collection, report.tlp) not in seen:
                seen.add((v, report.collection, report.tlp))
                values.append(v)
        if values:
            kept.append(ReportSpec(**{**report.__dict__, "values": tuple(values)}))
    indices = st.integers(0, len(kept) - 1)
    revoked = draw(st.frozensets(indices, max_size=2))
    false_positives = draw(st.frozensets(st.integers(0, len(POOL) - 1), max_size=2))
    feeds = draw(
        st.lists(
            st.builds(
                FeedSpec,
                format=st.sampled_from(FORMATS),
                collections=st.frozensets(
                    st.integers(0, collections - 1), min_size=1, max_size=collections
                ),
                tlp=st.sampled_from((0, 1, 2, 2, 3, 4, 4)),
                min_score=st.sampled_from((0, 0, 0, 30, 50)),
                max_entries=st.sampled_from((2, 4, 1000, 1000)),
            ),
            min_size=3,
            max_size=6,
        )
    )
    return WorldSpec(collections, tuple(kept), revoked, false_positives, tuple(feeds))


# -- the model --------------------------------------------------------------------------


def decayed(confidence: int, age_days: float) -> float:
    if age_days >= LIFETIME_DAYS:
        return 0.0
    return confidence * (1.0 - (age_days / LIFETIME_DAYS) ** (1.0 / DECAY_SPEED))


@dataclass(frozen=True)
class Occurrence:
    value: str
    collection: int
    tlp: int
    score: float
    dead: bool  # revoked or past valid_until
    report: int


@dataclass
class World:
    spec: WorldSpec
    collections: list[str]
    occurrences: list[Occurrence]
    false_positives: set[str]
    log: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Verdict:
    """What the model says of a feed: values it must serve, may serve, may once have seen."""

    must: dict[str, float]  # clear-cut allowed value -> its best model score
    may: dict[str, float]  # allowed or borderline value -> its best model score
    once_visible: set[str]  # in its collections at or below its clearance, ever


def verdict(world: World, feed: FeedSpec) -> Verdict:
    floor = max(THRESHOLD, feed.min_score)
    must: dict[str, float] = {}
    may: dict[str, float] = {}
    once: set[str] = set()
    for occ in world.occurrences:
        if occ.collection not in feed.collections or occ.tlp > feed.tlp:
            continue
        once.add(occ.value)
        if occ.dead or occ.value in world.false_positives or occ.score < floor - TOLERANCE:
            continue
        may[occ.value] = max(may.get(occ.value, 0.0), occ.score)
        if occ.score >= floor + TOLERANCE:
            must[occ.value] = max(must.get(occ.value, 0.0), occ.score)
    return Verdict(must, may, once)


# -- building the world through the API ----------------------------------------------------


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _ok(reply, *expected: int):
    assert reply.status in expected, (reply.status, reply.body[:2000])
    return reply


def build(app: App, spec: WorldSpec) -> World:
    collections = [
        _ok(
            app.request(
                "POST", "/api/v1/admin/collections", json_body={"title": f"Feeds test {i}"}
            ),
            201,
        ).json()["id"]
        for i in range(spec.collections)
    ]
    now = datetime.now(UTC)
    world = World(spec, collections, [], {POOL[i] for i in spec.false_positives})
    submissions = []
    for n, report in enumerate(spec.reports):
        last = now - timedelta(days=report.age)
        first = last - timedelta(days=1)
        body = {
            "collection": collections[report.collection],
            "tlp": LEVELS[report.tlp],
            "confidence": report.confidence,
            "attack": {"kind": "ddos", "first_seen": _stamp(first), "last_seen": _stamp(last)},
            "campaign": {"name": f"Feeds campaign {n}"},
            "observables": [
                {
                    "type": "ipv4-addr",
                    "value": POOL[v],
                    "role": "source",
                    "first_seen": _stamp(first),
                    "last_seen": _stamp(last),
                }
                for v in report.values
            ],
        }
        if report.expired:
            body["valid_until"] = _stamp(now - timedelta(hours=3))
        submissions.append(_ok(app.submit(body), 201, 202).json()["id"])
        app.drain()
        dead = n in spec.revoked or report.expired
        score = decayed(report.confidence, report.age)
        for v in report.values:
            world.occurrences.append(
                Occurrence(POOL[v], report.collection, report.tlp, score, dead, n)
            )
        world.log.append(
            f"report #{n}: c{report.collection}/{LEVELS[report.tlp]} confidence "
            f"{report.confidence}, seen {report.age} days ago (score {score:.1f})"
            f"{', valid_until passed' if report.expired else ''}"
            f"{', revoked' if n in spec.revoked else ''}: {[POOL[v] for v in report.values]}"
        )
    for n in sorted(spec.revoked):
        _ok(
            app.request(
                "POST",
                f"/api/v1/submissions/{submissions[n]}/revoke",
                json_body={"reason": "feed visibility test"},
            ),
            200,
            202,
        )
        app.drain()
    for value in sorted(world.false_positives):
        _ok(
            app.request(
                "POST", "/api/v1/false-positives", json_body={"value": value, "reason": "test"}
            ),
            200,
            201,
        )
        world.log.append(f"false positive: {value}")
        app.drain()
    return world


# -- serving and checking ----------------------------------------------------------------


@dataclass
class Served:
    feed: FeedSpec
    bodies: dict[str, bytes]  # file -> raw body
    values: list[str]  # served (active) values, in order, once each
    deleted: set[str]  # MISP attributes flagged deleted
    truncated: bool


def addresses_in(data: bytes) -> list[str]:
    found = []
    for match in ADDRESS.finditer(data):
        text = match.group(1).decode()
        prefix = match.group(2)
        try:
            network = ipaddress.ip_network(f"{text}/{prefix.decode() if prefix else 32}")
        except ValueError:
            continue
        if network.subnet_of(NETWORK):  # type: ignore[arg-type]
            found += [str(a) for a in network] if network.prefixlen < 32 else [text]
    return list(dict.fromkeys(found))


def fetch(app: App, world: World, feed: FeedSpec, name: str) -> Served:
    definition = {
        "name": name,
        "format": feed.format,
        "types": ["ipv4-addr"],
        "collections": [world.collections[c] for c in sorted(feed.collections)],
        "tlp": LEVELS[feed.tlp],
        "min_score": feed.min_score,
        "max_entries": feed.max_entries,
    }
    created = _ok(app.request("POST", "/api/v1/admin/feeds", json_body=definition), 201)
    path = urlsplit(created.json()["url"]).path

    def get(file_path: str):
        return _ok(app.request("GET", file_path, key=False), 200)

    if feed.format != "misp":
        reply = get(path)
        bodies = {path.rsplit("/", 1)[-1]: reply.body}
        if feed.format == "suricata-iprep":
            bodies["categories.txt"] = get(path.rsplit("/", 1)[0] + "/categories.txt").body
        values = addresses_in(reply.body)
        return Served(feed, bodies, values, set(), reply.header("X-Steppe-Truncated") == "true")
    manifest = get(path + "/manifest.json")
    bodies = {"manifest.json": manifest.body, "hashes.csv": get(path + "/hashes.csv").body}
    values: list[str] = []
    deleted: list[str] = []
    for uuid in manifest.json():
        event = get(f"{path}/{uuid}.json")
        bodies[f"{uuid}.json"] = event.body
        for attribute in json.loads(event.body)["Event"]["Attribute"]:
            if not addresses_in(attribute["value"].encode()):
                continue
            (deleted if attribute["deleted"] else values).append(attribute["value"])
    return Served(
        feed,
        bodies,
        list(dict.fromkeys(values)),
        set(deleted),
        manifest.header("X-Steppe-Truncated") == "true",
    )


def _mentions(data: bytes, value: str) -> bool:
    return re.search(rb"(?<![0-9.])" + re.escape(value.encode()) + rb"(?![0-9])", data) is not None


def violations(world: World, served: Served) -> list[str]:
    """Everything the served feed shows that its definition may not, or misses."""
    feed = served.feed
    model = verdict(world, feed)
    problems = []
    label = (
        f"{feed.format} feed of {sorted(f'c{c}' for c in feed.collections)} "
        f"cleared {LEVELS[feed.tlp]}, min_score {feed.min_score}, max {feed.max_entries}"
    )
    for value in served.values:
        if value not in model.may:
            problems.append(f"{label}: serves {value}, which it may not")
    for value in served.deleted - model.once_visible:
        problems.append(f"{label}: names {value} as deleted, never visible to it")
    never_visible = set(POOL) - model.once_visible
    for name, body in served.bodies.items():
        for value in sorted(never_visible):
            if _mentions(body, value):
                problems.append(f"{label}: file {name} mentions {value}, never visible to it")
    if len(served.values) > feed.max_entries:
        problems.append(f"{label}: {len(served.values)} values, over its cap")
    if served.truncated:
        if len(served.values) != feed.max_entries:
            problems.append(f"{label}: truncated at {len(served.values)} values")
        lowest = min((model.may.get(v, 0.0) for v in served.values), default=100.0)
        for value, score in model.must.items():
            if value not in served.values and score > lowest + TOLERANCE:
                problems.append(
                    f"{label}: cut {value} (score {score:.1f}) but serves one of {lowest:.1f}"
                )
    else:
        for value in sorted(set(model.must) - set(served.values)):
            problems.append(f"{label}: misses {value}, which it must serve (not truncated)")
    return problems


def _note(world: World, served: Served) -> None:
    """What the example exercised (pytest --hypothesis-show-statistics)."""
    if served.values:
        event(f"{served.feed.format} feed served values")
    if served.truncated:
        event("a feed was truncated")
    if served.deleted:
        event("a MISP feed named deleted values")
    model = verdict(world, served.feed)
    if model.once_visible - set(model.may):
        event("a feed held back a value it could once see")


def check_world(spec: WorldSpec, noting: bool = False) -> list[str]:
    with tempfile.TemporaryDirectory() as directory:
        app = open_app(Path(directory) / "data", "sqlite", STEPPE_FEED_STALE_SECONDS="0")
        try:
            world = build(app, spec)
            problems = []
            for i, feed in enumerate(spec.feeds):
                served = fetch(app, world, feed, f"feed-{i}")
                if noting:
                    _note(world, served)
                problems += violations(world, served)
        finally:
            app.close()
    if problems:
        problems.append("the world:\n  " + "\n  ".join(world.log))
    return problems


R = ReportSpec
# Every rule at once: a value shared by GREEN and (revoked) RED reports and across
# collections, one past its lifetime, one past valid_until, one decayed under the
# threshold, a false positive, a collection no feed reads; every format, a capped feed.
STORY = WorldSpec(
    collections=3,
    reports=(
        R(0, 1, 90, 0.5, False, (0, 1, 2)),
        R(0, 4, 80, 1.0, False, (2, 3)),
        R(1, 2, 60, 2.0, False, (4, 5, 0)),
        R(1, 1, 100, 25.0, False, (6,)),
        R(0, 0, 70, 0.5, True, (7,)),
        R(2, 1, 90, 0.5, False, (8, 9)),
        R(0, 1, 40, 14.0, False, (10,)),
        R(0, 2, 50, 2.0, False, (11,)),
    ),
    revoked=frozenset({1}),
    false_positives=frozenset({5}),
    feeds=(
        *(FeedSpec(f, frozenset({0, 1}), 2, 0, 1000) for f in FORMATS),
        FeedSpec("csv", frozenset({0, 1}), 4, 30, 2),
        FeedSpec("misp", frozenset({0}), 2, 45, 1000),
    ),
)


@settings(max_examples=15, deadline=None)
@example(STORY)
@given(worlds())
def test_feeds_serve_only_what_their_definition_may_see(spec: WorldSpec):
    problems = check_world(spec, noting=True)
    assert not problems, "\n".join(problems)


# -- the oracle itself: a planted leak is found ---------------------------------------------

LEAKY_WORLD = WorldSpec(
    collections=2,
    reports=(
        ReportSpec(0, 1, 90, 0.5, False, (0, 1)),  # GREEN in c0
        ReportSpec(0, 4, 90, 0.5, False, (2,)),  # RED in c0
        ReportSpec(1, 1, 90, 0.5, False, (3,)),  # GREEN in c1, outside the feeds
    ),
    revoked=frozenset(),
    false_positives=frozenset(),
    feeds=tuple(FeedSpec(f, frozenset({0}), 1, 0, 1000) for f in FORMATS),
)


def test_the_oracle_finds_nothing_wrong_in_a_plain_world():
    assert check_world(LEAKY_WORLD) == []


def test_the_oracle_reports_a_feed_that_ignores_tlp(monkeypatch: pytest.MonkeyPatch):
    from steppe.distribution.feed_service import FeedService
    from steppe.store.port.feed_index import FeedSelection

    honest = FeedService._selection

    def ignoring_tlp(self: FeedService, feed) -> FeedSelection:
        chosen = honest(self, feed)
        return FeedSelection(chosen.collections, chosen.types, 4, chosen.min_score)

    monkeypatch.setattr(FeedService, "_selection", ignoring_tlp)
    problems = check_world(LEAKY_WORLD)
    leaked = POOL[2]
    for feed_format in FORMATS:
        assert any(p.startswith(f"{feed_format} feed") and leaked in p for p in problems), (
            feed_format,
            problems,
        )
    assert not any(POOL[3] in p for p in problems[:-1])
