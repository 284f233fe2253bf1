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

from steppe.observables.correlation_keys import indicator_keys, split
from steppe.scoring.decay_curve import (
    DEFAULT_CURVE,
    MICROSECONDS_PER_DAY,
    DecayCurve,
    decay_curve,
)
from steppe.scoring.decay_score import DEFAULT_CONFIDENCE, expires_at, score_at
from steppe.stix.score_extension import read_score
from steppe.stix.timestamps import micros_or_none
from steppe.store.port.feed_index import FeedIndexEntry


class EntryContext:
    """What the rest of the write says about indicators: their campaign, and names to show.

    Each fact keeps the TLP rank of the object that states it, and an entry shows
    it only within the indicator's own rank: a GREEN indicator that an AMBER
    relationship ties to a campaign (or whose creator's identity is AMBER) names
    no campaign (no creator) to a feed cleared for GREEN.
    """

    def __init__(self) -> None:
        self.campaigns: dict[str, tuple[str, int]] = {}  # indicator id -> (campaign id, rank)
        self.names: dict[str, tuple[str, int]] = {}  # campaign or identity id -> (name, rank)

    def name(self, object_id: object, within: int) -> str | None:
        named = self.names.get(object_id) if isinstance(object_id, str) else None
        return named[0] if named is not None and named[1] <= within else None

    def campaign(self, indicator_id: str, within: int) -> tuple[str, str | None] | None:
        """(campaign id, its name if known) that may be shown beside the indicator, or None."""
        tie = self.campaigns.get(indicator_id)
        if tie is None or tie[1] > within:
            return None
        named = self.names.get(tie[0])
        if named is not None and named[1] > within:
            return None
        return tie[0], named[0] if named is not None else None


def feed_entry(
    obj: Mapping[str, Any],
    collection_id: str,
    tlp_rank: int,
    now: int,
    context: EntryContext,
) -> FeedIndexEntry | None:
    """The entry of an indicator version, or None if its pattern names no single value."""
    if obj.get("type") != "indicator":
        return None
    keys = indicator_keys(obj)
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
        curve = decay_curve(fields.lifetime_days, fields.decay_speed, fields.threshold)
    else:
        confidence = obj.get("confidence")
        base = (
            confidence
            if isinstance(confidence, int)
            and not isinstance(confidence, bool)
            and 0 <= confidence <= 100
            else DEFAULT_CONFIDENCE
        )
        last_seen = micros_or_none(obj.get("modified")) or micros_or_none(obj.get("created")) or now
        kind, curve = None, DEFAULT_CURVE
    valid_until = micros_or_none(obj.get("valid_until"))
    ends = expires_at(base, last_seen, curve)
    if valid_until is not None:
        ends = min(ends, valid_until)
    indicator_id = str(obj["id"])
    campaign_id, campaign = context.campaign(indicator_id, tlp_rank) or (None, None)
    detail = {
        "confidence": obj.get("confidence"),
        "first_seen": micros_or_none(obj.get("valid_from")),
        "last_seen": last_seen,
        "valid_until": valid_until,
        "campaign_id": campaign_id,
        "campaign": campaign,
        "source": context.name(obj.get("created_by_ref"), tlp_rank),
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


def with_campaign(entry: FeedIndexEntry, context: EntryContext) -> FeedIndexEntry | None:
    """The entry, now known to indicate the campaign the context ties it to; None when
    that tie may not be shown beside it (see EntryContext)."""
    shown = context.campaign(entry.indicator_id, entry.tlp)
    if shown is None:
        return None
    detail = orjson.loads(entry.detail)
    detail["campaign_id"] = shown[0]
    if shown[1]:
        detail["campaign"] = shown[1]
    return entry._replace(detail=orjson.dumps(detail))


def entry_curve(entry: FeedIndexEntry) -> DecayCurve:
    """The decay curve an entry's score follows."""
    return decay_curve(entry.lifetime_us / MICROSECONDS_PER_DAY, entry.decay_speed, entry.threshold)
