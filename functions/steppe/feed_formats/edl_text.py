"""`text`: one value per line, as firewalls read an external list over HTTPS.

Consumers: Palo Alto external dynamic lists (types IP List, Domain List, URL
List) and FortiGate external threat feeds (IP Address, Domain Name, FortiGuard
Category (URLs), Malware Hash). PAN-OS documents that a list of one type must
hold entries of that type only (in a URL list it skips the rest as invalid),
and FortiGate's feeds are typed the same way. So a `text` feed carries ONE
kind of value, chosen with its types filter (`check_types`, at feed creation):
addresses (`--types ipv4-addr,ipv6-addr`), domains (`--types domain-name`),
URLs (`--types url`) or hashes (`--types file`). Should entries of several
kinds reach the renderer anyway, the kind of the first one decides and the
others are left out: the list stays valid for its type.

What is written, and the facts it relies on:
- addresses and CIDR blocks, IPv4 then IPv6, with overlapping and adjacent
  blocks merged into the fewest CIDR blocks (what netaddr.cidr_merge gives);
  a single host without /32. PAN-OS IP
  lists and FortiGate IP feeds take addresses, address/mask and ranges.
- domains in ASCII: an internationalised name in punycode (xn--), the form
  DNS carries and both firewalls match.
- URLs without the scheme (`host/path?query`), the form of PAN-OS's URL
  category exception entries (which a URL list follows) and of FortiGate URL
  feeds; an internationalised host in punycode, a space percent-encoded.
  PAN-OS reads `*` and `^` in a URL entry as wildcards; normalised URLs from
  reports rarely hold them, and they are written as they are.
- file hashes as lower-case hex, the FortiGate malware hash list form.
- email addresses and autonomous systems have no list in these firewalls;
  they are left out (a feed's types cannot name them: FORMAT_TYPES).
- No comment lines: PAN-OS documents a comment only after a space behind an
  entry (IP lists), not a line of its own for every list type, and FortiGate
  does not document comments at all, so the list holds values only. A
  truncated feed says so in the HTTP response (the feed service's headers).
Lines end with LF; the body is ASCII (UTF-8).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from steppe.observables.normalize import domain_value

from .entries import FeedEntry, FeedInfo
from .feed_values import merged_networks, url_without_scheme

MEDIA_TYPE = "text/plain; charset=utf-8"
FORMAT_TYPES = frozenset({"ipv4-addr", "ipv6-addr", "domain-name", "url", "file"})
_KIND_OF = {
    "ipv4-addr": "address",
    "ipv6-addr": "address",
    "domain-name": "domain",
    "url": "url",
    "file": "hash",
}


def check_types(types: Sequence[str]) -> None:
    """ValueError unless the types make one list: addresses, domains, URLs or hashes."""
    if not types:
        raise ValueError(
            "a text feed needs --types of one list: ipv4-addr,ipv6-addr or domain-name or url "
            "or file (firewall lists hold one type)"
        )
    if len({_KIND_OF[t] for t in types if t in _KIND_OF}) > 1:
        raise ValueError(
            "a text feed holds one kind of value (addresses, domains, URLs or hashes): "
            f"{', '.join(sorted(types))} mixes them"
        )


def _line(kind: str, value: str) -> str:
    if kind == "domain":
        return domain_value(value)
    if kind == "url":
        return url_without_scheme(value)
    return value.lower()  # a hash's hex


def lines(entries: Sequence[FeedEntry]) -> Iterator[str]:
    """The list's values, one per line, without line ends."""
    kind = next((_KIND_OF[e.type] for e in entries if e.type in _KIND_OF), None)
    mine = [entry.value for entry in entries if _KIND_OF.get(entry.type) == kind]
    if kind == "address":
        yield from merged_networks(mine)
    elif kind is not None:
        yield from dict.fromkeys(_line(kind, value) for value in mine)


def render(entries: Sequence[FeedEntry], info: FeedInfo) -> bytes:
    return "".join(line + "\n" for line in lines(entries)).encode("utf-8")
