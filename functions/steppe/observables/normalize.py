"""Checks of single observable values: each returns the normalised value or raises
ValueError with a sentence about the value (the caller says where it was).

IPv4/IPv6 addresses and CIDR blocks (canonical text; host bits set rejected),
domain names (lower-case, IDNA A-labels, label and length rules), URLs (scheme
and host required), email addresses, hashes (hex of the algorithm's length),
ISO 3166-1 country codes, AS numbers and timestamps.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from urllib.parse import urlsplit

from steppe.stix.bounds import MAX_PATTERN_CHARS, shown, whole_number
from steppe.stix.countries import COUNTRY_NAMES
from steppe.stix.patterns import url_pattern
from steppe.stix.timestamps import parse_instant

MAX_URL = 4096
_URL_PATTERN_FRAME = len(url_pattern(""))


_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_CANONICAL_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")
CANONICAL_IPV4_MATCH = _CANONICAL_IPV4.fullmatch
MAX_ASN = 4_294_967_295
_DOMAIN = re.compile(
    r"(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)+"
    r"[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?"
)
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_EMAIL_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*")
_HEX = re.compile(r"[0-9a-f]+")
_WHITESPACE = re.compile(r"\s")

HASH_LENGTHS: dict[str, int] = {
    "MD5": 32,
    "SHA-1": 40,
    "SHA-256": 64,
    "SHA-512": 128,
    "SHA3-256": 64,
    "SHA3-512": 128,
}
HASH_BY_LENGTH = {32: "MD5", 40: "SHA-1", 64: "SHA-256", 128: "SHA-512"}
_HASH_NAMES = {name.replace("-", ""): name for name in HASH_LENGTHS}


def hash_name(value: str) -> str:
    """The STIX name of a hash algorithm as users write it ("sha256", "SHA_1", "md5")."""
    key = re.sub(r"[-_\s]", "", value).upper()
    try:
        return _HASH_NAMES[key]
    except KeyError:
        raise ValueError(
            f"'{value}' is not a supported hash algorithm; use one of: {', '.join(HASH_LENGTHS)}"
        ) from None


def hash_value(algorithm: str, value: str) -> str:
    """Lower-case hex of the right length for the algorithm."""
    hex_value = value.strip().lower()
    if not _HEX.fullmatch(hex_value):
        raise ValueError(f"'{value}' is not a hexadecimal {algorithm} hash")
    expected = HASH_LENGTHS[algorithm]
    if len(hex_value) != expected:
        raise ValueError(
            f"a {algorithm} hash has {expected} hex digits, '{value}' has {len(hex_value)}"
        )
    return hex_value


def _ip_network(value: str, version: int) -> str:
    family = "IPv4" if version == 4 else "IPv6"
    address_class = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
    network_class = ipaddress.IPv4Network if version == 4 else ipaddress.IPv6Network
    try:
        if "/" in value:
            network = network_class(value, strict=True)
            if network.prefixlen == network.max_prefixlen:
                return network.network_address.compressed
            return network.compressed
        return address_class(value).compressed
    except ValueError as exc:
        if "has host bits set" in str(exc):
            raise ValueError(
                f"'{value}' has host bits set; write the network address "
                f"({network_class(value, strict=False).compressed}) or a single address"
            ) from None
        raise ValueError(f"'{value}' is not an {family} address or CIDR block") from None


def ipv4_value(value: str) -> str:
    if _CANONICAL_IPV4.fullmatch(value):
        return value
    return _ip_network(value, 4)


def ipv6_value(value: str) -> str:
    return _ip_network(value, 6)


def domain_value(value: str) -> str:
    """Lower-case ASCII (IDNA) form, no trailing dot; at least two labels."""
    name = value.lower()
    if name.endswith("."):
        name = name[:-1]
    if _DOMAIN.fullmatch(name):
        return name
    return _diagnose_domain(value, name)


def _diagnose_domain(original: str, name: str) -> str:
    if not name:
        raise ValueError("the domain name is empty")
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            raise ValueError(f"'{original}' is not a valid internationalised domain name") from None
        if _DOMAIN.fullmatch(name):
            return name
    if len(name) > 253:
        raise ValueError(f"'{original}' is longer than 253 characters")
    labels = name.split(".")
    if len(labels) < 2:
        raise ValueError(f"'{original}' is not a domain name (it needs at least two labels)")
    for label in labels:
        if not label:
            raise ValueError(f"'{original}' has an empty label")
        if len(label) > 63:
            raise ValueError(f"'{original}' has a label longer than 63 characters")
        if not _LABEL.fullmatch(label):
            raise ValueError(
                f"'{original}' has an invalid label '{label}' (letters, digits and inner hyphens)"
            )
    raise ValueError(f"'{original}' is not a domain name (its last label must start with a letter)")


def _host_value(host: str) -> str:
    if host.startswith("["):
        if not host.endswith("]"):
            raise ValueError("unbalanced brackets around the host")
        return "[" + ipaddress.IPv6Address(host[1:-1]).compressed + "]"
    if _CANONICAL_IPV4.fullmatch(host):
        return host
    return domain_value(host)


def url_value(value: str) -> str:
    """A URL with a scheme and a host; scheme and host lower-cased, the rest kept."""
    if len(value) > MAX_URL:
        raise ValueError(f"the URL is longer than {MAX_URL} characters")
    if _WHITESPACE.search(value) or not value.isprintable():
        raise ValueError(f"'{value}' contains spaces or control characters")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 -- raises ValueError on a bad port
    except ValueError as exc:
        raise ValueError(f"'{value}' is not a URL: {exc}") from None
    scheme = parts.scheme.lower()
    if not scheme or not _SCHEME.fullmatch(scheme):
        raise ValueError(f"'{value}' has no scheme (e.g. http://)")
    netloc = parts.netloc
    if not netloc:
        raise ValueError(f"'{value}' has no host")
    userinfo, _, hostport = netloc.rpartition("@")
    host, port = hostport, ""
    if hostport.startswith("["):
        end = hostport.find("]")
        host, port = hostport[: end + 1], hostport[end + 1 :]
    elif ":" in hostport:
        host, _, port = hostport.partition(":")
        port = ":" + port
    if not host:
        raise ValueError(f"'{value}' has no host")
    try:
        host = _host_value(host)
    except ValueError as exc:
        raise ValueError(f"'{value}' has an invalid host: {exc}") from None
    netloc = (userinfo + "@" if userinfo else "") + host + port
    rest = value[len(parts.scheme) + 3 + len(parts.netloc) :]
    normalized = f"{scheme}://{netloc}{rest}"
    if 2 * len(normalized) + _URL_PATTERN_FRAME > MAX_PATTERN_CHARS:
        # Rare (quotes and backslashes double when quoted): the indicator's pattern
        # must stay within what steppe accepts from anyone.
        size = len(url_pattern(normalized))
        if size > MAX_PATTERN_CHARS:
            raise ValueError(
                f"the URL makes a STIX pattern of {size:,} characters; the limit is "
                f"{MAX_PATTERN_CHARS:,}"
            )
    return normalized


def email_value(value: str) -> str:
    """local@domain with the domain lower-cased (the local part is case-sensitive)."""
    local, at, domain = value.rpartition("@")
    if not at or not local:
        raise ValueError(f"'{value}' is not an email address (local@domain)")
    if len(value) > 254:
        raise ValueError(f"'{value}' is longer than 254 characters")
    if len(local) > 64 or not _EMAIL_LOCAL.fullmatch(local):
        raise ValueError(f"'{value}' has an invalid local part '{local}'")
    try:
        domain = domain_value(domain)
    except ValueError as exc:
        raise ValueError(f"'{value}' has an invalid domain: {exc}") from None
    return f"{local}@{domain}"


NORMALIZERS: dict[str, Callable[[str], str]] = {
    "ipv4-addr": ipv4_value,
    "ipv6-addr": ipv6_value,
    "domain-name": domain_value,
    "url": url_value,
    "email-addr": email_value,
}


def country_value(value: object) -> str:
    if isinstance(value, str):
        if value in COUNTRY_NAMES:
            return value
        code = value.strip().upper()
        if code in COUNTRY_NAMES:
            return code
    raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code (e.g. KG, RU)")


def asn_value(value: object) -> int:
    number: object = value
    if isinstance(value, str):
        text = value.strip().upper().removeprefix("AS")
        try:
            number = whole_number(text, 0, MAX_ASN)
        except ValueError:
            number = None
    if type(number) is not int or not 0 <= number <= MAX_ASN:
        raise ValueError(f"{shown(value)} is not an autonomous system number (0..4294967295)")
    return number


TIME_CACHE: dict[object, int] = {}


def time_value(value: object) -> int:
    """Epoch microseconds from a STIX timestamp, an ISO 8601 time with offset, or a date.

    steppe.stix.timestamps.parse_instant is the one parser; this remembers its answers
    (a submission repeats a handful of times over many observables).
    """
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a timestamp (e.g. 2009-01-18T00:00:00Z)")
    cached = TIME_CACHE.get(value)
    if cached is not None:
        return cached
    micros = parse_instant(value)
    if len(TIME_CACHE) > 65_536:
        TIME_CACHE.clear()
    TIME_CACHE[value] = micros
    return micros
