"""A MISP feed: the directory MISP's feed fetcher pulls over HTTP.

Three kinds of file, as PyMISP's feed generator writes them and MISP's
fetcher reads them:

* `manifest.json`: event uuid -> the event's metadata (Orgc, Tag, info, date,
  analysis, threat_level_id, timestamp). MISP fetches an event again only when
  the manifest's timestamp is newer than its copy's.
* `<event uuid>.json`: `{"Event": {..., "Attribute": [...]}}`.
* `hashes.csv`: `md5(attribute value),event uuid` per line, for MISP's feed
  correlation cache.

Events group entries: one per campaign (key `campaign:<id>`), else one per
source and attack kind (key `source:<source>|kind:<kind>`). Event and
attribute uuids are uuid5 of those keys, so a MISP pulling daily updates the
same events instead of piling up new ones.

Addresses are `ip-src` for the kinds whose reported addresses connect to the
victim (DDoS, brute force, scanning, defacement: the templates' "source" and
"attacker" roles) and `ip-dst` otherwise (C2, phishing hosting), as MISP
users read the two types. MISP accepts a CIDR in both.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from steppe.feed_formats.entries import ENTRY_TYPES, FeedEntry, FeedInfo
from steppe.stix import tlp as tlp_levels

FORMAT_TYPES = ENTRY_TYPES  # every entry type has a MISP attribute type
MANIFEST = "manifest.json"
HASHES = "hashes.csv"

# Fixed forever: changing it would give every event and attribute a new uuid.
NAMESPACE = uuid.UUID("ed313668-26ff-49fe-84fd-b782fab143f6")

SOURCE_KINDS = frozenset({"ddos", "brute-force", "scanning", "defacement"})

# STIX hash-algorithm-ov names (and the spellings seen in the wild) -> MISP types.
HASH_TYPES = {
    "MD5": "md5",
    "SHA-1": "sha1",
    "SHA1": "sha1",
    "SHA-224": "sha224",
    "SHA-256": "sha256",
    "SHA256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
    "SHA512": "sha512",
    "SHA3-224": "sha3-224",
    "SHA3-256": "sha3-256",
    "SHA3-384": "sha3-384",
    "SHA3-512": "sha3-512",
    "SSDEEP": "ssdeep",
    "TLSH": "tlsh",
}

# MISP's describeTypes sane defaults for the types used here.
_NETWORK = "Network activity"
_PAYLOAD = "Payload delivery"
CATEGORIES = {
    "ip-src": _NETWORK,
    "ip-dst": _NETWORK,
    "domain": _NETWORK,
    "url": _NETWORK,
    "AS": _NETWORK,
    "email-src": _PAYLOAD,
    **{misp_type: _PAYLOAD for misp_type in HASH_TYPES.values()},
}
# An AS number alone detects nothing (MISP's default to_ids for AS is off too).
NOT_FOR_IDS = frozenset({"AS"})

ANALYSIS_ONGOING = 1  # the feed keeps changing while its campaigns run
THREAT_LEVEL_UNDEFINED = 4  # MISP's advice: say it with tags instead


@dataclass(frozen=True, slots=True)
class MispAttribute:
    """One entry as MISP types it."""

    type: str
    category: str
    value: str
    to_ids: bool


def event_key(entry: FeedEntry) -> str:
    """The group an entry's event stands for."""
    if entry.campaign_id:
        return f"campaign:{entry.campaign_id}"
    return f"source:{entry.source or ''}|kind:{entry.kind or ''}"


def event_uuid(key: str) -> str:
    return str(uuid.uuid5(NAMESPACE, key))


def attribute_uuid(event: str, misp_type: str, value: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{event}|{misp_type}|{value}"))


def event_path(uuid_text: str) -> str:
    return f"{uuid_text}.json"


def misp_attribute(entry: FeedEntry) -> MispAttribute:
    """The MISP type, category, value and to_ids of one entry."""
    value = entry.value
    if entry.type in ("ipv4-addr", "ipv6-addr"):
        misp_type = "ip-src" if entry.kind in SOURCE_KINDS else "ip-dst"
    elif entry.type == "domain-name":
        misp_type = "domain"
    elif entry.type == "url":
        misp_type = "url"
    elif entry.type == "email-addr":
        misp_type = "email-src"
    elif entry.type == "autonomous-system":
        misp_type = "AS"
        value = value.upper().removeprefix("AS")
    elif entry.type == "file":
        algorithm = (entry.hash_algorithm or "").upper()
        if algorithm not in HASH_TYPES:
            raise ValueError(
                f"MISP feed: indicator {entry.indicator_id}: hash algorithm "
                f"{entry.hash_algorithm!r} has no MISP type; known: {', '.join(HASH_TYPES)}"
            )
        misp_type = HASH_TYPES[algorithm]
    else:
        raise ValueError(
            f"MISP feed: indicator {entry.indicator_id}: type {entry.type!r} has no MISP type"
        )
    return MispAttribute(misp_type, CATEGORIES[misp_type], value, misp_type not in NOT_FOR_IDS)


def _seconds(micros: int) -> int:
    return micros // 1_000_000


def _iso(micros: int) -> str:
    seconds, fraction = divmod(micros, 1_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{fraction:06d}+00:00"


def _date(micros: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(_seconds(micros)))


def _tag(name: str) -> dict[str, str]:
    return {"name": name}


def _tlp_name(entry: FeedEntry) -> str | None:
    if entry.tlp is None:
        return None
    try:
        return tlp_levels.level(entry.tlp).name
    except ValueError as error:
        raise ValueError(f"MISP feed: indicator {entry.indicator_id}: {error}") from None


@dataclass(frozen=True, slots=True)
class MispEvent:
    """One event of the feed: its uuid, its group key, and its attributes."""

    uuid: str
    key: str
    entries: tuple[tuple[FeedEntry, MispAttribute], ...]  # sorted by (type, value)


def group_events(entries: Iterable[FeedEntry]) -> dict[str, MispEvent]:
    """Events by uuid, each with its entries; a value twice in one event keeps its best score."""
    chosen: dict[str, dict[tuple[str, str], tuple[FeedEntry, MispAttribute]]] = {}
    keys: dict[str, str] = {}
    for entry in entries:
        key = event_key(entry)
        uid = event_uuid(key)
        keys[uid] = key
        attribute = misp_attribute(entry)
        slot = (attribute.type, attribute.value)
        attributes = chosen.setdefault(uid, {})
        kept = attributes.get(slot)
        if kept is None or _rank(entry) > _rank(kept[0]):
            attributes[slot] = (entry, attribute)
    return {
        uid: MispEvent(uid, keys[uid], tuple(attributes[slot] for slot in sorted(attributes)))
        for uid, attributes in sorted(chosen.items())
    }


def _rank(entry: FeedEntry) -> tuple[bool, int]:
    """Which of two entries of one value an event keeps: an active one, then the best score."""
    return (entry.retired_at is None, entry.score)


def _attribute(
    event: MispEvent, entry: FeedEntry, attribute: MispAttribute, info: FeedInfo
) -> dict[str, Any]:
    seen = entry.last_seen if entry.last_seen is not None else info.generated
    if entry.retired_at is not None:
        # MISP keeps attributes a feed stops listing; a newer timestamp with
        # deleted true is how a feed tells it to drop one.
        seen = max(seen, entry.retired_at)
    comment = f"score {entry.score}"
    if entry.confidence is not None:
        comment += f", confidence {entry.confidence}"
    comment += f"; {entry.indicator_id}"
    tags = [_tag(f'steppe:score="{entry.score}"')]
    tlp_name = _tlp_name(entry)
    if tlp_name is not None:
        tags.insert(0, _tag(f"tlp:{tlp_name}"))
    out: dict[str, Any] = {
        "uuid": attribute_uuid(event.uuid, attribute.type, attribute.value),
        "type": attribute.type,
        "category": attribute.category,
        "value": attribute.value,
        "to_ids": attribute.to_ids and entry.retired_at is None,
        "comment": comment,
        "timestamp": _seconds(seen),
        "deleted": entry.retired_at is not None,
        "disable_correlation": False,
        "Tag": tags,
    }
    if entry.first_seen is not None:
        out["first_seen"] = _iso(entry.first_seen)
    if entry.last_seen is not None and (
        entry.first_seen is None or entry.last_seen >= entry.first_seen
    ):
        out["last_seen"] = _iso(entry.last_seen)
    return out


def _org(org_name: str) -> dict[str, str]:
    return {"name": org_name, "uuid": str(uuid.uuid5(NAMESPACE, f"org:{org_name}"))}


def _info(event: MispEvent, feed: FeedInfo) -> str:
    first = event.entries[0][0]
    if first.campaign_id:
        return f"{feed.name}: campaign {first.campaign or first.campaign_id}"
    what = first.kind or "indicators"
    return f"{feed.name}: {what} reported by {first.source or 'unknown source'}"


def _event_tags(event: MispEvent) -> list[dict[str, str]]:
    ranks = [
        tlp_levels.level(name).rank
        for name in (_tlp_name(entry) for entry, _ in event.entries)
        if name is not None
    ]
    tags = []
    if ranks:
        tags.append(_tag(f"tlp:{tlp_levels.BY_RANK[max(ranks)].name}"))
    kinds = sorted({entry.kind for entry, _ in event.entries if entry.kind})
    tags += [_tag(f'steppe:kind="{kind}"') for kind in kinds]
    return tags


def _metadata(event: MispEvent, feed: FeedInfo, org_name: str) -> dict[str, Any]:
    # The generation time, not the newest sighting: an attribute added with an
    # older last_seen must still make MISP fetch the event again.
    firsts = [entry.first_seen for entry, _ in event.entries if entry.first_seen is not None]
    return {
        "Orgc": _org(org_name),
        "Tag": _event_tags(event),
        "info": _info(event, feed),
        "date": _date(min(firsts) if firsts else feed.generated),
        "analysis": ANALYSIS_ONGOING,
        "threat_level_id": THREAT_LEVEL_UNDEFINED,
        "timestamp": _seconds(feed.generated),
    }


def _json(document: Any) -> bytes:
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8"
    )


def render_event(event: MispEvent, feed: FeedInfo, org_name: str = "steppe") -> bytes:
    meta = _metadata(event, feed, org_name)
    document = {
        **meta,
        "uuid": event.uuid,
        "published": True,
        "publish_timestamp": meta["timestamp"],
        "Attribute": [_attribute(event, e, a, feed) for e, a in event.entries],
    }
    return _json({"Event": document})


def render_manifest(
    events: dict[str, MispEvent], feed: FeedInfo, org_name: str = "steppe"
) -> bytes:
    return _json({uid: _metadata(event, feed, org_name) for uid, event in events.items()})


def render_hashes(events: dict[str, MispEvent]) -> bytes:
    lines = [
        f"{hashlib.md5(attribute.value.encode('utf-8')).hexdigest()},{uid}\n"
        for uid, event in events.items()
        for entry, attribute in event.entries
        if entry.retired_at is None
    ]
    return "".join(lines).encode("ascii")


def render_files(
    entries: Iterable[FeedEntry], info: FeedInfo, org_name: str = "steppe"
) -> dict[str, bytes]:
    """Every file of the feed: path -> content."""
    events = group_events(entries)
    files = {
        MANIFEST: render_manifest(events, info, org_name),
        HASHES: render_hashes(events),
    }
    for uid, event in events.items():
        files[event_path(uid)] = render_event(event, info, org_name)
    return files


def render_path(
    entries: Iterable[FeedEntry], info: FeedInfo, path: str, org_name: str = "steppe"
) -> bytes | None:
    """One file of the feed, or None if the feed has no such path (a 404)."""
    events = group_events(entries)
    if path == MANIFEST:
        return render_manifest(events, info, org_name)
    if path == HASHES:
        return render_hashes(events)
    event = events.get(path.removesuffix(".json")) if path.endswith(".json") else None
    return None if event is None else render_event(event, info, org_name)
