"""Score recomputation for 1,000,000 indicators (issue 10), in process: no server, no store.

Figures, each next to a baseline measured in the same run:

* `scores_at` over 1,000,000 indicators on one curve (ages spread over the
  whole lifetime and past it, so every branch runs), next to a plain loop over
  the same items computing nothing but one multiply each: what any Python pass
  over a million values costs;
* `expires_at` for 10,000 indicators (exact to the microsecond), per
  indicator, next to one `score_at` call.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable

from bench.common import heading, row
from steppe.scoring.decay_curve import MICROSECONDS_PER_DAY, DecayCurve
from steppe.scoring.decay_score import expires_at, score_at, scores_at

INDICATORS = 1_000_000
EXPIRIES = 10_000
ROUNDS = 3
NOW = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z
CURVE = DecayCurve(lifetime_days=30, decay_speed=1.5, threshold=20)


def population(count: int) -> tuple[list[int], list[int]]:
    rng = random.Random(10)
    span = 40 * MICROSECONDS_PER_DAY  # past the 30-day lifetime for a quarter of them
    bases = [rng.randint(0, 100) for _ in range(count)]
    last_seen = [NOW - rng.randrange(span) for _ in range(count)]
    return bases, last_seen


def best_of(work: Callable[[], object]) -> float:
    timings = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return min(timings)


def multiply_only(bases: list[int], last_seen: list[int]) -> list[float]:
    return [base * 0.5 for base, _ in zip(bases, last_seen, strict=True)]


def run() -> None:
    heading("Decay scoring, in process")
    bases, last_seen = population(INDICATORS)
    recompute = best_of(lambda: scores_at(bases, last_seen, NOW, CURVE))
    baseline = best_of(lambda: multiply_only(bases, last_seen))
    row(
        f"recompute {INDICATORS:,} scores (scores_at)",
        f"{recompute:.3f} s",
        f"a multiply per item: {baseline:.3f} s",
        f"ratio {recompute / baseline:.1f}; best of {ROUNDS}",
    )
    sample = list(zip(bases[:EXPIRIES], last_seen[:EXPIRIES], strict=True))
    expiry = best_of(lambda: [expires_at(b, s, CURVE) for b, s in sample]) / EXPIRIES
    one_score = best_of(lambda: [score_at(b, s, NOW, CURVE) for b, s in sample]) / EXPIRIES
    row(
        f"expires_at, per indicator ({EXPIRIES:,})",
        f"{expiry * 1e6:.1f} µs",
        f"one score_at: {one_score * 1e6:.2f} µs",
        f"ratio {expiry / one_score:.0f}",
    )
    kept = scores_at(bases, last_seen, NOW, CURVE)
    row(
        "  (scores: median, share at 0)",
        f"{statistics.median(kept):.0f}",
        f"{sum(1 for score in kept if score == 0) / len(kept):.0%} at 0",
    )


if __name__ == "__main__":
    run()
