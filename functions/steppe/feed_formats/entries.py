"""One line of a feed: an active indicator's value with what a consumer may want beside it.

The feed service (not written yet) selects the entries a feed may serve (its
collections and clearance, active indicators only, score at or above its
minimum, capped at its maximum) and hands them, highest score first, to one
renderer per format. Renderers only write: they never filter for visibility.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

# The STIX SCO types a feed can carry.
ENTRY_TYPES = frozenset(
    {"ipv4-addr", "ipv6-addr", "domain-name", "url", "file", "email-addr", "autonomous-system"}
)


class FeedEntry(NamedTuple):
    """One value. Times are µs since the epoch (steppe.stix.timestamps).

    A NamedTuple (immutable like the dataclasses elsewhere): a feed builds a
    hundred thousand of them per rendering, at a third of a dataclass's cost.
    """

    value: str  # normalised: an address or CIDR, a domain (IDNA), a URL, a hash's hex, an email
    type: str  # one of ENTRY_TYPES
    score: int  # 0-100, after decay
    indicator_id: str
    hash_algorithm: str | None = None  # for type "file": "SHA-256", "SHA-1", "MD5", ...
    confidence: int | None = None  # the report's, 0-100
    first_seen: int | None = None
    last_seen: int | None = None
    valid_until: int | None = None
    campaign: str | None = None  # the campaign's name
    campaign_id: str | None = None
    source: str | None = None  # who reported it (the producer's name)
    kind: str | None = None  # the attack kind (ddos, phishing, ...), a stix_templates file
    tlp: str | None = None  # the indicator's TLP level name (steppe.stix.tlp: clear ... red)
    # When it stopped being served (revoked, expired, a false positive): only the
    # formats that announce removals (MISP's `deleted`) are given retired entries.
    retired_at: int | None = None


@dataclass(frozen=True, slots=True)
class FeedInfo:
    """What a rendered feed says about itself."""

    name: str
    generated: int  # µs
    total: int  # entries selected before the cap
    truncated: bool  # the cap (max_entries) left some out; the highest scores were kept
