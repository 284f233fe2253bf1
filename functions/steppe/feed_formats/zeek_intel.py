"""`zeek`: an input file of Zeek's Intelligence Framework.

Facts relied on (Zeek docs, "Intelligence Framework", base/frameworks/intel
and the input framework's ASCII reader):
- a header line `#fields` followed by the column names, all separated by a
  single TAB; then one indicator per line, fields separated by TABs.
  Columns: indicator, indicator_type, then Intel::MetaData fields by name
  (meta.source is required; meta.desc and meta.url are optional).
- `-` is an unset field (the reader's unset_field). meta.url stays unset
  until steppe serves a page per indicator; meta.desc names the indicator
  id, its score, attack kind and campaign.
- types: Intel::ADDR (an address), Intel::SUBNET (a CIDR block; Zeek 2.6 and
  later match seen addresses against it), Intel::DOMAIN, Intel::URL (written
  without the scheme: Zeek's HTTP seen-script compares host + URI, without
  `http://`), Intel::EMAIL, Intel::FILE_HASH (the hex digest; Zeek hashes
  files with MD5, SHA1 and SHA256).
- autonomous systems have no Intel type and are left out.
- the ASCII reader splits on TAB and reads one line per record, so a TAB, CR
  or LF inside a metadata field is replaced by a space here (values never hold
  one: they are normalised). A field that would be empty is written `-`.
- lines starting with `#` other than the header are not data: a truncated
  feed adds a `#` comment line saying so (the reader skips `#` lines).

Load it (local.zeek; the file refreshed by a periodic fetch; Zeek re-reads a
changed intel file, as the input framework's REREAD mode does). Re-reading
adds and refreshes items but does not drop those gone from the file; so that
an expired indicator ages out of Zeek too, load do_expire with an
Intel::item_expiration longer than the fetch interval (a re-read reinserts
every listed item, which resets its timeout, so only dropped ones expire):

    @load frameworks/intel/seen
    @load frameworks/intel/do_notice
    @load frameworks/intel/do_expire
    redef Intel::read_files += { "/opt/zeek/intel/steppe.intel" };
    redef Intel::item_expiration = 2 hr;  # with an hourly fetch
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from steppe.observables.normalize import domain_value

from .entries import FeedEntry, FeedInfo
from .feed_values import network_text, url_without_scheme

MEDIA_TYPE = "text/tab-separated-values; charset=utf-8"
FORMAT_TYPES = frozenset({"ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr", "file"})
HEADER = "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url"
UNSET = "-"
_BREAKS = re.compile(r"[\t\r\n]+")


def field(text: str | None) -> str:
    """A metadata field: TAB, CR and LF replaced by a space; empty or absent -> `-`."""
    if not text:
        return UNSET
    cleaned = _BREAKS.sub(" ", text).strip()
    return cleaned or UNSET


def indicator(entry: FeedEntry) -> tuple[str, str] | None:
    """(indicator, Intel type), or None for a type Zeek has no indicator for."""
    kind = entry.type
    if kind in ("ipv4-addr", "ipv6-addr"):
        text = network_text(entry.value)
        return text, "Intel::SUBNET" if "/" in text else "Intel::ADDR"
    if kind == "domain-name":
        return domain_value(entry.value), "Intel::DOMAIN"
    if kind == "url":
        return url_without_scheme(entry.value), "Intel::URL"
    if kind == "email-addr":
        return entry.value, "Intel::EMAIL"
    if kind == "file":
        return entry.value.lower(), "Intel::FILE_HASH"
    return None


def description(entry: FeedEntry) -> str:
    parts = [entry.indicator_id, f"score {entry.score}"]
    if entry.kind:
        parts.append(entry.kind)
    if entry.campaign:
        parts.append(f"campaign {entry.campaign}")
    if entry.hash_algorithm and entry.type == "file":
        parts.append(entry.hash_algorithm)
    return "; ".join(parts)


def lines(entries: Sequence[FeedEntry], info: FeedInfo) -> Iterator[str]:
    yield HEADER
    if info.truncated:
        yield f"# truncated: the {len(entries)} highest scores of {info.total} indicators"
    source = field(f"steppe {info.name}")
    for entry in entries:
        found = indicator(entry)
        if found is None:
            continue
        value, intel_type = found
        yield "\t".join((_value(value), intel_type, source, field(description(entry)), UNSET))


def _value(value: str) -> str:
    if _BREAKS.search(value) or not value:
        raise ValueError(f"indicator {value!r} holds a TAB or a line break")
    return value


def render(entries: Sequence[FeedEntry], info: FeedInfo) -> bytes:
    return "".join(line + "\n" for line in lines(entries, info)).encode("utf-8")
