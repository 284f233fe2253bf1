"""How a stored indicator version becomes its feed index entry (the write path's one rule).

An indicator enters feeds when its pattern names exactly one value (an
address, network, domain, URL, email, hash or autonomous system). Its score
comes from steppe's score extension (steppe.stix.score_extension) when it has
one: the base at last seen and the template's curve. A partner's indicator
without it starts from its `confidence` (else the middle, 50), counts as last
seen when it was last modified, and decays on the default curve.

The entry expires at the sooner of its decay expiry and its `valid_until`; a
revoked version retires it at once, and a version already past its expiry
(an old report, or the decay job's expiring version) is retired as of then.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from steppe.observables.correlation_keys import pattern_keys, split
from steppe.scoring.decay_curve import DEFAULT_CURVE, DecayCurve
from steppe.scoring.decay_score import DEFAULT_CONFIDENCE, expires_at, score_at
from steppe.stix.score_extension import read_score
from steppe.stix.timestamps import TimestampError, parse_micros
from steppe.store.port.feed_index import FeedIndexEntry


class EntryContext:
    """What the rest of the write says about indicators: their campaign, and names to show."""

    def __init__(
        self,
        campaigns: Mapping[str, str] | None = None,
        names: Mapping[str, str] | None = None,
    ) -> None:
        self.campaigns = dict(campaigns or {})  # indicator id -> campaign id
        self.names = dict(names or {})  # campaign or identity id -> its name


def feed_entry(
    obj: Mapping[str, Any],
    collection_id: str,
    tlp_rank: int,
    now: int,
    context: EntryContext,
) -> FeedIndexEntry | None:
    """The entry of an indicator version, or None if its pattern names no single value."""
    pattern = obj.get("pattern")
    if obj.get("type") != "indicator" or not isinstance(pattern, str):
        return None
    if obj.get("pattern_type", "stix") != "stix":
        return None
    keys = pattern_keys(pattern)
    if len(keys) != 1:
        return None
    key = keys[0]
    stix_type, value = split(key)
    hash_algorithm = None
    if stix_type == "file":
        hash_algorithm, value = value.split(":", 1)
    fields = read_score(obj)
    if fields is not None:
        base, last_seen, kind = fields.score, fields.last_seen, fields.kind
        curve = _curve(fields.lifetime_days, fields.decay_speed, fields.threshold)
    else:
        confidence = obj.get("confidence")
        base = (
            confidence
            if isinstance(confidence, int)
            and not isinstance(confidence, bool)
            and 0 <= confidence <= 100
            else DEFAULT_CONFIDENCE
        )
        last_seen = _time(obj.get("modified")) or _time(obj.get("created")) or now
        kind, curve = None, DEFAULT_CURVE
    valid_until = _time(obj.get("valid_until"))
    ends = expires_at(base, last_seen, curve)
    if valid_until is not None:
        ends = min(ends, valid_until)
    indicator_id = str(obj["id"])
    campaign_id = context.campaigns.get(indicator_id)
    creator = obj.get("created_by_ref")
    detail = {
        "confidence": obj.get("confidence"),
        "first_seen": _time(obj.get("valid_from")),
        "last_seen": last_seen,
        "valid_until": valid_until,
        "campaign_id": campaign_id,
        "campaign": context.names.get(campaign_id) if campaign_id else None,
        "source": context.names.get(creator) if isinstance(creator, str) else None,
        "kind": kind,
        "hash_algorithm": hash_algorithm,
    }
    return FeedIndexEntry(
        collection_id=collection_id,
        indicator_id=indicator_id,
        type=stix_type,
        value=value,
        key=key,
        tlp=tlp_rank,
        score=score_at(base, last_seen, now, curve),
        scored_at=now,
        base=base,
        last_seen=last_seen,
        lifetime_us=curve.lifetime_us,
        decay_speed=curve.decay_speed,
        threshold=curve.threshold,
        expires_at=ends,
        retired_at=now if obj.get("revoked") is True else ends if ends <= now else None,
        detail=orjson.dumps({k: v for k, v in detail.items() if v is not None}),
    )


def with_campaign(entry: FeedIndexEntry, campaign_id: str, name: str | None) -> FeedIndexEntry:
    """The entry, now known to indicate that campaign."""
    detail = orjson.loads(entry.detail)
    detail["campaign_id"] = campaign_id
    if name:
        detail["campaign"] = name
    return entry._replace(detail=orjson.dumps(detail))


def entry_curve(entry: FeedIndexEntry) -> DecayCurve:
    """The decay curve an entry's score follows."""
    return _curve(entry.lifetime_us / 86_400_000_000, entry.decay_speed, entry.threshold)


_CURVES: dict[tuple[float, float, int], DecayCurve] = {}


def _curve(lifetime_days: float, decay_speed: float, threshold: int) -> DecayCurve:
    key = (lifetime_days, decay_speed, threshold)
    found = _CURVES.get(key)
    if found is None:
        if len(_CURVES) > 1024:
            _CURVES.clear()
        found = _CURVES[key] = DecayCurve(lifetime_days, decay_speed, threshold)
    return found


def _time(value: object) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_micros(value)
    except TimestampError:
        return None
