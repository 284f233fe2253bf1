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

from steppe.access.partners import org_identity, org_identity_id
from steppe.correlate import values
from steppe.correlate.extract import Batch, Occurrence, read_batch
from steppe.ingest.service import bundle_key
from steppe.runtime import Services
from steppe.stix import tlp as tlp_levels
from steppe.stix.ids import derived_id
from steppe.stix.timestamps import format_stix, now_micros
from steppe.stix.versioning import reconcile, version_of
from steppe.store.latest import latest_versions
from steppe.store.port import (
    CampaignLink,
    CampaignRecord,
    Collection,
    GroupMember,
    IndexedValue,
    Strength,
)
from steppe.store.write_path import STEPPE, Candidate, Latest, WritePath, candidate

# How many shared values a relationship's description names (the API has them all).
SAMPLE = 20
# Occurrences of one key read per lookup: enough to find every other campaign in practice.
PER_KEY = 500

# Confidence (STIX 0-100) by strength: a floor, and how far overlap can lift it.
_CONFIDENCE = {"exact": (50, 45), "network": (15, 15), "asn": (5, 10)}


def confidence(strength: Strength, shared: int) -> int:
    """Grows with the number of shared values, never past its strength's ceiling.

    exact: 1 value 61, 3 values 72, 10 values 85, 30 values 91 (ceiling 95);
    network: 19 .. 30; asn: 8 .. 15. Weak evidence never reaches an exact match.
    """
    floor, span = _CONFIDENCE[strength]
    return floor + round(span * (1 - 1 / (1 + shared / 3)))


@dataclass(slots=True)
class Outcome:
    occurrences: int = 0
    matches: int = 0
    links: int = 0
    sightings: int = 0
    written: int = 0


class Correlator:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.store = services.store
        self.settings = services.settings
        self.org_id = org_identity_id(self.settings.org_name)
        self.writes = WritePath(self.store, self.store, self.org_id)

    # -- entry points ------------------------------------------------------------

    def correlate_chunk(self, submission_id: str, chunk: int) -> Outcome:
        """A chunk of an analyst submission, read from the bundle it produced."""
        submission = self.store.get_submission(submission_id)
        if submission is None:
            return Outcome()
        data = self.services.blobs.get(bundle_key(submission_id, chunk))
        if data is None:
            raise LookupError(f"the bundle of chunk {chunk} of {submission_id} is missing")
        collection = self.store.get_collection(submission.collection_id)
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
        record = self.store.get_status(status_id)
        if record is None:
            return Outcome()
        collection = self.store.get_collection(record.collection_id)
        if collection is None:
            return Outcome()
        ids = sorted(
            {
                success[0]
                for part in self.store.status_parts(status_id)
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
        batch = read_batch(objects, default_tlp)
        missing = {ref for ref in batch.missing_refs if ref.split("--")[0] != "relationship"}
        if missing:
            batch = read_batch(objects, default_tlp, self._fetch(collection.id, sorted(missing)))
        outcome = Outcome(occurrences=len(batch.occurrences))
        if not batch.occurrences and not batch.campaigns:
            return outcome

        keys = sorted({o.key for o in batch.occurrences})
        false_positives = self.store.find_false_positives(keys) if keys else {}
        correlated = [
            o
            for o in batch.occurrences
            if o.indicator and o.campaign_id is not None and o.key not in false_positives
        ]
        members = self._members(batch, correlated, collection.id)
        # Index first, look up after: of two batches sharing a value and correlated
        # at the same moment, the second to index always finds the first.
        self._index(batch, collection.id, source, now)
        self.store.index_groups(members)

        prefixes = self.store.cidr_prefixes()
        probes: dict[str, list[str]] = {}
        for occurrence in correlated:
            if occurrence.key not in probes:
                probes[occurrence.key] = values.probe_keys(occurrence.key, prefixes)
        all_probes = sorted({p for ps in probes.values() for p in ps})
        prior = self.store.find_values(all_probes, PER_KEY) if all_probes else {}
        groups = sorted({m.group for m in members})
        group_hits = self.store.find_groups(groups) if groups else {}

        others: dict[str, CampaignRecord | None] = {}

        def other(campaign_id: str) -> CampaignRecord | None:
            if campaign_id not in others:
                others[campaign_id] = self.store.get_campaign(campaign_id)
            return others[campaign_id]

        evidence: dict[tuple[str, str, Strength], set[str]] = defaultdict(set)
        # The strictest TLP among the occurrences behind each piece of evidence: a
        # relationship naming values is marked at least as strictly as they are.
        strictest: dict[tuple[str, str, Strength], int] = defaultdict(int)
        sightings: dict[str, list[tuple[Occurrence, IndexedValue]]] = defaultdict(list)
        for occurrence in correlated:
            mine = occurrence.campaign_id
            assert mine is not None
            for probe in probes[occurrence.key]:
                for seen in prior.get(probe, ()):
                    theirs = seen.campaign_id
                    # Only indicators on both sides: attacker infrastructure, not victims.
                    if (
                        theirs is None
                        or theirs == mine
                        or not seen.object_id.startswith("indicator--")
                    ):
                        continue
                    if other(theirs) is None:
                        continue
                    evidence[(mine, theirs, "exact")].add(occurrence.key)
                    strictest[(mine, theirs, "exact")] = max(
                        strictest[(mine, theirs, "exact")], occurrence.tlp, seen.tlp
                    )
                    outcome.matches += 1
                    # Sightings, like links, never cross collections (see _link).
                    if seen.source != source and seen.collection_id == collection.id:
                        sightings[seen.object_id].append((occurrence, seen))
        for member in members:
            for hit in group_hits.get(member.group, ()):
                if hit.campaign_id != member.campaign_id and other(hit.campaign_id) is not None:
                    strength: Strength = "network" if member.group.startswith("net:") else "asn"
                    found = (member.campaign_id, hit.campaign_id, strength)
                    evidence[found].add(member.group)
                    strictest[found] = max(strictest[found], member.tlp, hit.tlp)

        desired: dict[str, dict[str, Any]] = {}  # id -> object, for this batch's collection
        for (mine, theirs, strength), shared in sorted(evidence.items()):
            record = other(theirs)
            assert record is not None
            floor = strictest[(mine, theirs, strength)]
            self._link(batch, collection.id, mine, record, strength, shared, floor, now, desired)
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
        seen: set[tuple[str, str]] = set()
        for o in batch.occurrences:
            if (o.key, o.object_id) in seen:
                continue
            seen.add((o.key, o.object_id))
            first = o.first_seen or now
            last = max(o.last_seen or first, first)
            entries.append(
                IndexedValue(
                    key=o.key,
                    collection_id=collection_id,
                    object_id=o.object_id,
                    campaign_id=o.campaign_id,
                    source=source,
                    producer=o.producer or self.org_id,
                    tlp=o.tlp,
                    first_seen=first,
                    last_seen=last,
                )
            )
        self.store.index_values(entries)
        networks: dict[str, set[int]] = defaultdict(set)
        for o in batch.occurrences:
            prefix = values.cidr_prefix(o.key)
            if prefix is not None:
                networks[prefix[0]].add(prefix[1])
        for family, lengths in networks.items():
            self.store.add_cidr_prefixes(family, lengths)
        counts: dict[str, set[str]] = defaultdict(set)
        spans: dict[str, list[int]] = {}
        for o in batch.occurrences:
            if o.campaign_id is None:
                continue
            counts[o.campaign_id].add(o.key)
            first = o.first_seen or now
            last = max(o.last_seen or first, first)
            span = spans.setdefault(o.campaign_id, [first, last])
            span[0], span[1] = min(span[0], first), max(span[1], last)
        for campaign_id, info in batch.campaigns.items():
            first, last = spans.get(campaign_id, [now, now])
            self.store.put_campaign(
                CampaignRecord(
                    id=campaign_id,
                    name=info.name,
                    collection_id=collection_id,
                    tlp=info.tlp,
                    producer=info.producer or self.org_id,
                    first_seen=info.first_seen or first,
                    last_seen=max(info.last_seen or last, info.first_seen or first),
                    modified=now,
                    values=len(counts.get(campaign_id, ())),
                    targets=tuple(batch.targets.get(campaign_id, ())),
                )
            )

    def _members(
        self, batch: Batch, correlated: Iterable[Occurrence], collection_id: str
    ) -> list[GroupMember]:
        members: dict[tuple[str, str, str], GroupMember] = {}
        for o in correlated:
            assert o.campaign_id is not None
            info = batch.campaigns[o.campaign_id]
            groups = [values.network_group(o.key)]
            if o.asn is not None:
                groups.append(values.asn_group(o.asn))
            for group in groups:
                if group is not None:
                    members[(group, o.campaign_id, o.key)] = GroupMember(
                        group, o.campaign_id, collection_id, max(info.tlp, o.tlp), o.key
                    )
        return list(members.values())

    # -- the objects correlation writes -------------------------------------------

    def _link(
        self,
        batch: Batch,
        collection_id: str,
        mine: str,
        record: CampaignRecord,
        strength: Strength,
        shared: set[str],
        floor: int,
        now: int,
        desired: dict[str, dict[str, Any]],
    ) -> None:
        theirs = record.id
        pair = (min(mine, theirs), max(mine, theirs))
        self.store.add_link_evidence(pair, strength, shared)
        count, sample = self.store.link_evidence(pair, strength, SAMPLE)
        info = batch.campaigns[mine]
        rank = max(info.tlp, record.tlp, floor)
        names = {mine: info.name, theirs: record.name}
        rel_id = derived_id("relationship", "correlation", self.org_id, pair[0], pair[1], strength)
        score = confidence(strength, count)
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
            "description": describe(names[pair[0]], names[pair[1]], strength, count, sample),
            "confidence": score,
            "object_marking_refs": [tlp_levels.BY_RANK[rank].marking_id],
        }
        collections = tuple(sorted({collection_id, record.collection_id}))
        # Only into a collection that holds both campaigns: TAXII cannot hide from a
        # reader of one collection a link to a campaign kept in another it may not
        # read. Links across collections are kept in the index, for the API (which
        # checks both) to show.
        if len(collections) == 1:
            self._add(desired, relationship, rank, now)
        for a, b in ((mine, theirs), (theirs, mine)):
            self.store.put_campaign_link(
                CampaignLink(
                    campaign_id=a,
                    other_id=b,
                    strength=strength,
                    count=count,
                    sample=tuple(sample),
                    confidence=score,
                    relationship_id=rel_id,
                    collection_ids=collections,
                    tlp=rank,
                    modified=now,
                )
            )

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
            into[self.org_id] = org_identity(self.settings.org_name, now)
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
            for object_id, record in latest_versions(self.store, collection_id, ids).items()
        }


def describe(
    first_name: str, second_name: str, strength: Strength, count: int, sample: Sequence[str]
) -> str:
    """The relationship's description: what the two campaigns share, in words."""
    more = f" and {count - len(sample)} more" if count > len(sample) else ""
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
