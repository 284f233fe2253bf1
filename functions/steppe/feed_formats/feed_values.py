"""Values as plain-feed consumers read them: merged networks, ASCII hosts, URLs without scheme.

Shared by the line formats (text, Suricata, Zeek). Every function is linear in
its input (the merge sorts once: n log n).
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from steppe.observables.normalize import domain_value

IP_TYPES = frozenset({"ipv4-addr", "ipv6-addr"})
# Space and control characters would end a line or a field; in a URL they are percent-encoded.
_UNSAFE_IN_URL = re.compile(r"[\x00-\x20\x7f]")
_FAMILY = {4: (socket.AF_INET, 32), 6: (socket.AF_INET6, 128)}

# Addresses are parsed with the socket module into integers: netaddr's IPNetwork costs
# ~5 µs each, which alone would spend half a second on a feed of 100,000 addresses.


def span(value: str) -> tuple[int, int, int]:
    """(version, first, last) of an address or CIDR block; host bits below the mask ignored."""
    address, slash, prefix = value.partition("/")
    version = 6 if ":" in address else 4
    family, width = _FAMILY[version]
    try:
        number = int.from_bytes(socket.inet_pton(family, address), "big")
        bits = int(prefix) if slash else width
    except (OSError, ValueError):
        raise ValueError(f"{value!r} is not an IP address or CIDR block") from None
    if not 0 <= bits <= width:
        raise ValueError(f"{value!r} has a prefix length outside 0-{width}")
    size = 1 << (width - bits)
    first = number & ~(size - 1)
    return version, first, first + size - 1


def _address_text(version: int, number: int) -> str:
    family, width = _FAMILY[version]
    return socket.inet_ntop(family, number.to_bytes(width // 8, "big"))


def _block_text(version: int, first: int, size: int) -> str:
    """A single host as a plain address (no /32 or /128), a block in CIDR notation."""
    if size == 1:
        return _address_text(version, first)
    return f"{_address_text(version, first)}/{_FAMILY[version][1] - size.bit_length() + 1}"


def network_text(value: str) -> str:
    """The value as every consumer reads it: `198.51.100.7` for `198.51.100.7/32`."""
    version, first, last = span(value)
    return _block_text(version, first, last - first + 1)


def is_network(value: str) -> bool:
    """A CIDR block wider than one host (198.51.100.0/24, not 198.51.100.7 or .../32)."""
    _, first, last = span(value)
    return last > first


def _cidrs(version: int, first: int, last: int) -> Iterable[str]:
    """The fewest aligned blocks covering first..last: each the largest that starts at first."""
    width = _FAMILY[version][1]
    while first <= last:
        size = first & -first if first else 1 << width
        while first + size - 1 > last:
            size >>= 1
        yield _block_text(version, first, size)
        first += size


def merged_networks(values: Iterable[str]) -> list[str]:
    """Addresses and CIDR blocks, overlapping and adjacent ones merged into the fewest blocks.

    The result equals netaddr's cidr_merge (the tests hold it to netaddr's IPSet):
    sort the ranges once, join those that overlap or touch, then cut each joined
    range into aligned CIDR blocks. IPv4 first, then IPv6, each in address order.
    """
    merged: list[list[int]] = []
    for version, first, last in sorted(span(value) for value in values):
        if merged and merged[-1][0] == version and first <= merged[-1][2] + 1:
            merged[-1][2] = max(merged[-1][2], last)
        else:
            merged.append([version, first, last])
    return [text for version, first, last in merged for text in _cidrs(version, first, last)]


def url_without_scheme(url: str) -> str:
    """`host[:port]/path?query` with an internationalised host in punycode.

    PAN-OS URL lists and Zeek's Intel::URL are written without `http://` or
    `https://`; the path and query are kept as the URL had them, except that
    a space or control character is percent-encoded (the same URL, on one line).
    """
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        raise ValueError(f"{url!r} is not an absolute URL")
    netloc = parts.netloc
    if not netloc.isascii():
        host = parts.hostname or ""
        netloc = netloc.lower().replace(host, domain_value(host), 1)
    rest = url[len(parts.scheme) + 3 + len(parts.netloc) :]
    return _UNSAFE_IN_URL.sub(lambda m: f"%{ord(m.group()):02X}", netloc + rest)
