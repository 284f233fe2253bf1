"""The leak oracle: nothing a caller may not see reaches it, on any read endpoint.

Random worlds (tests/support/leak_world.py) are built through the public API
on both store adapters: collections, partners and analysts with random rights
and clearances, reports and TAXII envelopes at every TLP level sharing values,
campaign names and /24 networks, false positives, a revocation, a partner
posting a campaign under the id of one it may not see. Every caller then reads
everything it can ask for (TAXII objects, object, versions, manifest,
collections, others' statuses; observables, lookups (of values and of free
text), campaigns, campaign, the campaign graph, false positives, submissions),
and no token it may not see may appear in any response body or header.
Campaigns it may not see must answer 404, and the graph must hold no node for
one, and no edge naming evidence the caller may not see.

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

from hypothesis import Phase, example, given, settings

from support.app import open_app
from support.leak_world import (
    FULL,
    LIGHT,
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
# The findings in one world. Finding 1: two RED reports in a restricted
# collection (c0) and two GREEN ones in a shared collection (c1) use the same two
# campaign names; a GREEN partner and an AMBER analyst read only c1. Finding 2: a RED
# campaign of its own name in c0, and the partner posts a campaign under its id into
# c1. Finding 6: a false positive declared on a RED-only address. A RED submission
# revoked, a partner's TAXII envelope, a victim address. Issue 12: that envelope's
# campaign and a RED one in c0 use the same malware family and share a sample.
STORY = WorldSpec(
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
        P(False, 0, 4, 2, (), 1, 2, 1, False),
        P(True, 1, 1, 0, (2,), 1, 1, 0, False, 0),
        P(True, 0, 4, 1, (), 1, 2, 1, False, 0),
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
            leaks = probe(app, world, LIGHT if backend == "aws" else FULL)
        finally:
            app.close()
    assert not leaks, report(world, leaks)


@settings(max_examples=10)
@example(STORY)
@given(worlds())
def test_no_caller_reads_what_it_may_not_see_embedded(spec: WorldSpec):
    check_world("sqlite", spec)


@settings(max_examples=1, phases=(Phase.explicit, Phase.reuse, Phase.generate))
@example(STORY)
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
        P(True, 0, 2, 1, (1, 4), 1, 0, 0, False),
        P(False, 0, 1, 1, (0, 4), 1, 0, 1, False),
    ),
    false_positives=(0, 3),
    revoke=1,
    hostile=True,
)


def test_the_oracle_finds_nothing_where_everyone_may_see_everything():
    # The model and the checker do not depend on the store; on moto this world would
    # cost half a minute more and prove nothing the embedded run does not.
    check_world("sqlite", OPEN_WORLD)
