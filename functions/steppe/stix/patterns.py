"""STIX patterns for single-value indicators, the form SIEMs import.

Each function returns one observation expression in square brackets:
`[ipv4-addr:value = '198.51.100.7']`, `[ipv4-addr:value ISSUBSET '198.51.100.0/24']`
for a CIDR block, `[file:hashes.'SHA-256' = '...' OR file:hashes.MD5 = '...']`
for a file known by several hashes. Values must already be valid and
normalised (steppe.ingest.models does that); these functions only quote them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Hash names that are plain identifiers may go unquoted in an object path.
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def quote(value: str) -> str:
    """A STIX pattern string literal: backslash and quote escaped, in single quotes."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def ip_pattern(sco_type: str, value: str) -> str:
    """An address matches with `=`, a CIDR block with ISSUBSET (addresses within it)."""
    operator = "ISSUBSET" if "/" in value else "="
    return f"[{sco_type}:value {operator} {quote(value)}]"


def ipv4_pattern(value: str) -> str:
    return ip_pattern("ipv4-addr", value)


def ipv6_pattern(value: str) -> str:
    return ip_pattern("ipv6-addr", value)


def value_pattern(sco_type: str, value: str) -> str:
    """`[<type>:value = '<value>']` for domain-name, url, email-addr (and any value SCO)."""
    return f"[{sco_type}:value = {quote(value)}]"


def domain_pattern(value: str) -> str:
    return value_pattern("domain-name", value)


def url_pattern(value: str) -> str:
    return value_pattern("url", value)


def email_pattern(value: str) -> str:
    return value_pattern("email-addr", value)


def _hash_path(name: str) -> str:
    return f"file:hashes.{name}" if _IDENTIFIER.fullmatch(name) else f"file:hashes.{quote(name)}"


def file_hashes_pattern(hashes: Iterable[tuple[str, str]]) -> str:
    """Any of a file's hashes matches: the comparisons ORed within one observation."""
    comparisons = [f"{_hash_path(name)} = {quote(value)}" for name, value in hashes]
    if not comparisons:
        raise ValueError("a file pattern needs at least one hash")
    return "[" + " OR ".join(comparisons) + "]"


def asn_pattern(number: int) -> str:
    return f"[autonomous-system:number = {int(number)}]"


_BY_TYPE = {
    "ipv4-addr": ipv4_pattern,
    "ipv6-addr": ipv6_pattern,
    "domain-name": domain_pattern,
    "url": url_pattern,
    "email-addr": email_pattern,
}


def pattern_for(sco_type: str, value: str | None, hashes: Iterable[tuple[str, str]] = ()) -> str:
    """The pattern for one observable of a value type, or a file (by its hashes)."""
    if sco_type == "file":
        return file_hashes_pattern(hashes)
    if value is None:
        raise ValueError(f"a {sco_type} pattern needs a value")
    try:
        build = _BY_TYPE[sco_type]
    except KeyError:
        raise ValueError(f"no single-value pattern for {sco_type}") from None
    return build(value)
