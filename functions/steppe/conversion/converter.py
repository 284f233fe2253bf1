"""Turning a report and its observables into STIX 2.1 objects, as the kind's template says.

A submission becomes:

* header objects, once per submission (`header_objects`): the TLP marking
  definition, the producer's identity, the kind's attack-pattern, the campaign,
  the targets (identity + country location) and the attribution
  (intrusion-set + country location), the malware and tools the attack used
  with their samples and C2 (malware_objects), and the relationships among them;
* per chunk of observables (`chunk_objects`): each observable's SCO (with its
  autonomous-system SCO), an indicator with `based-on` and `indicates`
  relationships where the role calls for one, a `related-to` link for victims,
  optionally the observable's country as a location; one observed-data over the
  chunk's SCOs and one report for the part.

Each kind of object has its builder in a module of its own, named after it
(indicator_objects, campaign_objects, observable_objects, report_objects, ...,
all sharing object_envelope); this module decides which to build, in what
order, and keeps what the parts of one submission share. Objects are plain
dicts, valid by construction (inputs were validated by the parsers in
steppe.observables); stix2's constructors cost ~60 times more and are kept for
the tests. How ids are derived and scoped is told in steppe.conversion.object_ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from steppe.conversion.attack_pattern_objects import attack_pattern, attack_pattern_id
from steppe.conversion.campaign_objects import campaign, campaign_id
from steppe.conversion.compiled_templates import CompiledKind
from steppe.conversion.identity_objects import producer_identity, target_identity
from steppe.conversion.indicator_objects import Indicators
from steppe.conversion.intrusion_set_objects import intrusion_set
from steppe.conversion.location_objects import country_location, country_location_id
from steppe.conversion.malware_objects import ToolContext, add_tool_objects, sample_owner_id
from steppe.conversion.object_envelope import CLEAR_MARKING
from steppe.conversion.object_ids import file_sco_id, id_scope
from steppe.conversion.observable_objects import (
    autonomous_system,
    autonomous_system_id,
    cyber_observable,
    display_value,
)
from steppe.conversion.observed_data_objects import observation_window, observed_data
from steppe.conversion.relationship_objects import relationship, relationship_id
from steppe.conversion.report_objects import report_name, report_object
from steppe.observables.model import Observable, Report
from steppe.stix import patterns
from steppe.stix import tlp as tlp_levels
from steppe.stix.ids import derived_id, value_sco_id
from steppe.stix.score_extension import (
    extension_definition,
    project_identity,
)
from steppe.stix.timestamps import format_stix
from steppe.templates.registry import TemplateRegistry
from steppe.templates.template_schema import SAMPLE_ROLE

# The store's server secret (SecretStore.server_secret) that scopes derived ids.
DERIVED_IDS_SECRET = "derived-ids"


@dataclass(frozen=True, slots=True)
class Producer:
    """Who steppe says produced the objects (created_by_ref of everything it builds)."""

    identity_id: str
    name: str


@dataclass(frozen=True, slots=True)
class ConversionContext:
    """submission_id and parts_total name the submission's chunks; now is epoch µs.

    collection_id: the collection the objects go to (part of the id scope).
    id_secret: the installation's server secret DERIVED_IDS_SECRET (at least 16
    bytes; converting refuses to derive ids without it).
    organisation: the organisation running steppe, creator of the objects every
    producer shares (malware families, tools); None: the producer.
    """

    submission_id: str
    producer: Producer
    now: int
    parts_total: int
    collection_id: str = ""
    id_secret: bytes = b""
    organisation: Producer | None = None


@dataclass(frozen=True, slots=True)
class _Plan:
    """What every chunk of one submission shares."""

    kind: CompiledKind
    stamp: str  # created / modified of everything
    marking_id: str
    producer_id: str
    anchor_id: str  # what indicators indicate: the campaign, else the attack pattern
    sample_owner_id: str | None  # what a sample's indicator indicates instead, if anything
    scope: str  # id_scope of the submission's collection and TLP
    header_ids: tuple[str, ...]
    # What a report's object_refs name of the header: all but the marking
    # definition, which object_marking_refs already names (stix2 rejects it there).
    header_refs: tuple[str, ...]


class Converter:
    """Builds the STIX objects of a submission from its report and observables."""

    def __init__(self, registry: TemplateRegistry) -> None:
        self._kinds = {kind: CompiledKind(registry.get(kind)) for kind in registry.kinds()}
        self._plans: dict[tuple[Report, ConversionContext], _Plan] = {}
        self._stamps: dict[int, str] = {}
        self._as_ids: dict[int, str] = {}
        self._location_ids: dict[tuple[str, str], str] = {}

    # ------------------------------------------------------------------ header

    def header_objects(self, report: Report, ctx: ConversionContext) -> list[dict[str, Any]]:
        """The objects every part of the submission refers to (see module docstring)."""
        kind = self._kind(report)
        pid = ctx.producer.identity_id
        stamp = self._stamp(ctx.now)
        marking = report.tlp.marking_id
        scope = id_scope(ctx.collection_id, report.tlp.name, ctx.id_secret)
        out: dict[str, dict[str, Any]] = {}

        def add(obj: dict[str, Any]) -> str:
            out.setdefault(obj["id"], obj)
            return obj["id"]

        def relate(source: str, rel_type: str, target: str, confidence: int | None = None) -> str:
            rel_id = relationship_id(pid, scope, rel_type, source, target)
            return add(
                relationship(
                    rel_id, pid, stamp, marking, rel_type, source, target, confidence=confidence
                )
            )

        def country(code: str) -> str:
            return add(country_location(self._location_id(pid, code), pid, stamp, code))

        add(report.tlp.marking_definition())
        if marking != CLEAR_MARKING:
            add(tlp_levels.CLEAR.marking_definition())
        add(producer_identity(pid, ctx.producer.name, stamp))
        add(project_identity())
        add(extension_definition())
        pattern_id = add(attack_pattern(kind, pid, stamp))
        anchor = pattern_id
        if report.campaign is not None:
            first, last = report.window()
            anchor = add(
                campaign(
                    report,
                    pid,
                    scope,
                    stamp,
                    marking,
                    first_seen=None if first is None else self._stamp(first),
                    last_seen=None if last is None else self._stamp(last),
                )
            )
            relate(anchor, "uses", pattern_id)
        for target in report.targets:
            identity = add(target_identity(target, pid, scope, stamp, marking))
            relate(anchor, "targets", identity)
            if target.country is not None:
                relate(identity, "located-at", country(target.country))
        attribution = report.attribution
        users = [anchor] if report.campaign is not None else []
        users.append(pattern_id)
        if attribution is not None:
            set_id = add(intrusion_set(attribution, pid, scope, stamp, marking))
            users.append(set_id)
            if report.campaign is not None:
                relate(anchor, "attributed-to", set_id, confidence=attribution.confidence)
            relate(set_id, "uses", pattern_id)
            if attribution.country is not None:
                relate(set_id, "originates-from", country(attribution.country))
        if report.tools:
            org = ctx.organisation or ctx.producer
            if org.identity_id != pid:
                add(producer_identity(org.identity_id, org.name, stamp))
            first, last = report.window()
            tools = ToolContext(
                kind=kind,
                producer_id=pid,
                org_id=org.identity_id,
                scope=scope,
                stamp=stamp,
                marking=marking,
                first_seen=None if first is None else self._stamp(first),
                last_seen=None if last is None else self._stamp(last),
                users=tuple(users),
            )
            indicator = Indicators(kind, report, pid, stamp, marking, ctx.now, self._stamp).build
            add_tool_objects(report.tools, tools, add, relate, indicator)
        return list(out.values())

    # ------------------------------------------------------------------ chunks

    def chunk_objects(
        self,
        report: Report,
        observables: Sequence[Observable],
        part: int,
        ctx: ConversionContext,
    ) -> list[dict[str, Any]]:
        """The objects of part `part` (1..ctx.parts_total) of the submission."""
        if not 1 <= part <= ctx.parts_total:
            raise ValueError(f"part {part} is not within 1..{ctx.parts_total}")
        plan = self._plan(report, ctx)
        kind = plan.kind
        roles = kind.roles
        pid = plan.producer_id
        stamp = plan.stamp
        marking = plan.marking_id
        anchor = plan.anchor_id
        # a sample's indicator indicates the report's malware (or tool), not the campaign
        indicates = {SAMPLE_ROLE: plan.sample_owner_id} if plan.sample_owner_id else {}
        scope = plan.scope
        locations = kind.template.locations
        now = ctx.now
        fmt = self._stamp
        pattern_for = patterns.pattern_for
        indicator = Indicators(kind, report, pid, stamp, marking, now, fmt).build

        seen: set[str] = set(plan.header_ids)
        out: list[dict[str, Any]] = []
        sco_refs: list[str] = []
        first_observed: int | None = None
        last_observed: int | None = None

        def relate(source: str, rel_type: str, target: str, description: str = "") -> None:
            # relationship_id() inlined on the hot path: the type leads the key
            rel_id = derived_id(
                "relationship", "relationship", pid, scope, rel_type, source, target
            )
            if rel_id in seen:
                return
            seen.add(rel_id)
            out.append(
                relationship(rel_id, pid, stamp, marking, rel_type, source, target, description)
            )

        for obs in observables:
            role = roles[obs.role]
            obs_type = obs.type
            value = obs.value
            first = obs.first_seen
            last = obs.last_seen
            if first is not None:
                if first_observed is None or first < first_observed:
                    first_observed = first
                if last_observed is None or first > last_observed:
                    last_observed = first
            if last is not None and (last_observed is None or last > last_observed):
                last_observed = last

            sco_ref = file_sco_id(obs.hashes) if value is None else value_sco_id(obs_type, value)
            if sco_ref not in seen:
                seen.add(sco_ref)
                as_ref = None
                if obs.asn is not None:
                    as_ref = self._as_id(obs.asn)
                    if as_ref not in seen:
                        seen.add(as_ref)
                        out.append(autonomous_system(as_ref, obs.asn))
                        sco_refs.append(as_ref)
                out.append(cyber_observable(sco_ref, obs, marking, as_ref))
                sco_refs.append(sco_ref)

            if role.indicator:
                if value is None:
                    pattern = patterns.file_hashes_pattern(obs.hashes)
                    shown = display_value(obs)
                else:
                    pattern = pattern_for(obs_type, value)
                    shown = value
                # object_id() inlined on the hot path
                indicator_ref = derived_id("indicator", "indicator", pid, scope, pattern)
                if indicator_ref not in seen:
                    seen.add(indicator_ref)
                    out.append(
                        indicator(indicator_ref, role, obs_type, shown, pattern, first, last)
                    )
                relate(indicator_ref, "based-on", sco_ref)
                relate(indicator_ref, "indicates", indicates.get(obs.role, anchor))
            elif role.link is not None:
                relate(sco_ref, role.link, anchor, f"{display_value(obs)} {role.description}.")

            if locations and obs.country is not None:
                location_ref = self._location_id(pid, obs.country)
                if location_ref not in seen:
                    seen.add(location_ref)
                    out.append(country_location(location_ref, pid, stamp, obs.country))
                relate(sco_ref, "located-at", location_ref)

        submission = ctx.submission_id
        if sco_refs:
            first_observed, last_observed = observation_window(
                first_observed, last_observed, report, now
            )
            out.append(
                observed_data(
                    scope,
                    submission,
                    part,
                    pid,
                    stamp,
                    marking,
                    fmt(first_observed),
                    fmt(last_observed),
                    len(observables),
                    sco_refs,
                )
            )
        name = report_name(report, kind.template, part, ctx.parts_total, now)
        out.append(
            report_object(
                report,
                kind.template,
                scope,
                submission,
                part,
                name,
                pid,
                stamp,
                marking,
                [*plan.header_refs, *(obj["id"] for obj in out)],
            )
        )
        return out

    # ------------------------------------------------------------------ helpers

    def _kind(self, report: Report) -> CompiledKind:
        try:
            return self._kinds[report.kind]
        except KeyError:
            raise ValueError(
                f"no template for attack kind {report.kind!r}; known: {', '.join(self._kinds)}"
            ) from None

    def _plan(self, report: Report, ctx: ConversionContext) -> _Plan:
        key = (report, ctx)
        plan = self._plans.get(key)
        if plan is None:
            header = self.header_objects(report, ctx)
            kind = self._kind(report)
            pid = ctx.producer.identity_id
            scope = id_scope(ctx.collection_id, report.tlp.name, ctx.id_secret)
            anchor = (
                campaign_id(pid, scope, report.campaign.name)
                if report.campaign is not None
                else attack_pattern_id(pid, kind.template.kind)
            )
            plan = _Plan(
                kind=kind,
                stamp=self._stamp(ctx.now),
                marking_id=report.tlp.marking_id,
                producer_id=pid,
                anchor_id=anchor,
                sample_owner_id=sample_owner_id(report.tools, scope, pid),
                scope=scope,
                header_ids=tuple(obj["id"] for obj in header),
                header_refs=tuple(
                    obj["id"] for obj in header if obj["type"] != "marking-definition"
                ),
            )
            if len(self._plans) >= 64:
                self._plans.clear()
            self._plans[key] = plan
        return plan

    def _as_id(self, number: int) -> str:
        as_ref = self._as_ids.get(number)
        if as_ref is None:
            if len(self._as_ids) >= 65_536:
                self._as_ids.clear()
            as_ref = self._as_ids[number] = autonomous_system_id(number)
        return as_ref

    def _location_id(self, producer_id: str, country: str) -> str:
        key = (producer_id, country)
        location_ref = self._location_ids.get(key)
        if location_ref is None:
            if len(self._location_ids) >= 4096:
                self._location_ids.clear()
            location_ref = self._location_ids[key] = country_location_id(producer_id, country)
        return location_ref

    def _stamp(self, micros: int) -> str:
        stamp = self._stamps.get(micros)
        if stamp is None:
            if len(self._stamps) >= 65_536:
                self._stamps.clear()
            stamp = self._stamps[micros] = format_stix(micros)
        return stamp
