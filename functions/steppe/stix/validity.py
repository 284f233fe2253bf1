"""The lifecycle of a STIX object: until when it is valid, and whether it is revoked.

A collection can serve only active objects (Collection.active_only), for
SIEMs that cannot handle expiry and revocation themselves. Writers read each
version's lifecycle here once, when they store it (ObjectVersion.valid_until
and .revoked), so that the stores can filter on it without parsing bodies.

* valid_until: in STIX 2.1 only indicators carry it ("the time at which this
  indicator should no longer be considered a valid indicator"); it is read
  from any object that has it. A value that is not a STIX timestamp counts as
  absent: the object then never expires (its producer said nothing usable).
* revoked: only the JSON value true counts (a string "true" is not a revocation).

An object is active at an instant when it is not revoked and its valid_until,
if any, lies after that instant (the STIX definition: valid_until is the
first instant at which it is no longer valid).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from steppe.stix.timestamps import cached_micros as _micros


def lifecycle_of(obj: Mapping[str, Any]) -> tuple[int | None, bool]:
    """(valid_until in epoch microseconds or None, revoked) of a STIX object dict."""
    return valid_until_of(obj), obj.get("revoked") is True


def valid_until_of(obj: Mapping[str, Any]) -> int | None:
    """The object's valid_until in epoch microseconds; None when absent or malformed."""
    value = obj.get("valid_until")
    if not isinstance(value, str):
        return None
    try:
        return _micros(value)
    except ValueError:  # TimestampError: not a STIX timestamp
        return None


def is_active(valid_until: int | None, revoked: bool, at: int) -> bool:
    """Whether a version with this lifecycle is served at instant `at` (epoch µs).

    The rule every store applies for ObjectQuery.active_at.
    """
    return not revoked and (valid_until is None or valid_until > at)
