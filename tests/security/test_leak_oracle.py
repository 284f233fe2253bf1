"""The leak oracle: nothing a caller may not see reaches it, on any read endpoint.

Random worlds (tests/support/leak_world.py) are built through the public API
on both store adapters: collections, partners and analysts with random rights
and clearances, reports and TAXII envelopes at every TLP level sharing values,
campaign names and /24 networks, false positives, a revocation, a partner
posting a campaign under the id of one it may not see. Every caller then reads
everything it can ask for (TAXII objects, object, versions, manifest,
collections, others' statuses; observables, lookups, campaigns, campaign,
false positives, submissions), and no token it may not see may appear in any
response body or header. Campaigns it may not see must answer 404.

The model of who may see what is the test's own (leak_world.Viewer.sees): an
occurrence is visible iff its collection is readable by the caller and its TLP
at or below the caller's clearance.

Budgets: the embedded shape runs more examples and shrinks a failure; on moto
each world costs ten times more, so it runs fewer and reports the first
failing world as found (the embedded run shrinks the same worlds).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import Phase, example, given, settings

from support.app import open_app
from support.leak_world import (
    CallerSpec,
    PostSpec,
    WorldSpec,
    build,
    probe,
    report,
    worlds,
)

C, P = CallerSpec, PostSpec
ALL = frozenset({0, 1})
# Finding 1: two RED reports in a restricted collection and two GREEN ones in a shared
# collection use the same two campaign names; a GREEN partner reads the shared one.
CROSS_COLLECTION = WorldSpec(
    collections=2,
    callers=(
        C("partner", 1, frozenset({1}), frozenset({1})),
        C("analyst", 4, ALL, ALL),
        C("analyst", 2, frozenset({1}), frozenset()),
    ),
    posts=(
        P(False, 0, 4, 0, (0,), 1, 0, 1, True),
        P(False, 0, 4, 1, (0,), 1, 0, 1, False),
        P(False, 1, 1, 0, (1,), 1, 0, 1, False),
        P(False, 1, 1, 1, (1,), 1, 0, 1, False),
        P(True, 1, 1, 0, (2,), 1, 1, 0, False),
    ),
    false_positives=(0,),
    revoke=None,
    hostile=False,
)
# Finding 2 and 6: a RED campaign of its own name in a restricted collection, a GREEN
# partner posting into the shared one under that campaign's id; a false positive
# declared on a RED-only value; a revoked submission.
HOSTILE = WorldSpec(
    collections=2,
    callers=(
        C("partner", 1, frozenset({1}), frozenset({1})),
        C("analyst", 4, ALL, ALL),
    ),
    posts=(
        P(False, 0, 4, 2, (), 2, 1, 1, True),
        P(False, 1, 1, 0, (3,), 1, 2, 1, False),
        P(True, 0, 3, 1, (), 1, 1, 1, False),
    ),
    false_positives=(1,),
    revoke=1,
    hostile=True,
)


def check_world(backend: str, spec: WorldSpec) -> None:
    with tempfile.TemporaryDirectory() as directory:
        app = open_app(Path(directory) / "data", backend)
        try:
            world = build(app, spec)
            leaks = probe(app, world)
        finally:
            app.close()
    assert not leaks, report(world, leaks)


@settings(max_examples=12)
@example(CROSS_COLLECTION)
@example(HOSTILE)
@given(worlds())
def test_no_caller_reads_what_it_may_not_see_embedded(spec: WorldSpec):
    check_world("sqlite", spec)


@settings(max_examples=2, phases=(Phase.explicit, Phase.reuse, Phase.generate))
@example(CROSS_COLLECTION)
@example(HOSTILE)
@given(worlds())
def test_no_caller_reads_what_it_may_not_see_on_aws(spec: WorldSpec):
    check_world("aws", spec)


# -- the oracle itself: a world where nothing may leak, on any implementation -----------

EVERYONE = frozenset({0})
OPEN_WORLD = WorldSpec(
    collections=1,
    callers=(
        C("partner", 4, EVERYONE, EVERYONE),
        C("analyst", 4, EVERYONE, EVERYONE),
        C("partner", 4, EVERYONE, frozenset()),
    ),
    posts=(
        P(False, 0, 4, 0, (0, 1), 2, 0, 1, True),
        P(False, 0, 1, 0, (0, 4), 1, 0, 1, False),
        P(True, 0, 2, 1, (1, 4), 1, 1, 0, False),
        P(False, 0, 0, 1, (2,), 1, 2, 1, True),
        P(True, 0, 3, 2, (2, 3), 1, 0, 0, False),
    ),
    false_positives=(0, 3),
    revoke=1,
    hostile=True,
)


@pytest.mark.parametrize("backend", ["sqlite", "aws"])
def test_the_oracle_finds_nothing_where_everyone_may_see_everything(backend: str):
    check_world(backend, OPEN_WORLD)
