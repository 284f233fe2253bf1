"""`text`: one value per line, as firewalls read an external list over HTTPS.

Consumers: Palo Alto external dynamic lists (types IP List, Domain List, URL
List) and FortiGate external threat feeds (IP Address, Domain Name, FortiGuard
Category (URLs), Malware Hash). Each of those lists holds ONE type, so a feed
meant for one of them selects that type with its types filter
(`--types ipv4-addr,ipv6-addr`, `--types domain-name`, `--types url`,
`--types file`). A feed of several types writes them one block after another
(addresses, domains, URLs, hashes), which suits tools that classify each line.

What is written, and the facts it relies on:
- addresses and CIDR blocks, IPv4 then IPv6, with overlapping and adjacent
  blocks merged (netaddr.cidr_merge); a single host without /32. PAN-OS IP
  lists and FortiGate IP feeds take addresses, address/mask and ranges.
- domains in ASCII: an internationalised name in punycode (xn--), the form
  DNS carries and both firewalls match.
- URLs without the scheme (`host/path?query`), as PAN-OS URL lists are
  written (PAN-OS matches URL entries without http:// or https://) and
  FortiGate URL feeds accept them; an internationalised host in punycode.
- file hashes as lower-case hex, the FortiGate malware hash list form.
- email addresses and autonomous systems have no line form in these lists;
  they are left out (the feed's types should not name them: FORMAT_TYPES).
- No comment lines: PAN-OS documents a comment only after a space behind an
  entry (IP lists), not a line of its own for every list type, and FortiGate
  does not document comments at all, so the list holds values only. A
  truncated feed says so in the HTTP response (the feed service's headers).
Lines end with LF; the body is ASCII (UTF-8).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from .entries import FeedEntry, FeedInfo
from .feed_values import IP_TYPES, ascii_domain, merged_networks, url_without_scheme

MEDIA_TYPE = "text/plain; charset=utf-8"
FORMAT_TYPES = frozenset({"ipv4-addr", "ipv6-addr", "domain-name", "url", "file"})


def lines(entries: Sequence[FeedEntry]) -> Iterator[str]:
    """The list's values, one per line, without line ends."""
    addresses: list[str] = []
    domains: list[str] = []
    urls: list[str] = []
    hashes: list[str] = []
    for entry in entries:
        if entry.type in IP_TYPES:
            addresses.append(entry.value)
        elif entry.type == "domain-name":
            domains.append(ascii_domain(entry.value))
        elif entry.type == "url":
            urls.append(url_without_scheme(entry.value))
        elif entry.type == "file":
            hashes.append(entry.value.lower())
    yield from merged_networks(addresses)
    yield from dict.fromkeys(domains)
    yield from dict.fromkeys(urls)
    yield from dict.fromkeys(hashes)


def render(entries: Sequence[FeedEntry], info: FeedInfo) -> bytes:
    return "".join(line + "\n" for line in lines(entries)).encode("utf-8")
