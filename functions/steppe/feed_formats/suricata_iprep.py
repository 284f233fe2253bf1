"""`suricata-iprep`: Suricata's IP reputation, a categories file and a reputation file.

Facts relied on (Suricata user guide, "IP Reputation Format" and "IP
Reputation Config", 6.0 to 8.0):
- categories file: CSV lines `<id>,<short name>,<description>`, id at most 60.
  Suricata reads it at start only (a USR2 reload re-reads the reputation
  files, not the categories), so the ids here are fixed, never assigned per
  render: category 1 is every steppe indicator without a known attack kind,
  and each attack kind of stix_templates/ has its own id below.
- reputation file: CSV lines `<ip>,<category>,<score>`; the ip an IPv4 or IPv6
  address or a network in CIDR notation (both families); the score 1-127
  (0 means no data). A steppe score 0-100 is scaled linearly onto 1-127.
- Only addresses and networks: the other types are left out. Networks are
  not merged: every line carries its own category and score.
- No comments are written (the format documents none).

suricata.yaml (the feed's docs page prints this with the paths filled in):

    reputation-categories-file: /etc/suricata/iprep/steppe-categories.txt
    default-reputation-path: /etc/suricata/iprep
    reputation-files:
      - steppe.list

and a rule, e.g. `alert ip $HOME_NET any -> any any (msg:"steppe: known
malware C2"; iprep:dst,steppe-malware-c2,>,60; sid:9000001; rev:1;)`.
Fetch both files periodically (curl), then `kill -USR2` Suricata to reload
the reputation file.
"""

from __future__ import annotations

from collections.abc import Sequence

from .entries import FeedEntry, FeedInfo
from .feed_values import IP_TYPES, network_text

MEDIA_TYPE = "text/csv; charset=utf-8"
FORMAT_TYPES = IP_TYPES
CATEGORIES_PATH = "categories.txt"
REPUTATION_PATH = "reputation.list"

# (id, short name, description): fixed for good, see the module's docstring.
CATEGORIES = (
    (1, "steppe", "steppe: indicators of no listed attack kind"),
    (2, "steppe-brute-force", "steppe: brute-force sources"),
    (3, "steppe-ddos", "steppe: DDoS sources"),
    (4, "steppe-defacement", "steppe: defacement"),
    (5, "steppe-malware-c2", "steppe: malware command and control"),
    (6, "steppe-phishing", "steppe: phishing"),
    (7, "steppe-scanning", "steppe: scanning sources"),
)
MAX_CATEGORY_ID = 60
_BY_KIND = {short.removeprefix("steppe-"): number for number, short, _ in CATEGORIES[1:]}


def category_of(kind: str | None) -> int:
    return _BY_KIND.get(kind or "", 1)


def reputation(score: int) -> int:
    """0-100 onto 1-127, linear and monotone: 0 -> 1, 50 -> 64, 100 -> 127."""
    if not 0 <= score <= 100:
        raise ValueError(f"score {score} is outside 0-100")
    return 1 + score * 126 // 100


def render_categories() -> bytes:
    return "".join(f"{n},{short},{text}\n" for n, short, text in CATEGORIES).encode("utf-8")


def render(entries: Sequence[FeedEntry], info: FeedInfo) -> bytes:
    """The reputation file: one `ip,category,score` line per address or network."""
    return "".join(
        f"{network_text(entry.value)},{category_of(entry.kind)},{reputation(entry.score)}\n"
        for entry in entries
        if entry.type in IP_TYPES
    ).encode("utf-8")


def render_files(entries: Sequence[FeedEntry], info: FeedInfo) -> dict[str, bytes]:
    return {REPUTATION_PATH: render(entries, info), CATEGORIES_PATH: render_categories()}
