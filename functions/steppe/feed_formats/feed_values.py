"""Values as plain-feed consumers read them: merged networks, ASCII hosts, URLs without scheme.

Shared by the line formats (text, Suricata, Zeek). Every function is linear in
its input (the merge sorts once: n log n).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from netaddr import IPNetwork, cidr_merge

IP_TYPES = frozenset({"ipv4-addr", "ipv6-addr"})
_WIDTH = {4: 32, 6: 128}
# Space and control characters would end a line or a field; in a URL they are percent-encoded.
_UNSAFE_IN_URL = re.compile(r"[\x00-\x20\x7f]")


def network_text(network: IPNetwork) -> str:
    """A single host as a plain address (no /32 or /128), a block in CIDR notation."""
    if network.prefixlen == _WIDTH[network.version]:
        return str(network.ip)
    return str(network.cidr)


def merged_networks(values: Iterable[str]) -> list[str]:
    """Addresses and CIDR blocks, overlapping and adjacent ones merged (netaddr.cidr_merge).

    IPv4 first, then IPv6, each in address order.
    """
    return [network_text(network) for network in cidr_merge([IPNetwork(v) for v in values])]


def is_network(value: str) -> bool:
    """A CIDR block wider than one host (198.51.100.0/24, not 198.51.100.7 or .../32)."""
    return "/" in value and IPNetwork(value).size > 1


def ascii_domain(domain: str) -> str:
    """The name as DNS carries it: an internationalised name in punycode (xn--), lower case."""
    if domain.isascii():
        return domain.lower()
    return domain.encode("idna").decode("ascii").lower()


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
        netloc = netloc.lower().replace(host, ascii_domain(host), 1)
    rest = url[len(parts.scheme) + 3 + len(parts.netloc) :]
    return _UNSAFE_IN_URL.sub(lambda m: f"%{ord(m.group()):02X}", netloc + rest)
