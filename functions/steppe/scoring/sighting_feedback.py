"""What a sighting does to a score: a true positive refreshes it, a false positive lowers it.

A score is kept as its base and the moment the indicator was last seen; the
score at any time follows from the curve (decay_score.score_at). Neither rule
looks at the curve, so each holds for every curve: a refresh never lowers the
score at any moment, a penalty never raises it.
"""

from __future__ import annotations

from dataclasses import dataclass

from steppe.errors import InvalidInput

# A true positive is fresh evidence: the decay restarts from the sighting and
# the base gains a little, up to 100.
TRUE_POSITIVE_BUMP = 10
# A false positive costs a defender more (legitimate traffic blocked) than a
# missed refresh, so it weighs more: 25 points off the base, down to 0. It does
# not move last seen: it is no evidence the indicator is still in use.
FALSE_POSITIVE_PENALTY = 25


@dataclass(frozen=True)
class ScoreState:
    """An indicator's base score (0-100) and when it was last seen (µs since the epoch)."""

    base: int
    last_seen_us: int

    def __post_init__(self) -> None:
        if isinstance(self.base, bool) or not isinstance(self.base, int):
            raise InvalidInput(f"base must be an integer, not {self.base!r}", where="base")
        if not 0 <= self.base <= 100:
            raise InvalidInput(f"base must be from 0 to 100, not {self.base}", where="base")


def _check_points(value: int, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise InvalidInput(f"{name} must be an integer from 0 to 100, not {value!r}", where=name)


def refresh(state: ScoreState, sighted_us: int, *, bump: int = TRUE_POSITIVE_BUMP) -> ScoreState:
    """After a true-positive sighting at `sighted_us`.

    Last seen moves to the sighting, never back (a late report of an older
    sighting keeps the newer last seen); the base gains `bump`, capped at 100.
    """
    _check_points(bump, "bump")
    return ScoreState(min(100, state.base + bump), max(state.last_seen_us, sighted_us))


def penalty(state: ScoreState, *, points: int = FALSE_POSITIVE_PENALTY) -> ScoreState:
    """After a false-positive sighting: the base loses `points`, down to 0; last seen stays."""
    _check_points(points, "points")
    return ScoreState(max(0, state.base - points), state.last_seen_us)
