"""What a batch of stored STIX objects tells the index: its values, their campaigns.

The same reading serves both ways objects arrive: a chunk of an analyst
submission (its bundle, exactly as stored) and an envelope a partner posted
over TAXII (the objects as stored). Nothing here is specific to steppe's own
templates:

* a value comes from an indicator's pattern (steppe.correlate.values.pattern_keys)
  or from an SCO (sco_keys);
* an indicator belongs to the campaign it `indicates`; an SCO to the campaign
  of the indicator that is `based-on` it, or to the campaign it is
  `related-to` (a victim) — relationships may be in the batch or reach objects
  stored earlier, which the caller resolves (`Batch.missing_refs`);
* an address's autonomous system comes from its `belongs_to_refs`;
* a campaign's targets are the identities it `targets`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from steppe.correlate import values
from steppe.stix import tlp as tlp_levels
from steppe.stix.timestamps import TimestampError, parse_micros


@dataclass(frozen=True, slots=True)
class CampaignInfo:
    id: str
    name: str
    tlp: int
    first_seen: int | None
    last_seen: int | None
    producer: str | None


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One value carried by one object of the batch."""

    key: str
    object_id: str  # an indicator, else the SCO
    indicator: bool
    campaign_id: str | None
    producer: str | None
    tlp: int
    first_seen: int | None
    last_seen: int | None
    asn: int | None = None


@dataclass(slots=True)
class Batch:
    occurrences: list[Occurrence] = field(default_factory=list)
    campaigns: dict[str, CampaignInfo] = field(default_factory=dict)
    targets: dict[str, list[str]] = field(default_factory=dict)  # campaign id -> target names
    # Ids referred to by the batch's relationships but not in it (resolved by the caller).
    missing_refs: set[str] = field(default_factory=set)


def _micros(text: object) -> int | None:
    if not isinstance(text, str):
        return None
    try:
        return parse_micros(text)
    except (TimestampError, ValueError):
        return None


def _rank(obj: Mapping[str, Any], default: int) -> int:
    refs = obj.get("object_marking_refs")
    return tlp_levels.rank_of_markings(refs if isinstance(refs, list) else None, default)


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def relationship_refs(objects: Iterable[Mapping[str, Any]]) -> set[str]:
    """Every id the relationships among `objects` point at."""
    refs: set[str] = set()
    for obj in objects:
        if obj.get("type") == "relationship":
            for name in ("source_ref", "target_ref"):
                ref = _str(obj.get(name))
                if ref:
                    refs.add(ref)
    return refs


def read_batch(
    objects: Iterable[Mapping[str, Any]],
    default_tlp: int,
    known: Mapping[str, Mapping[str, Any]] | None = None,
) -> Batch:
    """The batch's occurrences and campaigns.

    `known` holds objects stored earlier that relationships of the batch refer
    to (the caller fetches Batch.missing_refs of a first pass and reads again).
    """
    by_id: dict[str, Mapping[str, Any]] = dict(known or {})
    in_batch: list[Mapping[str, Any]] = []
    for obj in objects:
        object_id = _str(obj.get("id"))
        if object_id:
            by_id[object_id] = obj
            in_batch.append(obj)

    indicates: dict[str, str] = {}  # indicator -> campaign
    based_on: dict[str, str] = {}  # SCO -> indicator
    victim_of: dict[str, str] = {}  # SCO -> campaign
    batch = Batch()
    for obj in in_batch:
        if obj.get("type") != "relationship":
            continue
        source, target = _str(obj.get("source_ref")), _str(obj.get("target_ref"))
        kind = obj.get("relationship_type")
        if not source or not target:
            continue
        for ref in (source, target):
            if ref not in by_id:
                batch.missing_refs.add(ref)
        source_type, target_type = source.split("--")[0], target.split("--")[0]
        if kind == "indicates" and source_type == "indicator" and target_type == "campaign":
            indicates.setdefault(source, target)
        elif kind == "based-on" and source_type == "indicator":
            based_on.setdefault(target, source)
        elif kind == "related-to" and target_type == "campaign":
            victim_of.setdefault(source, target)
        elif kind == "targets" and source_type == "campaign" and target_type == "identity":
            identity = by_id.get(target)
            name = _str(identity.get("name")) if identity else None
            if name:
                names = batch.targets.setdefault(source, [])
                if name not in names:
                    names.append(name)

    def campaign(campaign_id: str | None) -> str | None:
        if campaign_id is None:
            return None
        if campaign_id not in batch.campaigns:
            obj = by_id.get(campaign_id)
            if obj is None or obj.get("type") != "campaign":
                return None
            batch.campaigns[campaign_id] = CampaignInfo(
                id=campaign_id,
                name=_str(obj.get("name")) or campaign_id,
                tlp=_rank(obj, default_tlp),
                first_seen=_micros(obj.get("first_seen")),
                last_seen=_micros(obj.get("last_seen")),
                producer=_str(obj.get("created_by_ref")),
            )
        return campaign_id

    for campaign_id in batch.targets:
        campaign(campaign_id)
    for obj in in_batch:
        stix_type = obj.get("type")
        object_id = str(obj["id"])
        if stix_type == "campaign":
            campaign(object_id)
        elif stix_type == "indicator":
            pattern = obj.get("pattern")
            if obj.get("pattern_type", "stix") != "stix" or not isinstance(pattern, str):
                continue
            if obj.get("revoked"):
                continue
            first = _micros(obj.get("valid_from")) or _micros(obj.get("created"))
            owner = campaign(indicates.get(object_id))
            info = batch.campaigns.get(owner) if owner else None
            last = (
                info.last_seen
                if info and info.last_seen and first and info.last_seen > first
                else first
            )
            for key in values.pattern_keys(pattern):
                batch.occurrences.append(
                    Occurrence(
                        key=key,
                        object_id=object_id,
                        indicator=True,
                        campaign_id=owner,
                        producer=_str(obj.get("created_by_ref")),
                        tlp=_rank(obj, default_tlp),
                        first_seen=first,
                        last_seen=last,
                        asn=None,
                    )
                )
        elif isinstance(stix_type, str) and stix_type in values.SCO_TYPES:
            keys = values.sco_keys(obj)
            if not keys:
                continue
            indicator = based_on.get(object_id)
            owner = campaign(indicates.get(indicator) if indicator else victim_of.get(object_id))
            asn = None
            for ref in obj.get("belongs_to_refs") or ():
                number = (by_id.get(ref) or {}).get("number")
                if isinstance(number, int):
                    asn = number
                    break
            info = batch.campaigns.get(owner) if owner else None
            for key in keys:
                batch.occurrences.append(
                    Occurrence(
                        key=key,
                        object_id=object_id,
                        indicator=False,
                        campaign_id=owner,
                        producer=info.producer if info else None,
                        tlp=_rank(obj, default_tlp),
                        first_seen=info.first_seen if info else None,
                        last_seen=info.last_seen if info else None,
                        asn=asn,
                    )
                )
    return _attach_asns(batch)


def _attach_asns(batch: Batch) -> Batch:
    """Give an indicator's occurrence the AS of the SCO carrying the same value."""
    asn_of = {o.key: o.asn for o in batch.occurrences if o.asn is not None}
    if asn_of:
        batch.occurrences = [
            o if o.asn is not None or o.key not in asn_of else _with_asn(o, asn_of[o.key])
            for o in batch.occurrences
        ]
    return batch


def _with_asn(occurrence: Occurrence, asn: int | None) -> Occurrence:
    return Occurrence(
        occurrence.key,
        occurrence.object_id,
        occurrence.indicator,
        occurrence.campaign_id,
        occurrence.producer,
        occurrence.tlp,
        occurrence.first_seen,
        occurrence.last_seen,
        asn,
    )
