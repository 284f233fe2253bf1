"""Correlation: what a new batch of STIX shares with everything steppe saw before.

One batch at a time (a chunk of an analyst submission, or an envelope a
partner posted over TAXII), in the worker:

1. read its values and their campaigns (steppe.correlate.extract);
2. index the batch (values, network/AS groups, the campaign) *before* looking
   anything up, so that of two batches sharing a value and correlated at the
   same moment, the later to index always finds the other;
3. look its values up: an exact value, or an address inside an indexed
   network, that another campaign was reported with is an exact match; a
   campaign with addresses in the same /24 (/48) or the same autonomous
   system is weak evidence, kept apart;
4. for each campaign pair, add the shared keys to the pair's evidence (a set:
   retrying adds nothing) and (re)write one `related-to` relationship per
   strength, whose description lists what they share and whose confidence
   grows with how much; for each matched indicator, a `sighting` of it by
   the batch's producer;
5. store those objects in the collection of what they link (only when it is
   one collection: a TAXII reader of one collection must not learn of a
   campaign kept in another), marked at the stricter TLP of what they link,
   so no partner learns through them of an object it may not see.

Evidence is kept apart by where it may be shown (steppe.correlate.evidence):
the collections of the two occurrences behind it and their strictest TLP.
A relationship names only evidence that every reader of its collection and
marking may see (steppe.access.visibility); campaign records are kept per
collection and TLP, so what one collection says of a campaign never reaches
the readers of another.

Running a batch again changes nothing: every id is derived from what the
object is about, evidence is a set, and unchanged objects are not rewritten
(steppe.stix.versioning.reconcile).

Values an analyst declared false positives are indexed (lookups show them,
flagged) but never correlated.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from steppe.access.visibility import LeastReader, may_see_all
from steppe.correlate.evidence import (
    HIGHEST,
    collections_of,
    confidence,
    cumulative,
    every_level,
)
from steppe.correlate.extract import Batch, Occurrence, read_batch
from steppe.observables import correlation_keys as values
from steppe.stix import tlp as tlp_levels
from steppe.stix.identities import org_identity, org_identity_id
from steppe.stix.ids import derived_id
from steppe.stix.timestamps import format_stix, now_micros
from steppe.stix.versioning import reconcile, version_of
from steppe.store.blob_keys import bundle_key
from steppe.store.latest import latest_versions
from steppe.store.port import (
    BlobStore,
    CampaignLink,
    CampaignRecord,
    CatalogStore,
    Collection,
    EvidenceScope,
    GroupMember,
    IdentityClaims,
    IndexedValue,
    ObjectStore,
    ObservableIndex,
    StatusStore,
    Strength,
    SubmissionStore,
)
from steppe.store.port.feed_index import FeedIndex
from steppe.store.write_path import STEPPE, Candidate, Latest, WritePath, candidate
from steppe.templates.registry import TemplateRegistry

# How many shared values a relationship's description names (the API has them all).
SAMPLE = 20
# Occurrences of one key read per lookup: enough to find every other campaign in practice.
PER_KEY = 500

__all__ = ["Correlator", "Outcome", "confidence", "describe"]


@dataclass(slots=True)
class Outcome:
    occurrences: int = 0
    matches: int = 0
    links: int = 0
    sightings: int = 0
    written: int = 0


class Correlator:
    """Built by steppe.runtime.correlator from the ports it uses."""

    def __init__(
        self,
        *,
        index: ObservableIndex,
        objects: ObjectStore,
        claims: IdentityClaims,
        feed_index: FeedIndex,
        catalog: CatalogStore,
        submissions: SubmissionStore,
        statuses: StatusStore,
        blobs: BlobStore,
        org_name: str,
        kinds: tuple[str, ...] | None = None,
    ) -> None:
        self.index = index
        # The attack kinds a campaign's kind may be (those steppe has templates for).
        self.kinds = kinds if kinds is not None else TemplateRegistry.load().kinds()
        self.objects = objects
        self.catalog = catalog
        self.submissions = submissions
        self.statuses = statuses
        self.blobs = blobs
        self.org_name = org_name
        self.org_id = org_identity_id(org_name)
        self.writes = WritePath(objects, claims, self.org_id, feed_index)

    # -- entry points ------------------------------------------------------------

    def correlate_chunk(self, submission_id: str, chunk: int) -> Outcome:
        """A chunk of an analyst submission, read from the bundle it produced."""
        submission = self.submissions.get_submission(submission_id)
        if submission is None:
            return Outcome()
        data = self.blobs.get(bundle_key(submission_id, chunk))
        if data is None:
            raise LookupError(f"the bundle of chunk {chunk} of {submission_id} is missing")
        collection = self.catalog.get_collection(submission.collection_id)
        if collection is None:
            return Outcome()
        objects = orjson.loads(data)["objects"]
        return self.correlate(
            objects,
            collection,
            source=f"submission:{submission_id}",
            batch_key=f"submission:{submission_id}#{chunk}",
        )

    def correlate_status(self, status_id: str) -> Outcome:
        """An envelope a partner posted over TAXII: the objects it stored, as stored."""
        record = self.statuses.get_status(status_id)
        if record is None:
            return Outcome()
        collection = self.catalog.get_collection(record.collection_id)
        if collection is None:
            return Outcome()
        ids = sorted(
            {
                success[0]
                for part in self.statuses.status_parts(status_id)
                for success in part.successes
            }
        )
        objects = list(self._fetch(collection.id, ids).values())
        return self.correlate(
            objects, collection, source=f"taxii:{status_id}", batch_key=f"taxii:{status_id}"
        )

    # -- the work ----------------------------------------------------------------

    def correlate(
        self,
        objects: Sequence[Mapping[str, Any]],
        collection: Collection,
        *,
        source: str,
        batch_key: str,
        now: int | None = None,
    ) -> Outcome:
        now = now or now_micros()
        default_tlp = collection.unmarked_tlp
        kinds = self.kinds
        batch = read_batch(objects, default_tlp, kinds=kinds)
        missing = {ref for ref in batch.missing_refs if ref.split("--")[0] != "relationship"}
        if missing:
            known = self._fetch(collection.id, sorted(missing))
            batch = read_batch(objects, default_tlp, known, kinds=kinds)
        outcome = Outcome(occurrences=len(batch.occurrences))
        if not batch.occurrences and not batch.campaigns:
            return outcome

        keys = sorted({o.key for o in batch.occurrences})
        false_positives = self.index.find_false_positives(keys) if keys else {}
        correlated = [
            o
            for o in batch.occurrences
            if (o.indicator or values.is_tooling(o.object_id))
            and o.campaign_id is not None
            and o.key not in false_positives
        ]
        members = self._members(batch, correlated, collection.id)
        # Index first, look up after: of two batches sharing a value and correlated
        # at the same moment, the second to index always finds the first.
        self._index(batch, collection.id, source, now)
        self.index.index_groups(members)

        prefixes = self.index.cidr_prefixes()
        probes: dict[str, list[str]] = {}
        for occurrence in correlated:
            if occurrence.key not in probes:
                probes[occurrence.key] = values.probe_keys(occurrence.key, prefixes)
        all_probes = sorted({p for ps in probes.values() for p in ps})
        prior = self.index.find_values(all_probes, PER_KEY) if all_probes else {}
        groups = sorted({m.group for m in members})
        group_hits = self.index.find_groups(groups) if groups else {}

        others: dict[str, list[CampaignRecord]] = {}

        def other(campaign_id: str) -> list[CampaignRecord]:
            if campaign_id not in others:
                others[campaign_id] = self.index.get_campaign(campaign_id)
            return others[campaign_id]

        # Per campaign pair and strength, the shared keys by the scope they may be
        # shown in: the collections of both occurrences and their strictest TLP.
        evidence: dict[tuple[str, str, Strength], dict[EvidenceScope, set[str]]] = defaultdict(
            lambda: defaultdict(set)
        )
        sightings: dict[str, list[tuple[Occurrence, IndexedValue]]] = defaultdict(list)
        for occurrence in correlated:
            mine = occurrence.campaign_id
            assert mine is not None
            for probe in probes[occurrence.key]:
                for seen in prior.get(probe, ()):
                    theirs = seen.campaign_id
                    # Indicators or tooling on both sides: the attacker's, not victims.
                    if theirs is None or theirs == mine or not other(theirs):
                        continue
                    kind = _match_strength(occurrence, seen)
                    if kind is None:
                        continue
                    scope = EvidenceScope(
                        collections_of(collection.id, seen.collection_id),
                        max(occurrence.tlp, seen.tlp),
                    )
                    evidence[(mine, theirs, kind)][scope].add(occurrence.key)
                    outcome.matches += 1
                    # Sightings, like links, never cross collections (see _link).
                    if (
                        kind == "exact"
                        and seen.source != source
                        and seen.collection_id == collection.id
                    ):
                        sightings[seen.object_id].append((occurrence, seen))
        for member in members:
            for hit in group_hits.get(member.group, ()):
                if hit.campaign_id != member.campaign_id and other(hit.campaign_id):
                    strength: Strength = "network" if member.group.startswith("net:") else "asn"
                    scope = EvidenceScope(
                        collections_of(member.collection_id, hit.collection_id),
                        max(member.tlp, hit.tlp),
                    )
                    evidence[(member.campaign_id, hit.campaign_id, strength)][scope].add(
                        member.group
                    )

        desired: dict[str, dict[str, Any]] = {}  # id -> object, for this batch's collection
        for (mine, theirs, strength), shared in sorted(evidence.items()):
            self._link(batch, collection.id, mine, other(theirs), strength, shared, now, desired)
            outcome.links += 1
        for indicator_id, found in sorted(sightings.items()):
            self._sighting(batch, indicator_id, found, batch_key, now, desired)
            outcome.sightings += 1
        if desired:
            outcome.written = self._write(collection.id, list(desired.values()))
        return outcome

    # -- indexing ----------------------------------------------------------------

    def _index(self, batch: Batch, collection_id: str, source: str, now: int) -> None:
        entries = []
        seen: dict[tuple[str, str], str | None] = {}  # (key, object) -> its first campaign
        for o in batch.occurrences:
            where = source
            if (o.key, o.object_id) in seen:
                if seen[(o.key, o.object_id)] == o.campaign_id or o.campaign_id is None:
                    continue
                # One malware object used by several campaigns of the batch: an occurrence
                # is one per (key, collection, object, source), so the others get their own.
                where = f"{source}|{o.campaign_id}"
            else:
                seen[(o.key, o.object_id)] = o.campaign_id
            first = o.first_seen or now
            last = max(o.last_seen or first, first)
            entries.append(
                IndexedValue(
                    key=o.key,
                    collection_id=collection_id,
                    object_id=o.object_id,
                    campaign_id=o.campaign_id,
                    source=where,
                    producer=o.producer or self.org_id,
                    tlp=o.tlp,
                    first_seen=first,
                    last_seen=last,
                )
            )
        self.index.index_values(entries)
        networks: dict[str, set[int]] = defaultdict(set)
        for o in batch.occurrences:
            prefix = values.cidr_prefix(o.key)
            if prefix is not None:
                networks[prefix[0]].add(prefix[1])
        for family, lengths in networks.items():
            self.index.add_cidr_prefixes(family, lengths)
        for record in self._campaign_records(batch, collection_id, now):
            self.index.put_campaign(record)

    def _campaign_records(self, batch: Batch, collection_id: str, now: int) -> list[CampaignRecord]:
        """The batch's campaigns, one record per TLP level of what is said of them.

        A campaign's record at its own level holds what rests on nothing
        stricter; a target named only at a stricter level goes into a record at
        that level (with the campaign's name and dates, which are no secret
        there), and each record's counts and dates come from the occurrences at
        or below its level.
        """
        by_campaign: dict[str, list[Occurrence]] = defaultdict(list)
        for o in batch.occurrences:
            if o.campaign_id is not None:
                by_campaign[o.campaign_id].append(o)
        records = []
        for campaign_id, info in batch.campaigns.items():
            targets = batch.targets.get(campaign_id, {})
            kind, kind_level = batch.kinds.get(campaign_id, ("", 0))
            levels = sorted(
                {info.tlp, max(info.tlp, kind_level)}
                | {max(info.tlp, level) for level in targets.values()}
            )
            for level in levels:
                keys: set[str] = set()
                span: list[int] = []
                for o in by_campaign.get(campaign_id, ()):
                    if o.tlp > level:
                        continue
                    keys.add(o.key)
                    first = o.first_seen or now
                    last = max(o.last_seen or first, first)
                    span = [min(span[0], first), max(span[1], last)] if span else [first, last]
                first, last = span or [now, now]
                records.append(
                    CampaignRecord(
                        id=campaign_id,
                        name=info.name,
                        collection_id=collection_id,
                        tlp=level,
                        producer=info.producer or self.org_id,
                        first_seen=info.first_seen or first,
                        last_seen=max(info.last_seen or last, info.first_seen or first),
                        modified=now,
                        values=len(keys),
                        targets=tuple(
                            name for name, named in targets.items() if max(info.tlp, named) <= level
                        ),
                        kind=kind if max(info.tlp, kind_level) <= level else "",
                    )
                )
        return records

    def _members(
        self, batch: Batch, correlated: Iterable[Occurrence], collection_id: str
    ) -> list[GroupMember]:
        members: dict[tuple[str, str, str], GroupMember] = {}
        for o in correlated:
            assert o.campaign_id is not None
            if not o.indicator:
                continue  # tooling: a family or a sample has no network
            info = batch.campaigns[o.campaign_id]
            groups = [values.network_group(o.key)]
            if o.asn is not None:
                groups.append(values.asn_group(o.asn))
            level = max(info.tlp, o.tlp)
            for group in groups:
                if group is None:
                    continue
                known = members.get((group, o.campaign_id, o.key))
                if known is None or level < known.tlp:  # the least strict occurrence
                    members[(group, o.campaign_id, o.key)] = GroupMember(
                        group, o.campaign_id, collection_id, level, o.key
                    )
        return list(members.values())

    # -- the objects correlation writes -------------------------------------------

    def _link(
        self,
        batch: Batch,
        collection_id: str,
        mine: str,
        theirs_records: list[CampaignRecord],
        strength: Strength,
        shared: Mapping[EvidenceScope, set[str]],
        now: int,
        desired: dict[str, dict[str, Any]],
    ) -> None:
        """Add the evidence, then rewrite what rests on it: relationships and link records.

        Evidence found at TLP t in collections C goes into the sets of C at t
        and every stricter level. One `related-to` relationship is written into
        this batch's collection per level at which evidence was first seen
        there, marked at least at both campaigns' levels in it, naming the set
        of its marking: what every reader of the collection at that marking
        may see (steppe.access.visibility.LeastReader).
        """
        theirs = theirs_records[0].id
        pair = (min(mine, theirs), max(mine, theirs))
        for scope, keys in sorted(shared.items()):
            self.index.add_link_evidence(
                pair, strength, cumulative(scope.collection_ids, scope.tlp), keys
            )
        touched = sorted({scope.collection_ids for scope in shared})
        found = self.index.link_evidence(pair, strength, every_level(touched), SAMPLE)
        info = batch.campaigns[mine]
        # The relationships: only for evidence wholly inside this batch's collection,
        # between campaigns both held there.
        relationships: dict[int, str] = {}  # marking rank -> relationship id
        inside = (collection_id,)
        held = [r for r in theirs_records if r.collection_id == collection_id]
        if inside in touched and held:
            theirs_record = min(held, key=lambda r: r.tlp)
            names = {mine: info.name, theirs: theirs_record.name}
            below = 0
            for level in range(HIGHEST + 1):
                count, _ = found.get(EvidenceScope(inside, level), (0, []))
                if count <= below:
                    continue  # nothing first seen at this level
                below = count
                rank = max(level, info.tlp, theirs_record.tlp)
                if rank in relationships:
                    continue
                # The evidence every reader of the collection at this marking may see.
                reader = LeastReader(collection_id, rank)
                scope = max(
                    (s for s in found if may_see_all(reader, s.collection_ids, s.tlp)),
                    key=lambda s: s.tlp,
                )
                total, sample = found[scope]
                relationships[rank] = self._relationship(
                    pair,
                    strength,
                    names,
                    total,
                    sample,
                    collection_id,
                    rank,
                    now,
                    desired,
                    {key: name for key, (name, at) in batch.tool_names.items() if at <= rank},
                )
        links = []
        for (ids, level), (count, sample) in sorted(found.items()):
            readable = [rank for rank in relationships if rank <= level and ids == inside]
            rel_id = relationships[max(readable)] if readable else ""
            for a, b in ((mine, theirs), (theirs, mine)):
                links.append(
                    CampaignLink(
                        campaign_id=a,
                        other_id=b,
                        strength=strength,
                        count=count,
                        sample=tuple(sample),
                        confidence=confidence(strength, count),
                        relationship_id=rel_id,
                        collection_ids=ids,
                        tlp=level,
                        modified=now,
                    )
                )
        self.index.put_campaign_links(links)

    def _relationship(
        self,
        pair: tuple[str, str],
        strength: Strength,
        names: Mapping[str, str],
        count: int,
        sample: Sequence[str],
        collection_id: str,
        rank: int,
        now: int,
        desired: dict[str, dict[str, Any]],
        tool_names: Mapping[str, str],
    ) -> str:
        rel_id = derived_id(
            "relationship",
            "correlation",
            self.org_id,
            pair[0],
            pair[1],
            strength,
            collection_id,
            tlp_levels.BY_RANK[rank].name,
        )
        stamp = format_stix(now)
        relationship = {
            "type": "relationship",
            "spec_version": "2.1",
            "id": rel_id,
            "created_by_ref": self.org_id,
            "created": stamp,
            "modified": stamp,
            "relationship_type": "related-to",
            "source_ref": pair[0],
            "target_ref": pair[1],
            "description": describe(
                names[pair[0]], names[pair[1]], strength, count, sample, tool_names
            ),
            "confidence": confidence(strength, count),
            "object_marking_refs": [tlp_levels.BY_RANK[rank].marking_id],
        }
        self._add(desired, relationship, rank, now)
        return rel_id

    def _sighting(
        self,
        batch: Batch,
        indicator_id: str,
        found: list[tuple[Occurrence, IndexedValue]],
        batch_key: str,
        now: int,
        desired: dict[str, dict[str, Any]],
    ) -> None:
        ours = {o.key: o for o, _ in found}
        rank = max([o.tlp for o in ours.values()] + [seen.tlp for _, seen in found])
        campaign_ids = sorted({o.campaign_id for o in ours.values() if o.campaign_id})
        rank = max([rank] + [batch.campaigns[c].tlp for c in campaign_ids])
        firsts = [o.first_seen or now for o in ours.values()]
        lasts = [max(o.last_seen or now, o.first_seen or now) for o in ours.values()]
        producers = sorted({o.producer or self.org_id for o in ours.values()})
        shown = ", ".join(values.display(k) for k in sorted(ours)[:SAMPLE])
        more = len(ours) - SAMPLE
        campaigns = ", ".join(f"'{batch.campaigns[c].name}'" for c in campaign_ids)
        stamp = format_stix(now)
        sighting = {
            "type": "sighting",
            "spec_version": "2.1",
            "id": derived_id("sighting", "correlation", self.org_id, indicator_id, batch_key),
            "created_by_ref": self.org_id,
            "created": stamp,
            "modified": stamp,
            "sighting_of_ref": indicator_id,
            "count": len(ours),
            "first_seen": format_stix(min(firsts)),
            "last_seen": format_stix(max(max(lasts), min(firsts))),
            "where_sighted_refs": [p for p in producers if p.startswith("identity--")]
            or [self.org_id],
            "description": (
                f"Seen again in campaign {campaigns}: {shown}"
                + (f" and {more} more" if more > 0 else "")
                + "."
            ),
            "object_marking_refs": [tlp_levels.BY_RANK[rank].marking_id],
        }
        self._add(desired, sighting, rank, now)

    def _add(self, into: dict[str, dict[str, Any]], obj: dict, rank: int, now: int) -> None:
        into[obj["id"]] = obj
        marking = tlp_levels.BY_RANK[rank].marking_definition()
        into.setdefault(marking["id"], marking)
        if self.org_id not in into:
            into[self.org_id] = org_identity(self.org_name, now)
        clear = tlp_levels.CLEAR.marking_definition()
        into.setdefault(clear["id"], clear)

    def _write(self, collection_id: str, objects: list[dict[str, Any]]) -> int:
        """Store what changed (new objects, new versions); how many versions were written.

        Through the one write path: a revoked object gets no later version.
        """
        existing = self._fetch(
            collection_id, [o["id"] for o in objects if version_of(o) is not None]
        )
        to_write: list[Candidate] = []
        for obj in objects:
            stored = existing.get(obj["id"])
            if stored is not None:
                if obj["type"] == "identity":
                    continue  # the org identity exists: correlation never rewrites it
                [item] = reconcile([obj], {obj["id"]: dict(stored)})
                if not item.changed:
                    continue
                obj = item.obj
            to_write.append(candidate(obj, 0, spec_version="2.1"))
        if not to_write:
            return 0
        latest = {object_id: Latest.of(obj) for object_id, obj in existing.items()}
        written = self.writes.write(collection_id, to_write, STEPPE, latest)
        return sum(1 for put in written.outcomes if put.outcome != "duplicate")

    def _fetch(self, collection_id: str, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The latest stored version of each id (those the collection has), parsed."""
        return {
            object_id: orjson.loads(record.body)  # type: ignore[arg-type]
            for object_id, record in latest_versions(self.objects, collection_id, ids).items()
        }


def _match_strength(mine: Occurrence, seen: IndexedValue) -> Strength | None:
    """What a value both campaigns were reported with is evidence of.

    Two indicators: an exact match. A family key: the same malware or tool
    family. A file hash on either side through a malware or tool: the same
    sample. Anything else (an SCO that is no sample: a victim) is no evidence.
    """
    theirs_indicator = seen.object_id.startswith("indicator--")
    if not theirs_indicator and not values.is_tooling(seen.object_id):
        return None
    if mine.indicator and theirs_indicator:
        return "exact"
    if values.is_family_key(mine.key):
        return "family"
    return "sample"


def describe(
    first_name: str,
    second_name: str,
    strength: Strength,
    count: int,
    sample: Sequence[str],
    tool_names: Mapping[str, str] | None = None,
) -> str:
    """The relationship's description: what the two campaigns share, in words.

    tool_names: the names family keys were given as (else the key is shown).
    """
    more = f" and {count - len(sample)} more" if count > len(sample) else ""
    if strength == "sample":
        shown = ", ".join(f"shared sample {values.display(key)}" for key in sample)
        noun = "sample" if count == 1 else "samples"
        return (
            f"Correlated by steppe: campaigns '{first_name}' and '{second_name}' used the same "
            f"malware or tool {noun} ({count}, by hash): {shown}{more}."
        )
    if strength == "family":
        names = tool_names or {}
        shown = ", ".join(
            f"shared {values.split(key)[0]} family {names.get(key, values.split(key)[1])}"
            for key in sample
        )
        plural = "ies" if count > 1 else "y"
        return (
            f"Medium evidence, not an exact match: campaigns '{first_name}' and "
            f"'{second_name}' used the same malware or tool famil{plural} ({count}): "
            f"{shown}{more}. A family may be used by unrelated actors; this relationship "
            "rests on no shared indicator value or sample."
        )
    if strength == "exact":
        shown = ", ".join(values.display(key) for key in sample)
        noun = "value" if count == 1 else "values"
        return (
            f"Correlated by steppe: campaigns '{first_name}' and '{second_name}' share "
            f"{count} indicator {noun} (exact matches): {shown}{more}."
        )
    shown = ", ".join(values.group_display(group) for group in sample)
    what = "network" if strength == "network" else "autonomous system"
    plural = "s" if count > 1 else ""
    return (
        f"Weak evidence, not an exact match: campaigns '{first_name}' and '{second_name}' "
        f"used addresses in the same {what}{plural} ({count}): {shown}{more}. "
        "This relationship rests on no shared indicator value."
    )
