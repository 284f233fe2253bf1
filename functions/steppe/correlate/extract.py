"""What a batch of stored STIX objects tells the index: its values, their campaigns.

The same reading serves both ways objects arrive: a chunk of an analyst
submission (its bundle, exactly as stored) and an envelope a partner posted
over TAXII (the objects as stored). Nothing here is specific to steppe's own
templates:

* a value comes from an indicator's pattern (steppe.observables.correlation_keys.pattern_keys)
  or from an SCO (sco_keys);
* an indicator belongs to the campaign it `indicates`; an SCO to the campaign
  of the indicator that is `based-on` it, or to the campaign it is
  `related-to` (a victim) — relationships may be in the batch or reach objects
  stored earlier, which the caller resolves (`Batch.missing_refs`);
* an address's autonomous system comes from its `belongs_to_refs`;
* a campaign's targets are the identities it `targets`;
* a campaign's kind is the attack kind of steppe's own attack pattern it
  `uses` (steppe.conversion.attack_pattern_objects.attack_kind), when the
  batch holds that relationship (the first chunk of a submission does);
* a campaign's tooling is the malware and tools it `uses`: each is an
  occurrence of its family keys ("malware:<family key>" of its name and
  aliases, and of those of the family it is a `variant-of`), and of the hashes
  of its samples: the file indicators that `indicates` it (and the file SCOs
  of its sample_refs). Such an occurrence's object is the malware or tool
  itself; a sample is tied to a campaign only when the batch holds both the
  `indicates` and the campaign's `uses` (a family object is shared by every
  producer of a collection, so its samples belong to the report that gave
  them, not to every campaign that ever used the family).

Each occurrence carries the strictest TLP of what it rests on: the object
carrying the value and, when it is tied to a campaign, the relationships that
tie it (a GREEN indicator tied to a campaign by an AMBER relationship says at
AMBER that the value belongs to the campaign). A target carries the strictest
of its identity and its `targets` relationship.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from steppe.conversion.attack_pattern_objects import attack_kind
from steppe.observables import correlation_keys as values
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
    # campaign id -> target name -> the least strict TLP rank it was named at
    targets: dict[str, dict[str, int]] = field(default_factory=dict)
    # campaign id -> its attack kind and the least strict TLP rank it was said at
    kinds: dict[str, tuple[str, int]] = field(default_factory=dict)
    # Ids referred to by the batch's relationships but not in it (resolved by the caller).
    missing_refs: set[str] = field(default_factory=set)
    # family key -> the name it was given as in this batch, and the least strict TLP rank
    # it was given at (a description marked at a lower rank shows the key instead)
    tool_names: dict[str, tuple[str, int]] = field(default_factory=dict)


@lru_cache(maxsize=4096)  # a batch's objects share a handful of timestamps
def _parse(text: str) -> int | None:
    try:
        return parse_micros(text)
    except (TimestampError, ValueError):
        return None


def _micros(text: object) -> int | None:
    return _parse(text) if isinstance(text, str) else None


_Rank = Callable[[Mapping[str, Any]], int]


def _ranker(default: int) -> _Rank:
    """tlp.rank_of_object for a batch, remembered per marking list (a batch uses a few)."""
    cache: dict[object, int] = {}

    def rank(obj: Mapping[str, Any]) -> int:
        if obj.get("type") == "marking-definition":  # ranked by more than its markings
            return tlp_levels.rank_of_object(obj, default)
        refs = obj.get("object_marking_refs")
        if not isinstance(refs, list):
            return default
        key = refs[0] if len(refs) == 1 else tuple(refs)
        found = cache.get(key)
        if found is None:
            found = cache[key] = tlp_levels.rank_of_object(obj, default)
        return found

    return rank


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
    kinds: tuple[str, ...] = (),
) -> Batch:
    """The batch's occurrences and campaigns.

    `known` holds objects stored earlier that relationships of the batch refer
    to (the caller fetches Batch.missing_refs of a first pass and reads again).
    An attacker value is carried by its indicator and by the SCO the indicator
    is `based-on`: the indicator's occurrence stands for both (taking the SCO's
    autonomous system), so the SCO is not read for its value again. `kinds`: the
    attack kinds steppe has templates for (a campaign's kind is one of them).
    """
    sorted_objects = _sort(objects, known)
    rank = _ranker(default_tlp)
    batch = Batch()
    ties = _read_relationships(sorted_objects, rank, batch, kinds)
    campaign = _CampaignReader(sorted_objects.by_id, rank, batch).campaign
    for campaign_id in [*batch.targets, *sorted_objects.campaign_ids]:
        campaign(campaign_id)
    asn_of_indicator = _read_scos(sorted_objects, ties, rank, campaign, batch)
    _read_indicators(sorted_objects.indicators, ties, asn_of_indicator, rank, campaign, batch)
    _read_tooling(sorted_objects, ties, rank, campaign, batch)
    return batch


@dataclass(slots=True)
class _Sorted:
    """A batch's objects by id (with those known from earlier), and by what they are."""

    by_id: dict[str, Mapping[str, Any]]
    relationships: list[Mapping[str, Any]] = field(default_factory=list)
    indicators: list[Mapping[str, Any]] = field(default_factory=list)
    scos: list[Mapping[str, Any]] = field(default_factory=list)
    campaign_ids: list[str] = field(default_factory=list)
    tool_ids: list[str] = field(default_factory=list)  # malware and tools


@dataclass(slots=True)
class _Ties:
    """The relationships that tie values to campaigns, each with its TLP rank."""

    indicates: dict[str, tuple[str, int]] = field(default_factory=dict)  # indicator -> campaign
    based_on: dict[str, tuple[str, int]] = field(default_factory=dict)  # SCO -> indicator
    victim_of: dict[str, tuple[str, int]] = field(default_factory=dict)  # SCO -> campaign
    # malware/tool -> the campaigns that `uses` it, each with the relationship's rank
    used_by: dict[str, dict[str, int]] = field(default_factory=dict)
    # indicator -> the malware/tools it `indicates`, each with the relationship's rank
    sample_of: dict[str, dict[str, int]] = field(default_factory=dict)
    # malware -> the families it is a `variant-of`, each with the relationship's rank
    variant_of: dict[str, dict[str, int]] = field(default_factory=dict)


def _sort(
    objects: Iterable[Mapping[str, Any]], known: Mapping[str, Mapping[str, Any]] | None
) -> _Sorted:
    sorted_objects = _Sorted(dict(known or {}))
    by_id = sorted_objects.by_id
    relationships = sorted_objects.relationships
    indicators = sorted_objects.indicators
    scos = sorted_objects.scos
    campaign_ids = sorted_objects.campaign_ids
    sco_types = values.SCO_TYPES
    for obj in objects:
        object_id = obj.get("id")
        if not isinstance(object_id, str):
            continue
        by_id[object_id] = obj
        stix_type = obj.get("type")
        if stix_type == "relationship":
            relationships.append(obj)
        elif stix_type == "indicator":
            indicators.append(obj)
        elif stix_type in sco_types:
            scos.append(obj)
        elif stix_type == "campaign":
            campaign_ids.append(object_id)
        elif stix_type in values.TOOLING_TYPES:
            sorted_objects.tool_ids.append(object_id)
    return sorted_objects


def _least(table: dict[str, dict[str, int]], source: str, target: str, level: int) -> None:
    """Remember source -> target at the least strict rank any relationship says it."""
    targets = table.setdefault(source, {})
    targets[target] = min(targets.get(target, level), level)


def _read_relationships(
    sorted_objects: _Sorted, rank: _Rank, batch: Batch, kinds: tuple[str, ...] = ()
) -> _Ties:
    """The ties of values to campaigns; a campaign's targets and kind and the refs not at
    hand go into the batch."""
    ties = _Ties()
    indicates = ties.indicates
    based_on = ties.based_on
    victim_of = ties.victim_of
    by_id = sorted_objects.by_id
    missing = batch.missing_refs
    for obj in sorted_objects.relationships:
        source, target = obj.get("source_ref"), obj.get("target_ref")
        if not isinstance(source, str) or not isinstance(target, str):
            continue
        if source not in by_id:
            missing.add(source)
        if target not in by_id:
            missing.add(target)
        kind = obj.get("relationship_type")
        if kind == "based-on":
            if source.startswith("indicator--"):
                based_on.setdefault(target, (source, rank(obj)))
        elif kind == "indicates":
            if source.startswith("indicator--") and target.startswith("campaign--"):
                indicates.setdefault(source, (target, rank(obj)))
            elif source.startswith("indicator--") and values.is_tooling(target):
                _least(ties.sample_of, source, target, rank(obj))
        elif kind == "uses":
            if source.startswith("campaign--") and values.is_tooling(target):
                _least(ties.used_by, target, source, rank(obj))
            elif source.startswith("campaign--") and target.startswith("attack-pattern--"):
                _campaign_kind(batch, source, obj, by_id.get(target), rank, kinds)
        elif kind == "variant-of":
            if values.is_tooling(source) and values.is_tooling(target):
                _least(ties.variant_of, source, target, rank(obj))
        elif kind == "related-to":
            if target.startswith("campaign--"):
                victim_of.setdefault(source, (target, rank(obj)))
        elif kind == "targets" and source.startswith("campaign--"):
            identity = by_id.get(target)
            name = identity.get("name") if identity and target.startswith("identity--") else None
            if identity is not None and isinstance(name, str):
                names = batch.targets.setdefault(source, {})
                level = max(rank(obj), rank(identity))
                names[name] = min(names.get(name, level), level)
    return ties


def _campaign_kind(
    batch: Batch,
    campaign_id: str,
    uses: Mapping[str, Any],
    pattern: Mapping[str, Any] | None,
    rank: _Rank,
    kinds: tuple[str, ...],
) -> None:
    """Remember the kind a campaign's `uses` of an attack pattern names, at the least
    strict rank it is said at (the strictest of the relationship and the pattern)."""
    target = uses["target_ref"]
    producers = [_str(uses.get("created_by_ref"))]
    if pattern is not None:
        producers.append(_str(pattern.get("created_by_ref")))
    found = next((k for p in producers if (k := attack_kind(target, p, kinds))), "")
    if not found:
        return
    level = max(rank(uses), rank(pattern)) if pattern is not None else rank(uses)
    known = batch.kinds.get(campaign_id)
    if known is None or (level, found) < (known[1], known[0]):
        batch.kinds[campaign_id] = (found, level)


class _CampaignReader:
    """Records in the batch each campaign a value is tied to, read once."""

    __slots__ = ("batch", "by_id", "rank")

    def __init__(self, by_id: Mapping[str, Mapping[str, Any]], rank: _Rank, batch: Batch) -> None:
        self.by_id = by_id
        self.rank = rank
        self.batch = batch

    def campaign(self, campaign_id: str | None) -> str | None:
        """The campaign's id once it is in batch.campaigns; None when it is no campaign."""
        if campaign_id is None:
            return None
        campaigns = self.batch.campaigns
        if campaign_id not in campaigns:
            obj = self.by_id.get(campaign_id)
            if obj is None or obj.get("type") != "campaign":
                return None
            campaigns[campaign_id] = CampaignInfo(
                id=campaign_id,
                name=_str(obj.get("name")) or campaign_id,
                tlp=self.rank(obj),
                first_seen=_micros(obj.get("first_seen")),
                last_seen=_micros(obj.get("last_seen")),
                producer=_str(obj.get("created_by_ref")),
            )
        return campaign_id


def _read_scos(
    sorted_objects: _Sorted,
    ties: _Ties,
    rank: _Rank,
    campaign: Callable[[str | None], str | None],
    batch: Batch,
) -> dict[str, tuple[int, int]]:
    """The occurrences of SCOs no indicator of the batch stands for.

    Returns indicator -> (its SCO's autonomous system, the TLP rank that
    association rests on).
    """
    by_id = sorted_objects.by_id
    based_on = ties.based_on
    indicates = ties.indicates
    victim_of = ties.victim_of
    asn_of_indicator: dict[str, tuple[int, int]] = {}
    occurrences = batch.occurrences
    for obj in sorted_objects.scos:
        object_id = obj["id"]
        indicator, based_rank = based_on.get(object_id, (None, 0))
        asn = None
        for ref in obj.get("belongs_to_refs") or ():
            number = (by_id.get(ref) or {}).get("number")
            if isinstance(number, int):
                asn = number
                break
        if indicator is not None and indicator in by_id:
            if asn is not None:
                asn_of_indicator[indicator] = (asn, max(rank(obj), based_rank))
            continue
        keys = values.sco_keys(obj)
        if not keys:
            continue
        level = rank(obj)
        tie = victim_of.get(object_id)
        if indicator is not None:
            tie = indicates.get(indicator)
            if tie is not None:
                tie = (tie[0], max(tie[1], based_rank))
        owner = campaign(tie[0]) if tie else None
        if owner is not None and tie is not None:
            level = max(level, tie[1])
        info = batch.campaigns.get(owner) if owner else None
        for key in keys:
            occurrences.append(
                Occurrence(
                    key=key,
                    object_id=object_id,
                    indicator=False,
                    campaign_id=owner,
                    producer=info.producer if info else None,
                    tlp=level,
                    first_seen=info.first_seen if info else None,
                    last_seen=info.last_seen if info else None,
                    asn=asn,
                )
            )
    return asn_of_indicator


def _read_indicators(
    indicators: list[Mapping[str, Any]],
    ties: _Ties,
    asn_of_indicator: Mapping[str, tuple[int, int]],
    rank: _Rank,
    campaign: Callable[[str | None], str | None],
    batch: Batch,
) -> None:
    """The occurrences of the values in the batch's (unrevoked, STIX-pattern) indicators."""
    indicates = ties.indicates
    occurrences = batch.occurrences
    for obj in indicators:
        keys = values.indicator_keys(obj)
        if not keys or obj.get("revoked"):
            continue
        object_id = obj["id"]
        first = _micros(obj.get("valid_from")) or _micros(obj.get("created"))
        tie = indicates.get(object_id)
        owner = campaign(tie[0]) if tie else None
        info = batch.campaigns.get(owner) if owner else None
        last = first
        if info is not None and info.last_seen and first and info.last_seen > first:
            last = info.last_seen
        producer = _str(obj.get("created_by_ref"))
        tlp = rank(obj)
        if owner is not None and tie is not None:
            tlp = max(tlp, tie[1])
        asn = None
        found_asn = asn_of_indicator.get(object_id)
        # An autonomous system known only at a stricter level than the value is left out.
        if found_asn is not None and found_asn[1] <= tlp:
            asn = found_asn[0]
        for key in keys:
            occurrences.append(
                Occurrence(key, object_id, True, owner, producer, tlp, first, last, asn)
            )


def _names(obj: Mapping[str, Any]) -> list[str]:
    """A malware's or tool's name and aliases, as given."""
    names = [obj.get("name"), *(obj.get("aliases") or ())]
    return [name for name in names if isinstance(name, str)]


def _family_keys(
    tool_id: str,
    by_id: Mapping[str, Mapping[str, Any]],
    ties: _Ties,
    rank: _Rank,
    batch: Batch,
) -> dict[tuple[str, str], int]:
    """(family key, the object naming it) -> the least strict rank it is known at.

    The keys of the tool's own name and aliases, at its rank; those of each
    family it is a `variant-of`, at the strictest of the tool, the relationship
    and the family.
    """
    found: dict[tuple[str, str], int] = {}
    tool = by_id.get(tool_id)
    named = [(tool_id, tool, rank(tool) if tool else 0)]
    for family_id, rel_rank in ties.variant_of.get(tool_id, {}).items():
        family = by_id.get(family_id)
        if family is not None and tool is not None:
            named.append((family_id, family, max(rank(tool), rel_rank, rank(family))))
    for object_id, obj, level in named:
        if obj is None or obj.get("type") not in values.TOOLING_TYPES or obj.get("revoked"):
            continue
        for name in _names(obj):
            key = values.tooling_key(obj["type"], name)
            if key is None:
                continue
            given = batch.tool_names.get(key)
            if given is None or level < given[1]:
                batch.tool_names[key] = (name, level)
            known = found.get((key, object_id))
            found[(key, object_id)] = level if known is None else min(known, level)
    return found


def _sample_keys(
    sorted_objects: _Sorted, ties: _Ties, rank: _Rank
) -> dict[str, dict[tuple[str, str | None], int]]:
    """malware/tool -> (sample hash key, the indicator giving it) -> the least strict rank.

    From the batch's unrevoked file indicators that `indicates` it (the
    strictest of indicator and relationship), and the file SCOs of an
    instance's sample_refs (the strictest of the SCO and the malware). A
    family's sample_refs are not read: a family object is shared by every
    producer of the collection, and its list may gather other reports' samples.
    """
    found: dict[str, dict[tuple[str, str | None], int]] = defaultdict(dict)

    def add(tool_id: str, key: str, indicator: str | None, level: int) -> None:
        known = found[tool_id].get((key, indicator))
        found[tool_id][(key, indicator)] = level if known is None else min(known, level)

    for obj in sorted_objects.indicators:
        targets = ties.sample_of.get(obj["id"])
        if not targets or obj.get("revoked"):
            continue
        keys = [key for key in values.indicator_keys(obj) if key.startswith("file:")]
        for tool_id, rel_rank in targets.items():
            for key in keys:
                add(tool_id, key, obj["id"], max(rank(obj), rel_rank))
    by_id = sorted_objects.by_id
    for tool_id in sorted_objects.tool_ids:
        tool = by_id[tool_id]
        refs = tool.get("sample_refs")
        if tool.get("revoked") or tool.get("is_family") or not isinstance(refs, list):
            continue
        for ref in refs:
            sco = by_id.get(ref) if isinstance(ref, str) else None
            if sco is None or sco.get("type") != values.FILE:
                continue
            for key in values.sco_keys(sco):
                add(tool_id, key, None, max(rank(sco), rank(tool)))
    return found


def _read_tooling(
    sorted_objects: _Sorted,
    ties: _Ties,
    rank: _Rank,
    campaign: Callable[[str | None], str | None],
    batch: Batch,
) -> None:
    """The occurrences of the batch's tooling: family keys and sample hashes, per campaign.

    A malware or tool of the batch, or one a campaign of the batch `uses`, is
    an occurrence of each of its family keys for each such campaign, at the
    strictest of what it rests on and the `uses`. A sample is an occurrence (its
    object: the malware or tool) of its hash for each campaign that `uses` the
    malware in this batch. What no campaign of the batch uses is an occurrence
    tied to no campaign, unless the same key and object are tied to one.
    """
    by_id = sorted_objects.by_id
    samples = _sample_keys(sorted_objects, ties, rank)
    tool_ids = dict.fromkeys([*sorted_objects.tool_ids, *ties.used_by, *samples])
    # (key, object, campaign) -> (rank, producer, first, last)
    found: dict[tuple[str, str, str | None], tuple[int, str | None, int | None, int | None]] = {}

    def add(
        key: str,
        object_id: str,
        owner: str | None,
        level: int,
        about: tuple[str | None, int | None, int | None],
    ) -> None:
        known = found.get((key, object_id, owner))
        if known is None or level < known[0]:
            found[(key, object_id, owner)] = (level, *about)

    for tool_id in tool_ids:
        users: list[tuple[str | None, int]] = [
            (campaign_id, rel_rank)
            for campaign_id, rel_rank in sorted(ties.used_by.get(tool_id, {}).items())
            if campaign(campaign_id) is not None
        ] or [(None, 0)]
        tool = by_id.get(tool_id) or {}
        tool_rank = rank(tool) if tool else 0
        producer = _str(tool.get("created_by_ref"))
        names = _family_keys(tool_id, by_id, ties, rank, batch)
        least: dict[str, int] = {}
        for (key, _), level in samples.get(tool_id, {}).items():
            least[key] = min(least.get(key, level), level)
        for owner, rel_rank in users:
            info = batch.campaigns.get(owner) if owner else None
            about = (
                (info.producer if info else None) or producer,
                info.first_seen if info else _micros(tool.get("first_seen")),
                info.last_seen if info else _micros(tool.get("last_seen")),
            )
            for (key, object_id), level in names.items():
                add(key, object_id, owner, max(level, rel_rank), about)
            for key, level in least.items():
                add(key, tool_id, owner, max(level, rel_rank, tool_rank), about)
    tied = {(key, object_id) for key, object_id, owner in found if owner is not None}
    for (key, object_id, owner), (level, producer, first, last) in sorted(
        found.items(), key=lambda item: (item[0][0], item[0][1], item[0][2] or "")
    ):
        if owner is None and (key, object_id) in tied:
            continue
        batch.occurrences.append(
            Occurrence(
                key=key,
                object_id=object_id,
                indicator=False,
                campaign_id=owner,
                producer=producer,
                tlp=level,
                first_seen=first,
                last_seen=last,
            )
        )
