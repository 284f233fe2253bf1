"""`csv`: one row per entry, with what a SIEM or a spreadsheet wants beside the value.

Header: value,type,score,confidence,first_seen,last_seen,valid_until,campaign,source
RFC 4180: CRLF line ends, a field quoted when it holds a comma, a double
quote (doubled inside) or a line break. Times are ISO 8601 in UTC with a Z
(steppe.stix.timestamps.format_stix); an absent value is an empty field.
Values are written as stored (URLs with their scheme, domains in punycode):
this format is read by tools, not matched by a firewall. There is no comment
line (RFC 4180 has none); a truncated feed says so in the HTTP response.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from functools import lru_cache

from steppe.stix.timestamps import format_stix

from .entries import ENTRY_TYPES, FeedEntry, FeedInfo

MEDIA_TYPE = "text/csv; charset=utf-8; header=present"
FORMAT_TYPES = ENTRY_TYPES
HEADER = (
    "value",
    "type",
    "score",
    "confidence",
    "first_seen",
    "last_seen",
    "valid_until",
    "campaign",
    "source",
)


# Entries of one report share their times: formatting each distinct instant once
# halves the cost of a large feed.
_format = lru_cache(maxsize=65_536)(format_stix)


def _time(micros: int | None) -> str:
    return "" if micros is None else _format(micros)


def _text(value: object) -> str:
    return "" if value is None else str(value)


def row(entry: FeedEntry) -> tuple[str, ...]:
    return (
        entry.value,
        entry.type,
        str(entry.score),
        _text(entry.confidence),
        _time(entry.first_seen),
        _time(entry.last_seen),
        _time(entry.valid_until),
        _text(entry.campaign),
        _text(entry.source),
    )


def render(entries: Sequence[FeedEntry], info: FeedInfo) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(HEADER)
    writer.writerows(row(entry) for entry in entries)
    return buffer.getvalue().encode("utf-8")
