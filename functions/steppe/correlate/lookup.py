"""Have we seen this? Lookups of values, and the campaigns behind them, as the caller may see them.

For each value a lookup answers with its matches:

* exact: the index holds the value itself;
* within: the index holds a network that contains it ("within 198.51.100.0/24");
* contains: the value is a network of at most a /24 (/48 in IPv6) or an
  autonomous system, and campaigns have addresses inside it;

and, kept apart and labelled as such, weak evidence: campaigns with other
addresses in its /24 (/48). Weak evidence never counts as a match.

A malware or tool family ("malware:BlackEnergy", or a bare word no other form
takes: steppe.observables.correlation_keys.parse_query) is looked up by its
family key like a value: where and when it was seen, in which campaigns, and
`tools`: the malware and tool objects of that family. A hash also answers
`sample_of`: the malware and tools it is a sample of. Their names are read from
the stored objects, which the caller must be cleared for.

Everything is filtered for the caller by steppe.access.visibility: an
occurrence, a campaign record, a group member, link evidence or a false
positive is seen only by a caller who may read its collection(s) and is
cleared for its TLP (admins read every collection). Counts, confidence and
dates are computed from what the caller may see. A campaign the caller may
see no record of is not named, and is answered 404 like one that does not exist.

The cost does not depend on the size of the index, and a bulk lookup makes a
bounded number of store calls whatever the number of values: one
cidr_prefixes(); find_values() over every probe key, then over what the
queried networks contain, and find_groups() over every group, all in large
batches; one
find_false_positives() and one get_campaigns().
"""

from __future__ import annotations

import socket
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import orjson

from steppe.access.caller import Caller
from steppe.access.visibility import (
    may_see,
    may_see_false_positive,
    visible_campaign,
    visible_collections,
)
from steppe.correlate.evidence import EVIDENCE, ORDER
from steppe.correlate.related import visible_relations
from steppe.errors import InvalidInput, NotFound, PayloadTooLarge
from steppe.observables.correlation_keys import (
    AS,
    FILE,
    IPV4,
    NEIGHBOURHOOD,
    TOOLING_TYPES,
    asn_group,
    contains,
    display,
    group_display,
    is_tooling,
    network_group,
    parse_query,
    probe_keys,
    split,
)
from steppe.scoring.decay_score import score_at
from steppe.stix import tlp
from steppe.stix.timestamps import format_stix, now_micros
from steppe.store.feed_entries import entry_curve
from steppe.store.latest import latest_versions
from steppe.store.port import (
    CampaignRecord,
    GroupHit,
    IndexedValue,
    ObservableIndex,
)
from steppe.store.port.feed_index import FeedIndex
from steppe.store.port.objects import ObjectStore

MAX_VALUES = 10_000  # values in one bulk lookup
KEY_BATCH = 2_000  # keys per find_values / find_groups call
OCCURRENCES_PER_KEY = 1_000
LIST_CAP = 100  # ids listed per value and per match (counts stay exact up to OCCURRENCES_PER_KEY)
# A /24 holds 256 addresses and 254 smaller networks: with this sample every
# member of an IPv4 group is known, so what lies inside a queried network is exact.
GROUP_SAMPLE = 512
WEAK_SAMPLE = 10  # neighbouring values shown per weak-evidence entry
# The campaign view reads at most this many occurrences of a campaign.
CAMPAIGN_SCAN = 20_000
CAMPAIGN_PAGE = 1_000
CAMPAIGN_ITEMS = 1_000  # indicators (and other objects) listed in the campaign view
RELATED_SAMPLE = 20
# Malware and tools named per request (their objects are read): beyond, listed by id only.
TOOL_NAMES = 1_000
MATCH_RANK = {"exact": 0, "within": 1, "contains": 2}

RECOGNISED = (
    "an IPv4 or IPv6 address or CIDR block, a domain name, a URL, an email address, "
    "an MD5, SHA-1, SHA-256 or SHA-512 hash, an autonomous system (AS64496), "
    "or a malware or tool family (malware:BlackEnergy, tool:Mimikatz, or one bare word)"
)


def _stamp(micros: int | None) -> str | None:
    return None if micros is None else format_stix(micros)


def _tlp_name(rank: int) -> str:
    level = tlp.BY_RANK.get(rank)
    return level.name if level else str(rank)


def _capped(items: Iterable[str]) -> list[str]:
    return list(islice(items, LIST_CAP))


def campaign_ref(record: CampaignRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "name": record.name,
        "first_seen": _stamp(record.first_seen),
        "last_seen": _stamp(record.last_seen),
    }


def describe_campaign(record: CampaignRecord, collections: list[str]) -> dict[str, Any]:
    """A campaign as the listing shows it (`record`: its visible records merged)."""
    return {
        **campaign_ref(record),
        "collection": record.collection_id,
        "collections": collections,
        "tlp": _tlp_name(record.tlp),
        "producer": record.producer,
        "kind": record.kind,
        "modified": _stamp(record.modified),
        "targets": list(record.targets),
    }


@dataclass(slots=True)
class _Tally:
    """What a set of occurrences says: how often, when, in which campaigns, from whom."""

    count: int = 0
    first: int | None = None
    last: int | None = None
    campaigns: dict[str, None] = field(default_factory=dict)
    indicators: dict[str, None] = field(default_factory=dict)
    observables: dict[str, None] = field(default_factory=dict)
    sources: dict[str, None] = field(default_factory=dict)
    producers: dict[str, None] = field(default_factory=dict)
    tools: dict[str, None] = field(default_factory=dict)
    truncated: bool = False

    def add(self, occurrence: IndexedValue, campaign_visible: bool) -> None:
        self.count += 1
        if self.first is None or occurrence.first_seen < self.first:
            self.first = occurrence.first_seen
        if self.last is None or occurrence.last_seen > self.last:
            self.last = occurrence.last_seen
        if occurrence.campaign_id and campaign_visible:
            self.campaigns[occurrence.campaign_id] = None
        if occurrence.object_id.startswith("indicator--"):
            self.indicators[occurrence.object_id] = None
        elif is_tooling(occurrence.object_id):
            self.tools[occurrence.object_id] = None
        else:
            self.observables[occurrence.object_id] = None
        self.sources[occurrence.source] = None
        self.producers[occurrence.producer] = None

    def merge(self, other: _Tally) -> None:
        self.count += other.count
        for mine, theirs in (
            (self.campaigns, other.campaigns),
            (self.indicators, other.indicators),
            (self.observables, other.observables),
            (self.sources, other.sources),
            (self.producers, other.producers),
            (self.tools, other.tools),
        ):
            mine.update(theirs)
        if other.first is not None and (self.first is None or other.first < self.first):
            self.first = other.first
        if other.last is not None and (self.last is None or other.last > self.last):
            self.last = other.last
        self.truncated = self.truncated or other.truncated

    def fields(self) -> dict[str, Any]:
        cut = (
            len(self.indicators) > LIST_CAP
            or len(self.observables) > LIST_CAP
            or len(self.sources) > LIST_CAP
            or len(self.producers) > LIST_CAP
            or len(self.tools) > LIST_CAP
        )
        return {
            "count": self.count,
            "first_seen": _stamp(self.first),
            "last_seen": _stamp(self.last),
            "indicators": _capped(self.indicators),
            "observables": _capped(self.observables),
            "sources": _capped(self.sources),
            "producers": _capped(self.producers),
            "tool_ids": _capped(self.tools),
            "truncated": self.truncated or cut,
        }


@dataclass(frozen=True, slots=True)
class _Plan:
    """What to ask the index about one key."""

    key: str
    probes: list[str]  # the key itself, then the indexed networks that could contain it
    group: str | None  # the group whose members are its neighbours or its content
    container: bool  # the group's members lie inside the key (a small network, an AS)

    def inside(self, member: str) -> bool:
        if member == self.key:
            return False  # the value itself: an exact match, not something it contains
        if split(self.key)[0] == AS:
            return True
        return self.container and contains(self.key, member)


def _plan(key: str, prefixes: dict[str, frozenset[int]]) -> _Plan:
    stix_type, value = split(key)
    if stix_type == AS:
        return _Plan(key, [key], asn_group(int(value)), True)
    if stix_type not in NEIGHBOURHOOD:
        return _Plan(key, [key], None, False)
    if stix_type == IPV4 and "/" not in value:
        return _ipv4_address_plan(key, value, prefixes.get(IPV4, frozenset()))
    group = network_group(key)
    return _Plan(key, probe_keys(key, prefixes), group, group is not None and "/" in value)


def _ipv4_address_plan(key: str, address: str, prefixes: frozenset[int]) -> _Plan:
    """probe_keys and network_group of an IPv4 address, by integer arithmetic.

    The common case of a bulk lookup (SIEM enrichment is mostly addresses),
    at a fraction of the cost of building ipaddress objects.
    """
    number = int.from_bytes(socket.inet_aton(address), "big")

    def network(prefix: int) -> str:
        mask = (0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF
        return f"{socket.inet_ntoa((number & mask).to_bytes(4, 'big'))}/{prefix}"

    probes = [key] + [f"{IPV4}:{network(p)}" for p in sorted(prefixes, reverse=True) if p < 32]
    return _Plan(key, probes, f"net:{network(NEIGHBOURHOOD[IPV4])}", False)


@dataclass(slots=True)
class _KeyAnswer:
    matches: list[dict[str, Any]]
    tally: _Tally
    campaigns: dict[str, str]  # campaign id -> the strongest match kind
    weak: list[dict[str, Any]]


class LookupService:
    """Built by steppe.runtime.lookup_service from the one port it reads."""

    def __init__(
        self, *, index: ObservableIndex, feed_index: FeedIndex, objects: ObjectStore | None = None
    ) -> None:
        self.index = index
        self.feed_index = feed_index
        self.objects = objects  # to name malware and tools; None: listed by id only

    # -- values --------------------------------------------------------------------

    def lookup_one(self, value: str, caller: Caller) -> dict[str, Any]:
        """The answer for one value; InvalidInput if it is no value steppe recognises."""
        if not parse_query(value):
            shown = value if len(value) <= 100 else value[:100] + "..."
            raise InvalidInput(
                f"'{shown}' is not a value steppe can look up; give {RECOGNISED}", where="value"
            )
        return self.lookup([value], caller)[0]

    def lookup(self, values: Sequence[str], caller: Caller) -> list[dict[str, Any]]:
        """One answer per value, in the order given (unrecognised values: found false)."""
        if len(values) > MAX_VALUES:
            raise PayloadTooLarge(
                f"{len(values):,} values in one lookup; the limit is {MAX_VALUES:,}: "
                "split them into several requests",
                where="values",
            )
        keys_of = {value: parse_query(value) for value in dict.fromkeys(values)}
        keys = list(dict.fromkeys(key for found in keys_of.values() for key in found))
        has_ip = any(split(key)[0] in NEIGHBOURHOOD for key in keys)
        prefixes = self.index.cidr_prefixes() if has_ip else {}
        plans = {key: _plan(key, prefixes) for key in keys}

        probes = dict.fromkeys(probe for plan in plans.values() for probe in plan.probes)
        occurrences = self._find_values(probes)
        groups = list(dict.fromkeys(plan.group for plan in plans.values() if plan.group))
        hits = {
            group: _merge_hits(
                [hit for hit in found if may_see(caller, hit.collection_id, hit.tlp)]
            )
            for group, found in self._find_groups(groups).items()
        }
        contents = {
            key: sorted(
                {
                    member
                    for hit in hits.get(plan.group or "", ())
                    for member in hit.keys
                    if plan.inside(member)
                }
            )
            for key, plan in plans.items()
            if plan.container
        }
        inside = {member for members in contents.values() for member in members}
        occurrences.update(self._find_values(sorted(inside - probes.keys())))
        # Weak evidence names the members of visible group records only: a member is
        # kept at the stricter of its campaign's level and its own occurrence's, in that
        # occurrence's collection (steppe.correlate.engine), so whoever may see the
        # record may see an occurrence of every member in it.

        campaign_ids = dict.fromkeys(
            occurrence.campaign_id
            for found in occurrences.values()
            for occurrence in found
            if occurrence.campaign_id and may_see(caller, occurrence.collection_id, occurrence.tlp)
        )
        campaign_ids.update((hit.campaign_id, None) for found in hits.values() for hit in found)
        records = self._visible_campaigns(campaign_ids, caller)
        false_positives = {
            key: entry
            for key, entry in (self.index.find_false_positives(keys) if keys else {}).items()
            if may_see_false_positive(caller, entry)
        }

        answers = {
            key: self._answer_key(plan, occurrences, hits, contents.get(key, []), records, caller)
            for key, plan in plans.items()
        }
        tooling = self._tooling(keys, occurrences, records, caller)
        scores = self._scores(keys, occurrences, caller)
        staff = caller.role in ("admin", "analyst")
        results: dict[str, dict[str, Any]] = {}
        for value, value_keys in keys_of.items():
            if not value_keys:
                results[value] = {
                    "value": value,
                    "recognised": False,
                    "found": False,
                    "problem": f"not a value steppe can look up; give {RECOGNISED}",
                }
                continue
            results[value] = self._answer_value(
                value, value_keys, answers, records, false_positives, staff
            )
            kinds = {split(key)[0] for key in value_keys}
            if kinds & {FILE, *TOOLING_TYPES}:
                found_tools = list(
                    {
                        entry["id"]: entry for key in value_keys for entry in tooling.get(key, ())
                    }.values()
                )
                results[value]["sample_of" if FILE in kinds else "tools"] = found_tools[:LIST_CAP]
            found = [scores[key] for key in value_keys if key in scores]
            results[value]["score"] = max(found) if found else None
        return [results[value] for value in values]

    def _scores(
        self, keys: Sequence[str], occurrences: dict[str, list[IndexedValue]], caller: Caller
    ) -> dict[str, int]:
        """Per key, the highest score now of the active indicators carrying exactly it that
        the caller may see (keys with none are absent)."""
        wanted: dict[str, dict[str, str]] = defaultdict(dict)  # collection -> indicator -> key
        for key in keys:
            for occurrence in occurrences.get(key, ()):
                if occurrence.object_id.startswith("indicator--") and may_see(
                    caller, occurrence.collection_id, occurrence.tlp
                ):
                    wanted[occurrence.collection_id][occurrence.object_id] = key
        now = now_micros()
        scores: dict[str, int] = {}
        for collection_id, indicators in wanted.items():
            for entry in self.feed_index.get_feed_entries(collection_id, sorted(indicators)):
                key = indicators[entry.indicator_id]
                if entry.key != key or entry.retired_at is not None or entry.expires_at <= now:
                    continue
                score = score_at(entry.base, entry.last_seen, now, entry_curve(entry))
                scores[key] = max(score, scores.get(key, 0))
        return scores

    def _tooling(
        self,
        keys: Sequence[str],
        occurrences: dict[str, list[IndexedValue]],
        records: dict[str, CampaignRecord],
        caller: Caller,
    ) -> dict[str, list[dict[str, Any]]]:
        """Per hash or family key, the malware and tools it is a sample of or a family of.

        From the occurrences of the key the caller may see whose object is a
        malware or tool; each named from its stored object when the caller is
        cleared for it (name None otherwise, or past TOOL_NAMES per request),
        with the campaigns it is seen in that the caller may see.
        """
        found: dict[str, dict[str, dict[str, Any]]] = {}
        wanted: dict[str, dict[str, int]] = defaultdict(dict)  # collection -> tool id -> rank
        for key in keys:
            if split(key)[0] not in (FILE, *TOOLING_TYPES):
                continue
            for occurrence in occurrences.get(key, ()):
                tool_id = occurrence.object_id
                if not is_tooling(tool_id) or not may_see(
                    caller, occurrence.collection_id, occurrence.tlp
                ):
                    continue
                entry = found.setdefault(key, {}).setdefault(
                    tool_id,
                    {"id": tool_id, "type": tool_id.split("--")[0], "name": None, "campaigns": []},
                )
                if (
                    occurrence.campaign_id in records
                    and occurrence.campaign_id not in (entry["campaigns"])
                ):
                    entry["campaigns"].append(occurrence.campaign_id)
                known = wanted[occurrence.collection_id].get(tool_id)
                if known is None or occurrence.tlp < known:
                    wanted[occurrence.collection_id][tool_id] = occurrence.tlp
        names = self._tool_names(wanted, caller)
        return {
            key: [{**entry, "name": names.get(tool_id)} for tool_id, entry in tools.items()]
            for key, tools in found.items()
        }

    def _tool_names(self, wanted: dict[str, dict[str, int]], caller: Caller) -> dict[str, str]:
        """The names of malware and tools, from their latest stored version the caller may see."""
        names: dict[str, str] = {}
        if self.objects is None:
            return names
        budget = TOOL_NAMES
        for collection_id, tools in sorted(wanted.items()):
            ids = sorted(tools)[:budget]
            budget -= len(ids)
            for tool_id, record in latest_versions(self.objects, collection_id, ids).items():
                obj = orjson.loads(record.body)  # type: ignore[arg-type]
                level = tlp.rank_of_object(obj, tools[tool_id])
                name = obj.get("name")
                if isinstance(name, str) and may_see(caller, collection_id, level):
                    names.setdefault(tool_id, name)
            if budget <= 0:
                break
        return names

    def _visible_campaigns(
        self, campaign_ids: Iterable[str], caller: Caller
    ) -> dict[str, CampaignRecord]:
        """Each campaign the caller may see, as it may see it (its visible records merged)."""
        wanted = list(campaign_ids)
        found = self.index.get_campaigns(wanted) if wanted else {}
        shown = {cid: visible_campaign(caller, records) for cid, records in found.items()}
        return {cid: record for cid, record in shown.items() if record is not None}

    def _find_values(
        self, keys: Iterable[str], per_key: int = OCCURRENCES_PER_KEY
    ) -> dict[str, list[IndexedValue]]:
        wanted = list(keys)
        found: dict[str, list[IndexedValue]] = {}
        for start in range(0, len(wanted), KEY_BATCH):
            found.update(self.index.find_values(wanted[start : start + KEY_BATCH], per_key))
        return found

    def _find_groups(self, groups: list[str]) -> dict[str, list[GroupHit]]:
        found: dict[str, list[GroupHit]] = {}
        for start in range(0, len(groups), KEY_BATCH):
            found.update(self.index.find_groups(groups[start : start + KEY_BATCH], GROUP_SAMPLE))
        return found

    def _answer_key(
        self,
        plan: _Plan,
        occurrences: dict[str, list[IndexedValue]],
        hits: dict[str, list[GroupHit]],
        content: list[str],
        records: dict[str, CampaignRecord],
        caller: Caller,
    ) -> _KeyAnswer:
        matched: list[tuple[str, str]] = [(plan.key, "exact")]
        matched += [(probe, "within") for probe in plan.probes[1:]]
        matched += [(member, "contains") for member in content]
        total = _Tally()
        campaigns: dict[str, str] = {}
        matches = []
        for key, kind in matched:
            tally = _Tally()
            found = occurrences.get(key, [])
            for occurrence in found:
                if may_see(caller, occurrence.collection_id, occurrence.tlp):
                    tally.add(occurrence, occurrence.campaign_id in records)
            if not tally.count:
                continue
            tally.truncated = len(found) >= OCCURRENCES_PER_KEY
            for campaign_id in tally.campaigns:
                campaigns.setdefault(campaign_id, kind)
            total.merge(tally)
            matches.append(
                {
                    "match": kind,
                    "value": display(key),
                    "key": key,
                    "description": _describe_match(kind, key),
                    "campaigns": _capped(tally.campaigns),
                    **tally.fields(),
                }
            )
        weak = []
        is_as = split(plan.key)[0] == AS
        for hit in hits.get(plan.group or "", ()):
            if is_as or hit.campaign_id not in records or hit.campaign_id in campaigns:
                continue
            outside = sorted(
                member for member in hit.keys if member != plan.key and not plan.inside(member)
            )
            others = len(outside)
            if not others:
                continue
            record = records[hit.campaign_id]
            weak.append(
                {
                    "evidence": "weak",
                    "basis": "network",
                    "group": hit.group.partition(":")[2],
                    "campaign": campaign_ref(record),
                    "count": others,
                    "sample": [display(member) for member in outside[:WEAK_SAMPLE]],
                    "description": (
                        f"campaign '{record.name}' used {others} other "
                        f"address{'es' if others != 1 else ''} in {group_display(hit.group)}; "
                        "weak evidence, not a match"
                    ),
                }
            )
        if len(matches) > LIST_CAP:  # a network holding hundreds of indexed values
            del matches[LIST_CAP:]
            total.truncated = True
        return _KeyAnswer(matches, total, campaigns, weak)

    def _answer_value(
        self,
        value: str,
        keys: list[str],
        answers: dict[str, _KeyAnswer],
        records: dict[str, CampaignRecord],
        false_positives: dict[str, Any],
        staff: bool,
    ) -> dict[str, Any]:
        if len(keys) == 1:  # the usual case: nothing to merge
            answer = answers[keys[0]]
            total, campaigns = answer.tally, answer.campaigns
            matches, weak = answer.matches, answer.weak
        else:
            total, campaigns, matches, weak = _Tally(), {}, [], []
            for key in keys:
                answer = answers[key]
                total.merge(answer.tally)
                for campaign_id, kind in answer.campaigns.items():
                    if MATCH_RANK[kind] < MATCH_RANK.get(campaigns.get(campaign_id, ""), 9):
                        campaigns[campaign_id] = kind
                matches += answer.matches
                weak += answer.weak
            weak = [entry for entry in weak if entry["campaign"]["id"] not in campaigns]
        listed = sorted(
            (records[campaign_id] for campaign_id in campaigns),
            key=lambda record: (record.first_seen, record.id),
        )
        flagged = next((false_positives[key] for key in keys if key in false_positives), None)
        false_positive = None
        if flagged is not None:
            false_positive = {"reason": flagged.reason, "since": _stamp(flagged.created)}
            if staff:
                false_positive["declared_by"] = flagged.analyst
        fields = total.fields()
        return {
            "value": value,
            "recognised": True,
            "type": split(keys[0])[0],
            "keys": keys,
            "found": bool(matches or campaigns),
            "false_positive": false_positive,
            "count": fields.pop("count"),
            "first_seen": fields.pop("first_seen"),
            "last_seen": fields.pop("last_seen"),
            "campaigns": [
                {**campaign_ref(record), "match": campaigns[record.id]}
                for record in listed[:LIST_CAP]
            ],
            **fields,
            "truncated": fields["truncated"] or len(listed) > LIST_CAP,
            "matches": matches,
            "weak_evidence": weak,
        }

    # -- campaigns -----------------------------------------------------------------

    def list_campaigns(
        self, caller: Caller, limit: int = 50, after: str | None = None
    ) -> dict[str, Any]:
        """A page of the campaigns the caller may see, in id order; `next` continues it."""
        visible: list[dict[str, Any]] = []
        cursor = after
        while len(visible) <= limit:
            batch = self.index.list_campaigns(limit=CAMPAIGN_PAGE, after=cursor)
            by_id: dict[str, list[CampaignRecord]] = {}
            for record in batch:
                by_id.setdefault(record.id, []).append(record)
            for records in by_id.values():
                shown = visible_campaign(caller, records)
                if shown is not None:
                    visible.append(describe_campaign(shown, visible_collections(caller, records)))
            if len(batch) < CAMPAIGN_PAGE:
                break
            cursor = batch[-1].id
        page = visible[:limit]
        more = len(visible) > limit
        return {"campaigns": page, "next": page[-1]["id"] if more and page else None}

    def visible_campaign(
        self, campaign_id: str, caller: Caller
    ) -> tuple[CampaignRecord, list[str]]:
        """The campaign as the caller may see it, and the collections it sees it in."""
        records = self.index.get_campaign(campaign_id)
        record = visible_campaign(caller, records)
        if record is None:
            raise NotFound(f"there is no campaign '{campaign_id}' that you may see", where="path")
        return record, visible_collections(caller, records)

    def campaign(self, campaign_id: str, caller: Caller) -> dict[str, Any]:
        """The campaign view: its record, indicators, targets, timeline and related campaigns."""
        record, collections = self.visible_campaign(campaign_id, caller)
        view = _CampaignView()
        after: str | None = None
        while True:
            batch = self.index.campaign_values(campaign_id, limit=CAMPAIGN_PAGE, after=after)
            for occurrence in batch:
                if may_see(caller, occurrence.collection_id, occurrence.tlp):
                    view.add(occurrence)
            view.read += len(batch)
            if len(batch) < CAMPAIGN_PAGE:
                break
            if view.read >= CAMPAIGN_SCAN:
                view.complete = False
                break
            after = batch[-1].key
        return {
            **describe_campaign(record, collections),
            "values": len(view.keys),
            "complete": view.complete,
            "indicators": view.objects("indicator"),
            "observables": view.objects("observable"),
            "tooling": view.objects("tooling"),
            "timeline": view.timeline(),
            "related": self._related(campaign_id, caller),
        }

    def _related(self, campaign_id: str, caller: Caller) -> list[dict[str, Any]]:
        """Related campaigns from the evidence the caller may see, and only from it
        (steppe.correlate.related.visible_relations: the rule the campaign graph uses)."""
        relations = visible_relations(caller, self.index.campaign_links(campaign_id))
        others = self._visible_campaigns({r.other_id for r in relations}, caller)
        shown = []
        for relation in relations:
            other = others.get(relation.other_id)
            if other is None:
                continue
            shown.append(
                {
                    "campaign": campaign_ref(other),
                    "strength": relation.strength,
                    "evidence": EVIDENCE[relation.strength],
                    "confidence": relation.confidence,
                    "count": relation.count,
                    "shared": [shared_display(item) for item in relation.sample[:RELATED_SAMPLE]],
                    "relationship_id": relation.relationship_id,
                    "modified": _stamp(relation.modified),
                }
            )
        shown.sort(key=lambda e: (ORDER[e["strength"]], -e["confidence"], e["campaign"]["id"]))
        return shown


def _merge_hits(hits: list[GroupHit]) -> list[GroupHit]:
    """One hit per campaign: the members of its visible records in the group, joined."""
    merged: dict[str, GroupHit] = {}
    for hit in hits:
        known = merged.get(hit.campaign_id)
        if known is None:
            merged[hit.campaign_id] = hit
        else:
            merged[hit.campaign_id] = GroupHit(
                hit.group,
                hit.campaign_id,
                known.collection_id,
                max(known.tlp, hit.tlp),
                known.keys | hit.keys,
                max(known.count, hit.count, len(known.keys | hit.keys)),
            )
    return [merged[c] for c in sorted(merged)]


def shared_display(item: str) -> str:
    """What two campaigns share, as people write it: a value, a network, "AS64496",
    "malware blackenergy" (a family key), "SHA-256 <hex>" (a sample).

    Exact, sample and family links share value keys; weak links share groups
    ("net:...", "asn:...").
    """
    kind, _, value = item.partition(":")
    if kind == "net":
        return value
    if kind == "asn":
        return f"AS{value}"
    return display(item)


def _describe_match(kind: str, key: str) -> str:
    if kind == "within":
        return f"within {display(key)}"
    if kind == "contains":
        return f"contains {display(key)}"
    return "exact"


@dataclass(slots=True)
class _Seen:
    first: int
    last: int
    keys: dict[str, None] = field(default_factory=dict)
    producers: dict[str, None] = field(default_factory=dict)

    def add(self, occurrence: IndexedValue) -> None:
        self.first = min(self.first, occurrence.first_seen)
        self.last = max(self.last, occurrence.last_seen)
        self.keys[occurrence.key] = None
        self.producers[occurrence.producer] = None


def _object_kind(object_id: str) -> str:
    if object_id.startswith("indicator--"):
        return "indicator"
    return "tooling" if is_tooling(object_id) else "observable"


@dataclass(slots=True)
class _CampaignView:
    """What a campaign's visible occurrences add up to, per object and per source."""

    by_object: dict[str, _Seen] = field(default_factory=dict)
    by_source: dict[str, _Seen] = field(default_factory=dict)
    keys: dict[str, None] = field(default_factory=dict)
    read: int = 0
    complete: bool = True

    def add(self, occurrence: IndexedValue) -> None:
        self.keys[occurrence.key] = None
        for table, name in (
            (self.by_object, occurrence.object_id),
            (self.by_source, occurrence.source),
        ):
            seen = table.get(name)
            if seen is None:
                seen = table[name] = _Seen(occurrence.first_seen, occurrence.last_seen)
            seen.add(occurrence)

    def objects(self, kind: str) -> dict[str, Any]:
        """The campaign's objects of one kind: "indicator", "tooling" (the malware and tools
        it used, with their family keys and sample hashes) or "observable" (the rest)."""
        chosen = sorted(
            (
                (seen.first, object_id, seen)
                for object_id, seen in self.by_object.items()
                if _object_kind(object_id) == kind
            ),
            key=lambda item: (item[0], item[1]),
        )
        return {
            "total": len(chosen),
            "items": [
                {
                    "id": object_id,
                    "values": [display(key) for key in seen.keys],
                    "first_seen": _stamp(seen.first),
                    "last_seen": _stamp(seen.last),
                }
                for _, object_id, seen in chosen[:CAMPAIGN_ITEMS]
            ],
        }

    def timeline(self) -> list[dict[str, Any]]:
        ordered = sorted(self.by_source.items(), key=lambda item: (item[1].first, item[0]))
        return [
            {
                "source": source,
                "first_seen": _stamp(seen.first),
                "last_seen": _stamp(seen.last),
                "values": len(seen.keys),
                "producers": list(seen.producers),
            }
            for source, seen in ordered
        ]


# What a bulk lookup answers per value: the summary a SIEM enriches an event
# with (10,000 of them fit one response), or everything GET /observables says.
DETAILS = ("summary", "full")
SUMMARY_LIST = 10


def summary(result: dict[str, Any]) -> dict[str, Any]:
    """The compact form of one lookup answer: seen or not, when, in which campaigns."""
    if not result.get("recognised"):
        return result
    brief: dict[str, Any] = {
        "value": result["value"],
        "recognised": True,
        "type": result["type"],
        "found": result["found"],
    }
    if result.get("false_positive"):
        brief["false_positive"] = result["false_positive"]
    if not result["found"] and not result.get("weak_evidence"):
        return brief
    campaigns = result.get("campaigns", [])
    brief.update(
        count=result["count"],
        first_seen=result["first_seen"],
        last_seen=result["last_seen"],
        campaigns=[
            {"id": c["id"], "name": c["name"], "match": c["match"]}
            for c in campaigns[:SUMMARY_LIST]
        ],
        indicators=result.get("indicators", [])[:SUMMARY_LIST],
        weak_evidence=len(result.get("weak_evidence", [])),
    )
    if len(campaigns) > SUMMARY_LIST or len(result.get("indicators", [])) > SUMMARY_LIST:
        brief["truncated"] = True
    return brief
