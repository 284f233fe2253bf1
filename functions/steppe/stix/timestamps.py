"""Timestamps as STIX and TAXII write them, and as the stores keep them.

Stores keep every instant as an integer count of microseconds since the Unix
epoch (UTC): it sorts, compares and indexes cheaply. These helpers convert at
the edges.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime
from functools import lru_cache

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# RFC 3339 in UTC with a "Z", any sub-second precision (STIX allows any).
_STIX_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?Z$", re.ASCII
)
# What an analyst's times may be (parse_instant): an instant of the years 1970 to 9999, UTC.
FIRST_YEAR, LAST_YEAR = 1970, 9999
# Longer text is no timestamp; it is refused before any parser reads it.
MAX_TIMESTAMP_CHARS = 64


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
            f"{_shown(value)} is not a timestamp of the form YYYY-MM-DDTHH:MM:SS[.s]Z (UTC)"
        )
    year, month, day, hour, minute, second, fraction = match.groups()
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=UTC
        )
    except ValueError as exc:
        raise TimestampError(f"{_shown(value)} is not a valid date and time: {exc}") from None
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + micros


# The objects of one submission or envelope share a handful of timestamps (their
# created, modified, valid_from...): bulk paths parse each distinct one once.
cached_micros = lru_cache(maxsize=8192)(parse_micros)


def micros_or_none(value: object) -> int | None:
    """A stored object's timestamp property in epoch microseconds; None when it is absent
    or not a timestamp (what a reader of content it did not write tolerates)."""
    if not isinstance(value, str):
        return None
    try:
        return cached_micros(value)
    except TimestampError:
        return None


_RANGE = (0, parse_micros(f"{LAST_YEAR}-12-31T23:59:59.999999Z"))


def parse_instant(value: object) -> int:
    """Epoch microseconds from what people write: a STIX timestamp, an RFC 3339 / ISO 8601
    time with an offset ("2009-01-18T06:00:00+06:00"), or a date alone (midnight UTC).

    TimestampError (a ValueError) with a sentence for anything else, for a time
    without an offset, and for an instant outside the years 1970..9999 in UTC
    (9999-12-31T23:59:59-14:00 is one: it is in the year 10000 in UTC).
    """
    if not isinstance(value, str):
        raise TimestampError(f"{value!r} is not a timestamp (e.g. 2009-01-18T00:00:00Z)")
    text = value.strip()
    try:
        micros = parse_micros(text)
    except TimestampError:
        micros = _iso_micros(text)
    if not _RANGE[0] <= micros <= _RANGE[1]:
        raise TimestampError(f"{_shown(text)} is outside the years {FIRST_YEAR}..{LAST_YEAR} (UTC)")
    return micros


def _iso_micros(text: str) -> int:
    bad = f"{_shown(text)} is not a timestamp (e.g. 2009-01-18T00:00:00Z or 2009-01-18)"
    if len(text) > MAX_TIMESTAMP_CHARS or not text.isascii():
        raise TimestampError(bad)
    try:
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        raise TimestampError(bad) from None
    if moment.tzinfo is None:
        raise TimestampError(f"{_shown(text)} has no time zone; end it with Z for UTC")
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:  # the offset moves it past year 9999 (or before year 1)
        raise TimestampError(
            f"{_shown(text)} is outside the years {FIRST_YEAR}..{LAST_YEAR} (UTC)"
        ) from None
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _shown(text: str, limit: int = 64) -> str:
    """A value in a message: quoted, and cut when long."""
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}… ({len(text):,} characters)"


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
