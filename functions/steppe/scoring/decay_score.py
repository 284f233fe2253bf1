"""An indicator's score at a moment, and the moment it expires, on a decay curve.

Times are integer microseconds since the epoch. The score is an integer from 0
to 100: the curve's value rounded down, so it equals the base score when the
indicator was just seen, never rises with time, and is 0 once the lifetime
since last seen is over. A moment before last seen (a clock ahead of ours)
scores the base.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from steppe.errors import InvalidInput
from steppe.scoring.decay_curve import DecayCurve

# The base score of an indicator whose report gives no confidence and whose
# template gives no default: STIX's "neither confirmed nor refuted" middle.
DEFAULT_CONFIDENCE = 50

# Around the closed-form estimate of the expiry, how far the exact search first looks.
_SEARCH_WINDOW_US = 1024


def _check_score(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise InvalidInput(f"{name} must be an integer from 0 to 100, not {value!r}", where=name)
    return value


def base_score(confidence: int | None, default: int = DEFAULT_CONFIDENCE) -> int:
    """The score an indicator starts from: the report's STIX confidence (0-100) as it is.

    Without a confidence, `default`: callers pass the template's report.confidence
    (what the report object itself carries then); DEFAULT_CONFIDENCE otherwise.
    """
    _check_score(default, "default")
    if confidence is None:
        return default
    return _check_score(confidence, "confidence")


def score_at(base: int, last_seen_us: int, now_us: int, curve: DecayCurve) -> int:
    """The score at `now_us` of an indicator scored `base` when last seen at `last_seen_us`."""
    _check_score(base, "base")
    elapsed = now_us - last_seen_us
    if elapsed <= 0:
        return base
    if elapsed >= curve.lifetime_us:
        return 0
    return int(base * (1.0 - (elapsed / curve.lifetime_us) ** curve.exponent))


def scores_at(
    bases: Sequence[int], last_seen_us: Sequence[int], now_us: int, curve: DecayCurve
) -> list[int]:
    """score_at for many indicators on one curve (same results), without per-item overhead.

    Callers group indicators by curve; each group is one call.
    """
    if len(bases) != len(last_seen_us):
        raise InvalidInput(
            f"{len(bases)} bases but {len(last_seen_us)} last-seen times", where="last_seen_us"
        )
    if bases:
        _check_score(min(bases), "bases")
        _check_score(max(bases), "bases")
    lifetime = curve.lifetime_us
    exponent = curve.exponent
    return [
        base
        if (elapsed := now_us - seen) <= 0
        else 0
        if elapsed >= lifetime
        else int(base * (1.0 - (elapsed / lifetime) ** exponent))
        for base, seen in zip(bases, last_seen_us, strict=True)
    ]


def is_expired(base: int, last_seen_us: int, now_us: int, curve: DecayCurve) -> bool:
    """Below the curve's threshold, or past its lifetime (the only end when threshold is 0)."""
    return now_us - last_seen_us >= curve.lifetime_us or (
        score_at(base, last_seen_us, now_us, curve) < curve.threshold
    )


def expires_at(base: int, last_seen_us: int, curve: DecayCurve) -> int:
    """The first microsecond, from last seen on, at which is_expired holds.

    Never None: every curve has a finite lifetime. A base already below the
    threshold expires at `last_seen_us` itself (born expired). The result is
    exact: is_expired is False one microsecond earlier and True from it on.
    """
    _check_score(base, "base")
    return last_seen_us + _expiry_offset(base, curve)


@lru_cache(maxsize=4096)
def _expiry_offset(base: int, curve: DecayCurve) -> int:
    """How long after last seen an indicator scored `base` expires: a score depends only on
    the time since last seen, so the offset is the same for every last seen (cached)."""
    end = curve.lifetime_us
    threshold = curve.threshold
    if base < threshold:
        return 0
    if threshold == 0:
        return end

    def expired(elapsed: int) -> bool:
        return score_at(base, 0, elapsed, curve) < threshold

    # floor(base * (1 - x)) < threshold  <=>  x > 1 - threshold / base, x = (elapsed / lifetime)
    # ** (1 / speed); floats make the estimate close, the search below makes it exact.
    estimate = int(curve.lifetime_us * (1 - threshold / base) ** curve.decay_speed) + 1
    low = max(0, estimate - _SEARCH_WINDOW_US)
    high = min(end, estimate + _SEARCH_WINDOW_US)
    if expired(low) or not expired(high):
        low, high = 0, end
    while high - low > 1:  # expired(low) is False, expired(high) is True
        middle = (low + high) // 2
        if expired(middle):
            high = middle
        else:
            low = middle
    return high
