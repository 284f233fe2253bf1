"""Timestamps as STIX and TAXII write them, and as the stores keep them.

Stores keep every instant as an integer count of microseconds since the Unix
epoch (UTC): it sorts, compares and indexes cheaply. These helpers convert at
the edges.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# RFC 3339 in UTC with a "Z", any sub-second precision (STIX allows any).
_STIX_TIMESTAMP = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?Z$")


class TimestampError(ValueError):
    """A string that is not a STIX/TAXII timestamp."""


def now_micros() -> int:
    """The current instant, in microseconds since the epoch."""
    return time.time_ns() // 1000


def parse_micros(value: str) -> int:
    """Parse an RFC 3339 UTC timestamp ending in "Z" into epoch microseconds.

    Digits beyond the microsecond are dropped (truncated, never rounded up, so
    an instant never moves later than what was written).
    """
    if not isinstance(value, str):
        raise TimestampError(f"expected a timestamp string, got {type(value).__name__}")
    match = _STIX_TIMESTAMP.match(value)
    if match is None:
        raise TimestampError(
            f"'{value}' is not a timestamp of the form YYYY-MM-DDTHH:MM:SS[.s]Z (UTC)"
        )
    year, month, day, hour, minute, second, fraction = match.groups()
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=UTC
        )
    except ValueError as exc:
        raise TimestampError(f"'{value}' is not a valid date and time: {exc}") from None
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + micros


def format_taxii(micros: int) -> str:
    """Microsecond precision, as TAXII requires of date_added: 2009-01-18T00:00:00.000000Z."""
    seconds, fraction = divmod(micros, 1_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{fraction:06d}Z"


def format_stix(micros: int) -> str:
    """Millisecond precision when that loses nothing, microseconds otherwise.

    STIX requires at least millisecond precision for created/modified; a
    version written with microseconds keeps them, so the same instant always
    formats to the same string.
    """
    seconds, fraction = divmod(micros, 1_000_000)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    if fraction % 1000 == 0:
        return f"{stamp}.{fraction // 1000:03d}Z"
    return f"{stamp}.{fraction:06d}Z"


def normalize_stix(value: str) -> str:
    """The canonical STIX form of a timestamp string (see format_stix)."""
    return format_stix(parse_micros(value))
