"""A decay curve: how fast an indicator's score falls, and where it counts as expired.

The shape is the polynomial of MISP's decaying model, also used by OpenCTI's
decay rules: score(t) = base * (1 - (t / lifetime) ** (1 / decay_speed)), with
t the time since the indicator was last seen. decay_speed 1 is a straight
line; above 1 the score drops fast at first, below 1 it holds and then drops
near the end. The indicator expires once its score is below `threshold` (or,
with threshold 0, when the lifetime is over).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

from steppe.errors import InvalidInput

MICROSECONDS_PER_DAY = 86_400 * 1_000_000


@dataclass(frozen=True)
class DecayCurve:
    """lifetime_days > 0, decay_speed > 0, 0 <= threshold < 100 (InvalidInput otherwise)."""

    lifetime_days: float
    decay_speed: float
    threshold: int
    lifetime_us: int = field(init=False, repr=False, compare=False)
    exponent: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_number(self.lifetime_days, "lifetime_days")
        _check_number(self.decay_speed, "decay_speed")
        if not self.lifetime_days > 0:
            raise InvalidInput(
                f"lifetime_days must be above 0, not {self.lifetime_days}", where="lifetime_days"
            )
        if not self.decay_speed > 0:
            raise InvalidInput(
                f"decay_speed must be above 0, not {self.decay_speed}", where="decay_speed"
            )
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, int):
            raise InvalidInput(
                f"threshold must be an integer, not {self.threshold!r}", where="threshold"
            )
        if not 0 <= self.threshold < 100:
            raise InvalidInput(
                f"threshold must be from 0 to 99, not {self.threshold}", where="threshold"
            )
        lifetime_us = round(self.lifetime_days * MICROSECONDS_PER_DAY)
        if lifetime_us < 1:
            raise InvalidInput("lifetime_days must last at least 1 µs", where="lifetime_days")
        object.__setattr__(self, "lifetime_us", lifetime_us)
        object.__setattr__(self, "exponent", 1 / self.decay_speed)


def _check_number(value: object, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(f"{name} must be a finite number, not {value!r}", where=name)


@lru_cache(maxsize=1024)
def decay_curve(lifetime_days: float, decay_speed: float, threshold: int) -> DecayCurve:
    """The curve of these parameters, built once (indicators share a few dozen curves)."""
    return DecayCurve(lifetime_days, decay_speed, threshold)


# For a template without a `decay:` section: a quarter-year, straight line, expired below 20.
DEFAULT_CURVE = DecayCurve(lifetime_days=90, decay_speed=1.0, threshold=20)
