"""How long a failed job waits before its next attempt: one rule for both shapes.

Exponential: the base after the first failure, doubling with each receive,
capped. The embedded worker applies it when it settles a failed job; on AWS
the worker function shortens the failed message's visibility to it, instead
of leaving it invisible for the queue's whole visibility timeout (30 minutes).
"""

from __future__ import annotations

RETRY_BASE_SECONDS = 10.0
RETRY_MAX_SECONDS = 900.0


def retry_delay(
    attempts: int, base: float = RETRY_BASE_SECONDS, cap: float = RETRY_MAX_SECONDS
) -> float:
    """Seconds to wait after the `attempts`-th attempt (1 for the first) failed."""
    return min(cap, base * 2 ** max(0, attempts - 1))
