"""Turning a report and its observables into STIX 2.1 objects, as the kind's template says.

A submission becomes:

* header objects, once per submission (`header_objects`): the TLP marking
  definition, the producer's identity, the kind's attack-pattern, the campaign,
  the targets (identity + country location) and the attribution
  (intrusion-set + country location), and the relationships among them;
* per chunk of observables (`chunk_objects`): each observable's SCO (with its
  autonomous-system SCO), an indicator with `based-on` and `indicates`
  relationships where the role calls for one, a `related-to` link for victims,
  optionally the observable's country as a location; one observed-data over the
  chunk's SCOs and one report for the part.

Objects are plain dicts, valid by construction (inputs were validated by
steppe.observables.model); stix2's constructors cost ~60 times more and are kept
for the tests. Ids are deterministic: SCOs per the STIX specification, every
other object from the producer and what it is about, so the same campaign,
target or indicator submitted again gets the same id (steppe.stix.versioning
then merges versions); observed-data and reports from (submission, part).
Campaigns, targets, intrusion sets, indicators, every relationship, and the
observed-data and reports are named within a scope: the collection and the
report's TLP level (`id_scope`), so the same name or pattern in another
collection or at another TLP is another object, and nothing merges what
collections and TLP levels keep apart. The scope is an HMAC under the
installation's secret (`DERIVED_IDS_SECRET`), so nobody outside can compute
the id steppe gives, say, a RED indicator for an address, and probe for it.
What is public keeps public ids anyone can derive: the producer's identity,
attack patterns, country locations, marking definitions and SCOs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from steppe.observables.model import Observable, Report
from steppe.stix import patterns
from steppe.stix import tlp as tlp_levels
from steppe.stix.countries import COUNTRY_NAMES
from steppe.stix.ids import derived_id, sco_id, secret_scope, value_sco_id
from steppe.stix.timestamps import format_stix
from steppe.stix.vocab import MITRE_ATTACK_KILL_CHAIN
from steppe.templates.registry import TemplateRegistry
from steppe.templates.template_schema import RoleSpec, Template

# Public facts (the producer, ATT&CK techniques, countries, AS numbers) are
# TLP:CLEAR whatever the report's level, so partners of any clearance can
# resolve what the objects they receive refer to, and merging a RED report
# into a shared object never hides it from everyone else.
CLEAR_MARKING = tlp_levels.CLEAR.marking_id

# The store's server secret (SecretStore.server_secret) that scopes derived ids.
DERIVED_IDS_SECRET = "derived-ids"

MILLISECOND = 1000
DAY = 86_400 * 1_000_000
# Preferred hash for a file's SCO id (STIX 2.1 section 2.9) and for its display name.
_ID_HASH_ORDER = ("MD5", "SHA-1", "SHA-256", "SHA-512")
_DISPLAY_HASH_ORDER = ("SHA-256", "SHA-512", "SHA3-256", "SHA3-512", "SHA-1", "MD5")


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
    """

    submission_id: str
    producer: Producer
    now: int
    parts_total: int
    collection_id: str = ""
    id_secret: bytes = b""


def id_scope(collection_id: str, tlp_name: str, secret: bytes) -> str:
    """The scope within which a name or pattern names one object: one collection at one
    TLP level, in this installation (unguessable without its secret)."""
    return secret_scope(secret, "scope", collection_id, tlp_name)


def object_id(stix_type: str, *key: str) -> str:
    """The deterministic id of an object steppe derives, from what it is about.

    The type is part of the hashed key: ids.derived_id hashes the key alone, so
    a campaign and an intrusion set of the same name (or a submission part's
    report and observed-data) would otherwise share their UUID.
    """
    return derived_id(stix_type, stix_type, *key)


def name_key(name: str) -> str:
    """What makes two names the same campaign, target or intrusion set."""
    return " ".join(name.split()).casefold()


def _kill_chain(phases: Sequence[str]) -> list[dict[str, str]]:
    return [{"kill_chain_name": MITRE_ATTACK_KILL_CHAIN, "phase_name": p} for p in phases]


def file_sco_id(hashes: Sequence[tuple[str, str]]) -> str:
    """A file's SCO id: one hash contributes, MD5 first, then SHA-1, SHA-256, SHA-512."""
    by_name = dict(hashes)
    for name in _ID_HASH_ORDER:
        if name in by_name:
            return sco_id("file", {"hashes": {name: by_name[name]}})
    name, value = hashes[0]
    return sco_id("file", {"hashes": {name: value}})


def display_value(observable: Observable) -> str:
    """The observable as people read it: its value, or a file's best hash."""
    if observable.value is not None:
        return observable.value
    by_name = dict(observable.hashes)
    for name in _DISPLAY_HASH_ORDER:
        if name in by_name:
            return f"{name} {by_name[name]}"
    name, value = observable.hashes[0]
    return f"{name} {value}"


@dataclass(frozen=True, slots=True)
class _Role:
    """A template role with everything per-observable work needs, computed once."""

    name: str
    description: str
    indicator: bool
    indicator_types: tuple[str, ...]
    kill_chain: tuple[dict[str, str], ...]
    name_format: str
    description_format: str
    link: str | None


class _Kind:
    """A template's constants (attack pattern body, roles) computed once."""

    def __init__(self, template: Template) -> None:
        self.template = template
        ap = template.attack_pattern
        references: list[dict[str, str]] = [
            {
                "source_name": "mitre-attack",
                "external_id": ap.mitre_attack.id,
                "url": ap.mitre_attack.url,
            }
        ]
        if ap.capec is not None:
            references.append(
                {"source_name": "capec", "external_id": ap.capec.id, "url": ap.capec.url}
            )
        self.references = references
        self.roles = {name: self._role(name, spec) for name, spec in template.roles.items()}
        self.validity = template.indicator.valid_for_days * DAY

    def _role(self, name: str, spec: RoleSpec) -> _Role:
        indicator = self.template.indicator
        return _Role(
            name=name,
            description=spec.description,
            indicator=spec.indicator,
            indicator_types=tuple(spec.indicator_types or indicator.types),
            kill_chain=tuple(
                _kill_chain(
                    spec.kill_chain_phases or self.template.attack_pattern.kill_chain_phases
                )
            ),
            name_format=spec.name or indicator.name,
            description_format=indicator.description,
            link=spec.link,
        )


@dataclass(frozen=True, slots=True)
class _Plan:
    """What every chunk of one submission shares."""

    kind: _Kind
    stamp: str  # created / modified of everything
    marking_id: str
    producer_id: str
    anchor_id: str  # what indicators indicate: the campaign, else the attack pattern
    scope: str  # id_scope of the submission's collection and TLP
    header_ids: tuple[str, ...]
    # What a report's object_refs name of the header: all but the marking
    # definition, which object_marking_refs already names (stix2 rejects it there).
    header_refs: tuple[str, ...]


class Converter:
    """Builds the STIX objects of a submission from its report and observables."""

    def __init__(self, registry: TemplateRegistry) -> None:
        self._kinds = {kind: _Kind(registry.get(kind)) for kind in registry.kinds()}
        self._plans: dict[tuple[Report, ConversionContext], _Plan] = {}
        self._stamps: dict[int, str] = {}
        self._as_ids: dict[int, str] = {}
        self._location_ids: dict[tuple[str, str], str] = {}

    # ------------------------------------------------------------------ header

    def header_objects(self, report: Report, ctx: ConversionContext) -> list[dict[str, Any]]:
        """The objects every part of the submission refers to (see module docstring)."""
        kind = self._kind(report)
        template = kind.template
        producer = ctx.producer
        pid = producer.identity_id
        stamp = self._stamp(ctx.now)
        marking = report.tlp.marking_id
        scope = id_scope(ctx.collection_id, report.tlp.name, ctx.id_secret)
        out: dict[str, dict[str, Any]] = {}

        def add(obj: dict[str, Any]) -> str:
            out.setdefault(obj["id"], obj)
            return obj["id"]

        def sdo(
            stix_type: str, object_id: str, public: bool = False, **props: Any
        ) -> dict[str, Any]:
            obj = {
                "type": stix_type,
                "spec_version": "2.1",
                "id": object_id,
                "created_by_ref": pid,
                "created": stamp,
                "modified": stamp,
            }
            obj.update((k, v) for k, v in props.items() if v is not None and v != [])
            obj["object_marking_refs"] = [CLEAR_MARKING if public else marking]
            return obj

        def relate(source: str, rel_type: str, target: str, **props: Any) -> str:
            rel_id = object_id("relationship", pid, scope, rel_type, source, target)
            return add(
                sdo(
                    "relationship",
                    rel_id,
                    relationship_type=rel_type,
                    source_ref=source,
                    target_ref=target,
                    **props,
                )
            )

        def country(code: str) -> str:
            return add(
                sdo(
                    "location",
                    self._location_id(pid, code),
                    public=True,
                    name=COUNTRY_NAMES[code],
                    country=code,
                )
            )

        add(report.tlp.marking_definition())
        if marking != CLEAR_MARKING:
            add(tlp_levels.CLEAR.marking_definition())
        add(sdo("identity", pid, public=True, name=producer.name, identity_class="organization"))
        ap = template.attack_pattern
        attack_pattern = add(
            sdo(
                "attack-pattern",
                object_id("attack-pattern", pid, template.kind),
                public=True,
                name=ap.name,
                description=ap.description,
                external_references=[dict(r) for r in kind.references],
                kill_chain_phases=_kill_chain(ap.kill_chain_phases),
            )
        )
        anchor = attack_pattern
        if report.campaign is not None:
            first, last = report.window()
            campaign = report.campaign
            anchor = add(
                sdo(
                    "campaign",
                    object_id("campaign", pid, scope, name_key(campaign.name)),
                    name=campaign.name,
                    description=campaign.description or report.description,
                    objective=campaign.objective,
                    first_seen=None if first is None else self._stamp(first),
                    last_seen=None if last is None else self._stamp(last),
                    confidence=report.confidence,
                )
            )
            relate(anchor, "uses", attack_pattern)
        for target in report.targets:
            identity = add(
                sdo(
                    "identity",
                    object_id("identity", pid, "target", scope, name_key(target.name)),
                    name=target.name,
                    description=target.description,
                    identity_class=target.kind,
                    sectors=list(target.sectors),
                )
            )
            relate(anchor, "targets", identity)
            if target.country is not None:
                relate(identity, "located-at", country(target.country))
        attribution = report.attribution
        if attribution is not None:
            intrusion_set = add(
                sdo(
                    "intrusion-set",
                    object_id("intrusion-set", pid, scope, name_key(attribution.name)),
                    name=attribution.name,
                    description=attribution.description,
                    confidence=attribution.confidence,
                )
            )
            if report.campaign is not None:
                relate(anchor, "attributed-to", intrusion_set, confidence=attribution.confidence)
            relate(intrusion_set, "uses", attack_pattern)
            if attribution.country is not None:
                relate(intrusion_set, "originates-from", country(attribution.country))
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
        template = kind.template
        pid = plan.producer_id
        stamp = plan.stamp
        marking = plan.marking_id
        anchor = plan.anchor_id
        scope = plan.scope
        locations = template.locations
        label = template.label
        kind_name = template.kind
        confidence = report.confidence
        report_first = report.first_seen
        report_last = report.last_seen
        valid_until_override = report.valid_until
        validity = kind.validity
        now = ctx.now
        fmt = self._stamp
        pattern_for = patterns.pattern_for

        seen: set[str] = set(plan.header_ids)
        out: list[dict[str, Any]] = []
        sco_refs: list[str] = []
        first_observed: int | None = None
        last_observed: int | None = None

        def relate(source: str, rel_type: str, target: str, description: str = "") -> None:
            # object_id() inlined on the hot path: the type leads the key
            rel_id = derived_id(
                "relationship", "relationship", pid, scope, rel_type, source, target
            )
            if rel_id in seen:
                return
            seen.add(rel_id)
            rel = {
                "type": "relationship",
                "spec_version": "2.1",
                "id": rel_id,
                "created_by_ref": pid,
                "created": stamp,
                "modified": stamp,
                "relationship_type": rel_type,
                "source_ref": source,
                "target_ref": target,
                "object_marking_refs": [marking],
            }
            if description:
                rel["description"] = description
            out.append(rel)

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
                if value is None:
                    sco: dict[str, Any] = {
                        "type": "file",
                        "spec_version": "2.1",
                        "id": sco_ref,
                        "hashes": dict(obs.hashes),
                    }
                else:
                    sco = {"type": obs_type, "spec_version": "2.1", "id": sco_ref, "value": value}
                if obs.asn is not None:
                    as_ref = self._as_id(obs.asn)
                    if as_ref not in seen:
                        seen.add(as_ref)
                        out.append(
                            {
                                "type": "autonomous-system",
                                "spec_version": "2.1",
                                "id": as_ref,
                                "number": obs.asn,
                                "object_marking_refs": [CLEAR_MARKING],
                            }
                        )
                        sco_refs.append(as_ref)
                    sco["belongs_to_refs"] = [as_ref]
                sco["object_marking_refs"] = [marking]
                out.append(sco)
                sco_refs.append(sco_ref)

            if role.indicator:
                if value is None:
                    pattern = patterns.file_hashes_pattern(obs.hashes)
                    shown = display_value(obs)
                else:
                    pattern = pattern_for(obs_type, value)
                    shown = value
                indicator_ref = derived_id(
                    "indicator", "indicator", pid, scope, pattern
                )  # = object_id
                if indicator_ref not in seen:
                    seen.add(indicator_ref)
                    valid_from = first if first is not None else report_first
                    if valid_from is None:
                        valid_from = now
                    if valid_until_override is not None:
                        valid_until = valid_until_override
                        if valid_from >= valid_until:
                            valid_from = valid_until - MILLISECOND
                    else:
                        seen_last = last if last is not None else report_last
                        base = valid_from if seen_last is None else max(valid_from, seen_last)
                        valid_until = base + validity
                    words = {
                        "label": label,
                        "kind": kind_name,
                        "role": role.name,
                        "role_description": role.description,
                        "type": obs_type,
                        "value": shown,
                    }
                    out.append(
                        {
                            "type": "indicator",
                            "spec_version": "2.1",
                            "id": indicator_ref,
                            "created_by_ref": pid,
                            "created": stamp,
                            "modified": stamp,
                            "name": role.name_format.format_map(words),
                            "description": role.description_format.format_map(words),
                            "indicator_types": list(role.indicator_types),
                            "pattern": pattern,
                            "pattern_type": "stix",
                            "pattern_version": "2.1",
                            "valid_from": fmt(valid_from),
                            "valid_until": fmt(valid_until),
                            "kill_chain_phases": [dict(p) for p in role.kill_chain],
                            "confidence": confidence,
                            "object_marking_refs": [marking],
                        }
                    )
                relate(indicator_ref, "based-on", sco_ref)
                relate(indicator_ref, "indicates", anchor)
            elif role.link is not None:
                relate(sco_ref, role.link, anchor, f"{display_value(obs)} {role.description}.")

            if locations and obs.country is not None:
                location_ref = self._location_id(pid, obs.country)
                if location_ref not in seen:
                    seen.add(location_ref)
                    out.append(
                        {
                            "type": "location",
                            "spec_version": "2.1",
                            "id": location_ref,
                            "created_by_ref": pid,
                            "created": stamp,
                            "modified": stamp,
                            "name": COUNTRY_NAMES[obs.country],
                            "country": obs.country,
                            "object_marking_refs": [CLEAR_MARKING],
                        }
                    )
                relate(sco_ref, "located-at", location_ref)

        window_first, window_last = report.window()
        if first_observed is None:
            first_observed = window_first if window_first is not None else now
        if last_observed is None:
            last_observed = window_last if window_last is not None else first_observed
        last_observed = max(last_observed, first_observed)
        submission = ctx.submission_id
        if sco_refs:
            observed = {
                "type": "observed-data",
                "spec_version": "2.1",
                "id": object_id("observed-data", scope, submission, str(part)),
                "created_by_ref": pid,
                "created": stamp,
                "modified": stamp,
                "first_observed": fmt(first_observed),
                "last_observed": fmt(last_observed),
                "number_observed": max(1, min(len(observables), 999_999_999)),
                "object_refs": list(sco_refs),
                "object_marking_refs": [marking],
            }
            out.append(observed)

        name = report.title or (report.campaign.name if report.campaign else None)
        if name is None:
            day = window_first if window_first is not None else now
            name = template.report.name.format_map(
                {
                    "label": label,
                    "kind": kind_name,
                    "date": datetime.fromtimestamp(day / 1e6, UTC).strftime("%Y-%m-%d"),
                }
            )
        if ctx.parts_total > 1:
            name = f"{name} (part {part} of {ctx.parts_total})"
        report_obj: dict[str, Any] = {
            "type": "report",
            "spec_version": "2.1",
            "id": object_id("report", scope, submission, str(part)),
            "created_by_ref": pid,
            "created": stamp,
            "modified": stamp,
            "name": name,
            "description": report.description or template.description,
            "report_types": list(template.report.types),
            "published": stamp,
            "object_refs": [*plan.header_refs, *(obj["id"] for obj in out)],
            "confidence": confidence,
        }
        if report.source is not None:
            reference = {"source_name": report.source.name}
            if report.source.url is not None:
                reference["url"] = report.source.url
            report_obj["external_references"] = [reference]
        report_obj["object_marking_refs"] = [marking]
        out.append(report_obj)
        return out

    # ------------------------------------------------------------------ helpers

    def _kind(self, report: Report) -> _Kind:
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
                object_id("campaign", pid, scope, name_key(report.campaign.name))
                if report.campaign is not None
                else object_id("attack-pattern", pid, kind.template.kind)
            )
            plan = _Plan(
                kind=kind,
                stamp=self._stamp(ctx.now),
                marking_id=report.tlp.marking_id,
                producer_id=pid,
                anchor_id=anchor,
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
            as_ref = self._as_ids[number] = sco_id("autonomous-system", {"number": number})
        return as_ref

    def _location_id(self, producer_id: str, country: str) -> str:
        key = (producer_id, country)
        location_ref = self._location_ids.get(key)
        if location_ref is None:
            if len(self._location_ids) >= 4096:
                self._location_ids.clear()
            location_ref = self._location_ids[key] = object_id(
                "location", producer_id, "country", country
            )
        return location_ref

    def _stamp(self, micros: int) -> str:
        stamp = self._stamps.get(micros)
        if stamp is None:
            if len(self._stamps) >= 65_536:
                self._stamps.clear()
            stamp = self._stamps[micros] = format_stix(micros)
        return stamp
