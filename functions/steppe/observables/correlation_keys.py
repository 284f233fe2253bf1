"""Value keys: the one canonical spelling of each observable the index knows.

A key is "<STIX type>:<normalised value>":

* ``ipv4-addr:198.51.100.7``, ``ipv4-addr:198.51.100.0/24`` (a network is
  keyed by its network address and prefix; a /32 is the address itself),
  ``ipv6-addr:2001:db8::1``, ``ipv6-addr:2001:db8::/48``;
* ``domain-name:example.org``, ``url:http://example.org/x``,
  ``email-addr:abuse@example.org``;
* ``file:SHA-256:<hex>`` (one key per hash a file is known by);
* ``autonomous-system:64496``;
* ``malware:blackenergy``, ``tool:mimikatz``: a malware or tool family by its
  family key (steppe.observables.tool_names.family_key of a name or alias), the
  key shared tooling is correlated and looked up by.

Values are normalised by the same checks as analyst submissions
(steppe.observables.normalize), so a value submitted by an analyst, posted by a
partner as an SCO or written in an indicator's pattern gets the same key.

Containment: a lookup of an address also probes the networks that could
contain it, one key per prefix length the index actually holds
(`probe_keys`), so its cost does not grow with the index. Weak evidence
groups an address with its neighbours: its /24 (IPv4) or /48 (IPv6)
(`network_group`), and its autonomous system (`asn_group`).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from typing import Any

from steppe.observables import normalize as checks
from steppe.observables.model import Observable
from steppe.observables.tool_names import MAX_TOOL_NAME, family_key
from steppe.stix import patterns

IPV4 = "ipv4-addr"
IPV6 = "ipv6-addr"
AS = "autonomous-system"
FILE = "file"
VALUE_TYPES = (IPV4, IPV6, "domain-name", "url", "email-addr")
SCO_TYPES = frozenset((*VALUE_TYPES, FILE, AS))
MALWARE = "malware"
TOOL = "tool"
TOOLING_TYPES = (MALWARE, TOOL)
# The neighbourhood that counts as weak evidence: a /24 in IPv4, a /48 in IPv6.
NEIGHBOURHOOD = {IPV4: 24, IPV6: 48}

_NORMALISE = {
    IPV4: checks.ipv4_value,
    IPV6: checks.ipv6_value,
    "domain-name": checks.domain_value,
    "url": checks.url_value,
    "email-addr": checks.email_value,
}


def value_key(stix_type: str, value: str) -> str | None:
    """The key of a value of a value SCO type, or None if the value is not a valid one."""
    normalise = _NORMALISE.get(stix_type)
    if normalise is None or not isinstance(value, str):
        return None
    try:
        return f"{stix_type}:{normalise(value.strip())}"
    except ValueError:
        return None


def hash_key(algorithm: str, value: str) -> str | None:
    try:
        name = checks.hash_name(algorithm)
        return f"{FILE}:{name}:{checks.hash_value(name, value)}"
    except (ValueError, KeyError):
        return None


def asn_key(number: object) -> str | None:
    try:
        return f"{AS}:{checks.asn_value(number)}"
    except (ValueError, TypeError):
        return None


def tooling_key(category: str, name: object) -> str | None:
    """The key of a malware or tool name ("malware:blackenergy"); None if it names nothing."""
    if category not in TOOLING_TYPES or not isinstance(name, str) or len(name) > MAX_TOOL_NAME:
        return None
    try:
        return f"{category}:{family_key(name)}"
    except ValueError:
        return None


def is_tooling(object_id: str) -> bool:
    """Whether an id is that of a malware or a tool (an occurrence of tooling, not a value)."""
    return object_id.startswith(("malware--", "tool--"))


def is_family_key(key: str) -> bool:
    return key.startswith(("malware:", "tool:"))


def split(key: str) -> tuple[str, str]:
    """(STIX type, value) of a key; a file key's value is "<hash name>:<hex>"."""
    stix_type, _, value = key.partition(":")
    return stix_type, value


def display(key: str) -> str:
    """The value as people write it: the address, the domain, "SHA-256 <hex>", "AS64496"."""
    stix_type, value = split(key)
    if stix_type == FILE:
        name, _, hex_value = value.partition(":")
        return f"{name} {hex_value}"
    if stix_type == AS:
        return f"AS{value}"
    if stix_type in TOOLING_TYPES:
        return f"{stix_type} {value}"
    return value


def observable_keys(observable: Observable) -> list[str]:
    """The keys of an analyst's observable (already normalised by the models)."""
    if observable.value is not None:
        return [f"{observable.type}:{observable.value}"]
    return [f"{FILE}:{name}:{hex_value}" for name, hex_value in observable.hashes]


def sco_keys(obj: Mapping[str, Any]) -> list[str]:
    """The keys of a STIX cyber-observable object (none for types the index does not know)."""
    stix_type = obj.get("type")
    if stix_type in _NORMALISE:
        key = value_key(stix_type, obj.get("value"))  # type: ignore[arg-type]
        return [key] if key else []
    if stix_type == FILE:
        hashes = obj.get("hashes")
        if not isinstance(hashes, dict):
            return []
        keys = (hash_key(name, value) for name, value in hashes.items())
        return [key for key in keys if key]
    if stix_type == AS:
        key = asn_key(obj.get("number"))
        return [key] if key else []
    return []


# The operators by which a comparison names one value (ISSUBSET: a network's addresses).
_NAMING = frozenset({"=", "==", "IN", "ISSUBSET"})
# The single-value form steppe itself writes (and most producers): [type:value = '...'].
_SIMPLE = re.compile(r"\[([a-z0-9-]+):value = '([^'\\]*)'\]")


def pattern_keys(pattern: str) -> list[str]:
    """The values an indicator's STIX pattern names by equality (or ISSUBSET for a network).

    Comparisons that are negated, or that use other operators (LIKE, MATCHES,
    >, ...), name no single value and contribute nothing. Linear in the
    pattern's length (steppe.stix.patterns.comparisons); a pattern that cannot
    be read names nothing.
    """
    simple = _SIMPLE.fullmatch(pattern)
    if simple is not None:
        key = value_key(simple.group(1), simple.group(2))
        return [key] if key else []
    try:
        found = patterns.comparisons(pattern)
    except patterns.PatternError:
        return []
    keys: dict[str, None] = {}  # in order, each once
    for comparison in found:
        if comparison.negated or comparison.operator not in _NAMING:
            continue
        stix_type, path = comparison.object_type, comparison.path
        for literal in comparison.operands:
            key: str | None = None
            if stix_type in _NORMALISE and path == ("value",):
                key = value_key(stix_type, literal)
            elif stix_type == FILE and len(path) == 2 and path[0] == "hashes":
                key = hash_key(path[1], literal)
            elif stix_type == AS and path == ("number",):
                key = asn_key(literal) if literal.isascii() and literal.isdigit() else None
            if key:
                keys[key] = None
    return list(keys)


def indicator_keys(indicator: Mapping[str, Any]) -> list[str]:
    """The values an indicator's STIX pattern names (pattern_keys); none for another
    pattern language or a missing pattern."""
    pattern = indicator.get("pattern")
    if not isinstance(pattern, str) or indicator.get("pattern_type", "stix") != "stix":
        return []
    return pattern_keys(pattern)


_ASN_TEXT = re.compile(r"(?i)^AS\s*(\d+)$")
# A family name typed bare: one word of letters, digits, "-" and "_", starting with a letter
# or digit ("BlackEnergy", "Black-Energy"); a name with spaces needs "malware:" or "tool:".
_BARE_NAME = re.compile(r"[^\W_][\w-]*")
# "AS-1", "AS_64496x": a mistyped autonomous system, never taken for a name.
_ASN_LIKE = re.compile(r"(?i)AS[\d_-]")


def parse_query(text: str) -> list[str]:
    """The keys a person means by a value typed into a lookup; [] if it is none we know.

    Recognised: an IPv4/IPv6 address or CIDR block, "AS64496", a hash (by its
    length: MD5, SHA-1, SHA-256, SHA-512), a URL (with a scheme), an email
    address, a domain name; a malware or tool family as "malware:<name>" or
    "tool:<name>" (any spelling or alias: the family key is matched), or as
    one bare word no other form takes ("BlackEnergy": both the malware and
    the tool of that name).
    """
    value = text.strip()
    if not value:
        return []
    category, colon, name = value.partition(":")
    if colon and category.lower() in TOOLING_TYPES:
        key = tooling_key(category.lower(), name)
        return [key] if key else []
    match = _ASN_TEXT.match(value)
    if match:
        key = asn_key(int(match.group(1)))
        return [key] if key else []
    for stix_type in (IPV4, IPV6):
        key = value_key(stix_type, value)
        if key:
            return [key]
    lowered = value.lower()
    if re.fullmatch(r"[0-9a-f]+", lowered) and len(lowered) in checks.HASH_BY_LENGTH:
        key = hash_key(checks.HASH_BY_LENGTH[len(lowered)], lowered)
        return [key] if key else []
    if "://" in value:
        key = value_key("url", value)
        return [key] if key else []
    if "@" in value:
        key = value_key("email-addr", value)
        return [key] if key else []
    key = value_key("domain-name", value)
    if key:
        return [key]
    if not _BARE_NAME.fullmatch(value) or _ASN_LIKE.match(value):
        return []
    names = (tooling_key(category, value) for category in TOOLING_TYPES)
    return [key for key in names if key]


def _network(key: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    stix_type, value = split(key)
    if stix_type not in NEIGHBOURHOOD:
        return None
    try:
        return ipaddress.ip_network(value, strict=False)
    except ValueError:
        return None


def cidr_prefix(key: str) -> tuple[str, int] | None:
    """(family type, prefix length) of a network key; None for an address or another type."""
    stix_type, value = split(key)
    if stix_type not in NEIGHBOURHOOD or "/" not in value:
        return None
    return stix_type, int(value.rsplit("/", 1)[1])


def probe_keys(key: str, prefixes: Mapping[str, Iterable[int]]) -> list[str]:
    """The key itself and every indexed-prefix network that contains it (for IP keys).

    `prefixes` is ObservableIndex.cidr_prefixes(): only prefix lengths the index
    holds are probed, so an address costs 1 + (a handful) key lookups.
    """
    stix_type = split(key)[0]
    if not prefixes.get(stix_type):
        return [key]  # no network of this family is indexed: nothing else can contain it
    network = _network(key)
    if network is None:
        return [key]
    probes = [key]
    for prefix in sorted(set(prefixes.get(stix_type, ())), reverse=True):
        if prefix >= network.prefixlen:
            continue
        probe = f"{stix_type}:{network.supernet(new_prefix=prefix).compressed}"
        probes.append(probe)
    return probes


def contains(outer: str, inner: str) -> bool:
    """Whether the network key `outer` contains the address or network key `inner`."""
    a, b = _network(outer), _network(inner)
    if a is None or b is None or a.version != b.version:
        return False
    return b.subnet_of(a)  # type: ignore[arg-type]


def network_group(key: str) -> str | None:
    """The weak-evidence group of an address key: "net:<its /24 or /48>"; None otherwise."""
    stix_type, value = split(key)
    if stix_type == IPV4 and "/" not in value:
        return "net:" + value.rsplit(".", 1)[0] + ".0/24"  # keys hold canonical dotted quads
    network = _network(key)
    if network is None:
        return None
    size = NEIGHBOURHOOD[split(key)[0]]
    if network.prefixlen < size:
        return None  # a wider network is not a neighbour of anything in particular
    return "net:" + network.supernet(new_prefix=size).compressed


def asn_group(number: int) -> str:
    return f"asn:{number}"


def group_display(group: str) -> str:
    kind, _, value = group.partition(":")
    return f"the network {value}" if kind == "net" else f"the autonomous system AS{value}"
