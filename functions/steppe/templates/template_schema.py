"""The schema of an attack-kind template (one stix_templates/*.yaml file), as pydantic models.

The fields are described in stix_templates/README.md. A model that validates
is usable as it stands: roles cover the accepted observable types, text
templates use only known placeholders, vocabularies are STIX's.
"""

from __future__ import annotations

import string
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from steppe.stix import vocab

# The observable types the parsers know how to validate and the converter how to build.
OBSERVABLE_TYPES: tuple[str, ...] = (
    "ipv4-addr",
    "ipv6-addr",
    "domain-name",
    "url",
    "email-addr",
    "file",
)
IP_TYPES: frozenset[str] = frozenset({"ipv4-addr", "ipv6-addr"})
# The role every kind has for a file that is a sample of the attack's malware or tools
# (steppe.observables.tool_fields: it belongs to the report's only malware, else tool).
SAMPLE_ROLE = "sample"

# Placeholders the text templates may use.
INDICATOR_PLACEHOLDERS = frozenset({"label", "kind", "role", "role_description", "type", "value"})
REPORT_PLACEHOLDERS = frozenset({"label", "kind", "date"})

_SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"

Slug = Annotated[str, Field(pattern=_SLUG, max_length=64)]
ObservableType = Literal["ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr", "file"]
Text = Annotated[str, Field(min_length=1, max_length=2000)]


def _check_vocab(values: list[str], allowed: frozenset[str], what: str) -> list[str]:
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise ValueError(f"{unknown[0]!r} is not {what}; use one of: {', '.join(sorted(allowed))}")
    if len(set(values)) != len(values):
        raise ValueError("values must not repeat")
    return values


def _check_placeholders(text: str, allowed: frozenset[str]) -> str:
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        raise ValueError(f"malformed placeholder in {text!r}: {exc}") from None
    for name in fields:
        if name not in allowed:
            raise ValueError(
                f"unknown placeholder {{{name}}}; available: "
                + ", ".join(f"{{{p}}}" for p in sorted(allowed))
            )
    return text


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AttackTechnique(_Strict):
    """A MITRE ATT&CK technique, e.g. T1498 Network Denial of Service."""

    id: Annotated[str, Field(pattern=r"^T\d{4}(?:\.\d{3})?$")]
    name: Text
    url: str

    @model_validator(mode="after")
    def _url_matches_id(self) -> AttackTechnique:
        expected = "https://attack.mitre.org/techniques/" + self.id.replace(".", "/") + "/"
        if self.url != expected:
            raise ValueError(f"url must be {expected} for technique {self.id}")
        return self


class CapecPattern(_Strict):
    """A CAPEC attack pattern, e.g. CAPEC-125 Flooding."""

    id: Annotated[str, Field(pattern=r"^CAPEC-[1-9]\d*$")]
    name: Text
    url: str

    @model_validator(mode="after")
    def _url_matches_id(self) -> CapecPattern:
        number = self.id.removeprefix("CAPEC-")
        expected = f"https://capec.mitre.org/data/definitions/{number}.html"
        if self.url != expected:
            raise ValueError(f"url must be {expected} for {self.id}")
        return self


class AttackPatternSpec(_Strict):
    name: Text
    description: Text
    mitre_attack: AttackTechnique
    capec: CapecPattern | None = None
    kill_chain_phases: Annotated[list[str], Field(min_length=1)]

    @field_validator("kill_chain_phases")
    @classmethod
    def _tactics(cls, value: list[str]) -> list[str]:
        return _check_vocab(value, vocab.ATTACK_TACTICS, "an ATT&CK tactic short name")


class RoleSpec(_Strict):
    """What an observable playing this role is, and what steppe makes of it.

    indicator: True -> a STIX indicator (something to detect or block).
    description: a predicate completing "<value> ...", e.g. "sent attack traffic
      to the target"; it describes the indicator or the victim link.
    link: for roles without an indicator (victims): the relationship from the
      observable to the campaign (or attack pattern) that records its part.
    aliases: other names a submission may use for this role (e.g. victim).
    """

    description: Text
    types: Annotated[list[ObservableType], Field(min_length=1)]
    indicator: bool
    indicator_types: list[str] | None = None
    kill_chain_phases: list[str] | None = None
    name: str | None = None
    link: Literal["related-to"] | None = None
    aliases: list[Slug] = []

    @field_validator("types")
    @classmethod
    def _unique_types(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("types must not repeat")
        return value

    @field_validator("indicator_types")
    @classmethod
    def _indicator_types(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            if not value:
                raise ValueError("indicator_types must not be empty")
            _check_vocab(value, vocab.INDICATOR_TYPES, "an indicator-type-ov value")
        return value

    @field_validator("kill_chain_phases")
    @classmethod
    def _tactics(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            _check_vocab(value, vocab.ATTACK_TACTICS, "an ATT&CK tactic short name")
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return None if value is None else _check_placeholders(value, INDICATOR_PLACEHOLDERS)

    @model_validator(mode="after")
    def _coherent(self) -> RoleSpec:
        if not self.indicator and (self.indicator_types or self.kill_chain_phases or self.name):
            raise ValueError(
                "indicator_types, kill_chain_phases and name only apply to roles with "
                "indicator: true"
            )
        if self.indicator and self.link:
            raise ValueError("a role with an indicator is linked through it; drop 'link'")
        return self


class IndicatorSpec(_Strict):
    types: Annotated[list[str], Field(min_length=1)]
    name: Text
    description: Text
    valid_for_days: Annotated[int, Field(ge=1, le=3650)]

    @field_validator("types")
    @classmethod
    def _types(cls, value: list[str]) -> list[str]:
        return _check_vocab(value, vocab.INDICATOR_TYPES, "an indicator-type-ov value")

    @field_validator("name", "description")
    @classmethod
    def _text(cls, value: str) -> str:
        return _check_placeholders(value, INDICATOR_PLACEHOLDERS)


class ReportSpec(_Strict):
    types: Annotated[list[str], Field(min_length=1)]
    name: Text
    confidence: Annotated[int, Field(ge=0, le=100)]

    @field_validator("types")
    @classmethod
    def _types(cls, value: list[str]) -> list[str]:
        return _check_vocab(value, vocab.REPORT_TYPES, "a report-type-ov value")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _check_placeholders(value, REPORT_PLACEHOLDERS)


class DecayCurveSpec(_Strict):
    """One decay curve (see steppe.scoring.decay_curve): score(t) = base * (1 - (t / lifetime)
    ** (1 / decay_speed)), expired below threshold."""

    lifetime_days: Annotated[float, Field(strict=True, gt=0, le=3650, allow_inf_nan=False)]
    decay_speed: Annotated[float, Field(strict=True, gt=0, le=100, allow_inf_nan=False)]
    threshold: Annotated[int, Field(strict=True, ge=0, lt=100)]


class DecaySpec(_Strict):
    """How the kind's indicators age: a default curve and per-observable-type overrides."""

    default: DecayCurveSpec
    types: dict[str, DecayCurveSpec] = {}

    @field_validator("types")
    @classmethod
    def _known_types(cls, value: dict[str, DecayCurveSpec]) -> dict[str, DecayCurveSpec]:
        for name in value:
            if name not in OBSERVABLE_TYPES:
                raise ValueError(
                    f"{name!r} is not an observable type; use one of: "
                    + ", ".join(OBSERVABLE_TYPES)
                )
        return value


class Template(_Strict):
    """One attack kind (the schema of a stix_templates/*.yaml file)."""

    kind: Slug
    label: Text
    description: Text
    attack_pattern: AttackPatternSpec
    observable_types: Annotated[list[ObservableType], Field(min_length=1)]
    roles: Annotated[dict[Slug, RoleSpec], Field(min_length=1)]
    default_roles: dict[ObservableType, Slug]
    indicator: IndicatorSpec
    report: ReportSpec
    # Countries given for observables become location objects linked to the SCO.
    locations: bool = False
    # How scores decay; read by steppe.scoring, never by the conversion to STIX.
    decay: DecaySpec | None = None

    @model_validator(mode="after")
    def _roles_cover_types(self) -> Template:
        accepted = set(self.observable_types)
        if len(accepted) != len(self.observable_types):
            raise ValueError("observable_types: types must not repeat")
        for name, role in self.roles.items():
            extra = [t for t in role.types if t not in accepted]
            if extra:
                raise ValueError(f"roles.{name}.types: {extra[0]} is not in observable_types")
        names = set(self.roles)
        for name, role in self.roles.items():
            for alias in role.aliases:
                if alias in names:
                    raise ValueError(f"roles.{name}.aliases: {alias!r} already names a role")
                names.add(alias)
        sample = self.roles.get(SAMPLE_ROLE)
        if sample is None or sample.types != ["file"] or not sample.indicator:
            raise ValueError(
                f"roles.{SAMPLE_ROLE}: every kind has a role '{SAMPLE_ROLE}' taking files "
                "(types: [file]) with indicator: true, for the samples of the attack's tools"
            )
        covered = {t for role in self.roles.values() for t in role.types}
        missing = accepted - covered
        if missing:
            raise ValueError(f"roles: no role takes observable type {sorted(missing)[0]}")
        if set(self.default_roles) != accepted:
            lacking = sorted(accepted - set(self.default_roles)) or sorted(
                set(self.default_roles) - accepted
            )
            raise ValueError(
                f"default_roles: must name one role for each of observable_types ({lacking[0]})"
            )
        for obs_type, role_name in self.default_roles.items():
            role = self.roles.get(role_name)
            if role is None:
                raise ValueError(f"default_roles.{obs_type}: no role named {role_name!r}")
            if obs_type not in role.types:
                raise ValueError(f"default_roles.{obs_type}: role {role_name!r} does not take it")
        if self.decay is not None:
            for obs_type in self.decay.types:
                if obs_type not in accepted:
                    raise ValueError(
                        f"decay.types.{obs_type}: {obs_type} is not in observable_types"
                    )
        return self

    def role_names(self) -> tuple[str, ...]:
        """Every name a submission may use for a role (aliases included)."""
        return tuple(self.roles) + tuple(a for role in self.roles.values() for a in role.aliases)

    def resolve_role(self, name: str) -> str | None:
        """The role a name (or alias) stands for, or None if the kind has no such role."""
        if name in self.roles:
            return name
        for role_name, role in self.roles.items():
            if name in role.aliases:
                return role_name
        return None
