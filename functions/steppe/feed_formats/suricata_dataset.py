"""`suricata-dataset`: a Suricata dataset file, one value per line, and the rule that loads it.

Facts relied on (Suricata user guide, "Datasets", 6.0 to 8.0): a dataset file
holds one value per line; a dataset of type `string` holds each value base64
encoded (standard alphabet, with padding), type `ip` holds IPv4 or IPv6
addresses as written. A dataset matches values exactly: it holds addresses,
not networks, so CIDR blocks are left out (serve them with suricata-iprep).
The `ip.dst` sticky buffer (Suricata 7 and later) and `dns.query` feed the
lookups.

A dataset has one type, so a feed carries one kind of value:
- addresses (ipv4-addr, ipv6-addr) -> `type ip`, matched on `ip.dst`;
- domains (domain-name, punycode) -> `type string`, matched on `dns.query`.
A feed's types should name one kind (`check_types`); at render time the kind
of the first such entry decides, and entries of another kind are left out.
URLs, hashes and emails have no dataset form here (no Suricata buffer holds a
whole URL; file hashes have the filemd5/filesha256 keywords instead).

Rule (dataset_rule prints it with the feed's name), with the file saved next
to the rule file as `steppe-<feed>.lst`, refreshed by a periodic fetch and a
rule reload (`suricatasc -c reload-rules`; load-only sets are reloaded then):

    alert ip $HOME_NET any -> any any (msg:"steppe <feed>: listed address";
      ip.dst; dataset:isset,steppe-<feed>, type ip, load steppe-<feed>.lst;
      sid:<sid>; rev:1;)
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator, Sequence

from steppe.observables.normalize import domain_value

from .entries import FeedEntry, FeedInfo
from .feed_values import IP_TYPES, is_network, network_text

MEDIA_TYPE = "text/plain; charset=utf-8"
FORMAT_TYPES = frozenset({*IP_TYPES, "domain-name"})
_KIND_OF = {"ipv4-addr": "ip", "ipv6-addr": "ip", "domain-name": "domain"}
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def check_types(types: Sequence[str]) -> None:
    """ValueError unless the types fit one dataset (addresses, or domains)."""
    unknown = sorted(set(types) - FORMAT_TYPES)
    if unknown:
        carried = ", ".join(sorted(FORMAT_TYPES))
        raise ValueError(f"suricata-dataset carries {carried}, not {', '.join(unknown)}")
    if len({_KIND_OF[t] for t in types}) > 1:
        raise ValueError("a suricata-dataset feed holds addresses or domains, not both")
    if not types:
        raise ValueError("a suricata-dataset feed needs --types (addresses or domain-name)")


def dataset_name(feed: str) -> str:
    return "steppe-" + (_NAME_UNSAFE.sub("-", feed).strip("-") or "feed")


def dataset_rule(feed: str, kind: str, sid: int = 9_000_001, entries: int | None = None) -> str:
    """The rule that loads the feed's file (`kind`: "ip" or "domain").

    With `entries` (the feed's size), the set's hashsize is set to it: Suricata
    advises a hashsize close to the number of entries (a small one slows start-up).
    """
    name = dataset_name(feed)
    sizing = f", hashsize {max(entries, 1)}" if entries is not None else ""
    if kind == "ip":
        head, buffer, dtype, what = "ip $HOME_NET any -> any any", "ip.dst", "ip", "address"
    elif kind == "domain":
        head, buffer, dtype, what = "dns $HOME_NET any -> any any", "dns.query", "string", "domain"
    else:
        raise ValueError(f"no dataset rule for {kind!r}: expected 'ip' or 'domain'")
    return (
        f'alert {head} (msg:"steppe {name.removeprefix("steppe-")}: listed {what}"; '
        f"{buffer}; dataset:isset,{name}, type {dtype}, load {name}.lst{sizing}; sid:{sid}; rev:1;)"
    )


def lines(entries: Sequence[FeedEntry]) -> Iterator[str]:
    kind = next((_KIND_OF[e.type] for e in entries if e.type in _KIND_OF), None)
    for entry in entries:
        if _KIND_OF.get(entry.type) != kind:
            continue
        if kind == "ip":
            if not is_network(entry.value):
                yield network_text(entry.value)
        else:
            yield base64.b64encode(domain_value(entry.value).encode("ascii")).decode("ascii")


def render(entries: Sequence[FeedEntry], info: FeedInfo) -> bytes:
    return "".join(line + "\n" for line in lines(entries)).encode("utf-8")
