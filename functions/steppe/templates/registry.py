"""Attack-kind templates: what each kind of attack means in STIX.

One YAML file per kind lives in `stix_templates/` (ddos.yaml, phishing.yaml,
...). A template names the kind's ATT&CK technique (and CAPEC pattern where one
fits), the observable types it accepts, the roles an observable can play and
what each role produces (an indicator, or only a link for victims), indicator
types, names and validity, and the report's types and default confidence.
Adding a kind is adding a file; `Converter` and the parsers read nothing else.

The fields are described in stix_templates/README.md; the `Template` model
below is the schema. Every file is validated when loaded; a broken one fails
with its path and the field at fault. The directory is the first of: $STEPPE_TEMPLATES_DIR, the copy
packaged inside the wheel (steppe/stix_templates), the repository's
stix_templates/ (editable install). Each directory is loaded once per process.
"""

from __future__ import annotations

import os
import string
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

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

# Placeholders the text templates may use.
INDICATOR_PLACEHOLDERS = frozenset({"label", "kind", "role", "role_description", "type", "value"})
REPORT_PLACEHOLDERS = frozenset({"label", "kind", "date"})

_SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
_ENV_DIR = "STEPPE_TEMPLATES_DIR"

Slug = Annotated[str, Field(pattern=_SLUG, max_length=64)]
ObservableType = Literal["ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr", "file"]
Text = Annotated[str, Field(min_length=1, max_length=2000)]


class TemplateError(Exception):
    """A template file that cannot be used; the message names the file and the field."""


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


def _where(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def load_template(path: Path) -> Template:
    """Read and validate one template file; TemplateError names the file and field."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(f"{path}: cannot be read: {exc}") from None
    except yaml.YAMLError as exc:
        raise TemplateError(f"{path}: is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise TemplateError(f"{path}: must be a YAML mapping of template fields")
    try:
        template = Template.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        message = first["msg"].removeprefix("Value error, ")
        where = _where(tuple(first["loc"]))
        # whole-template checks name their field at the start of the message
        raise TemplateError(
            f"{path}: {where}: {message}" if where else f"{path}: {message}"
        ) from None
    if template.kind != path.stem:
        raise TemplateError(
            f"{path}: kind: {template.kind!r} must match the file name {path.stem!r}"
        )
    return template


def default_directory() -> Path:
    """Where templates are read from when no path is given (see module docstring)."""
    configured = os.environ.get(_ENV_DIR)
    if configured:
        return Path(configured)
    package = Path(__file__).resolve().parent.parent  # functions/steppe or site-packages/steppe
    packaged = package / "stix_templates"
    if packaged.is_dir():
        return packaged
    return package.parent.parent / "stix_templates"


class TemplateRegistry:
    """Every attack kind's template, by kind."""

    _cache: dict[Path, TemplateRegistry] = {}
    _lock = threading.Lock()

    def __init__(self, templates: Mapping[str, Template], directory: Path) -> None:
        self._templates = dict(sorted(templates.items()))
        self.directory = directory

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> TemplateRegistry:
        """The registry of the templates in `path` (default: see default_directory()).

        Loaded once per directory per process; a directory with a broken file
        raises TemplateError each time it is asked for.
        """
        directory = Path(path) if path is not None else default_directory()
        directory = directory.resolve()
        with cls._lock:
            cached = cls._cache.get(directory)
            if cached is None:
                cached = cls._cache[directory] = cls._read(directory)
        return cached

    @classmethod
    def _read(cls, directory: Path) -> TemplateRegistry:
        if not directory.is_dir():
            raise TemplateError(f"{directory}: template directory not found")
        files = sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml"))
        if not files:
            raise TemplateError(f"{directory}: no template files (*.yaml)")
        templates: dict[str, Template] = {}
        for file in files:
            template = load_template(file)
            if template.kind in templates:
                raise TemplateError(f"{file}: kind {template.kind!r} is defined twice")
            templates[template.kind] = template
        return cls(templates, directory)

    def get(self, kind: str) -> Template:
        """The template of `kind`; KeyError (naming the known kinds) if there is none."""
        try:
            return self._templates[kind]
        except KeyError:
            raise KeyError(
                f"unknown attack kind {kind!r}; known kinds: {', '.join(self._templates)}"
            ) from None

    def kinds(self) -> tuple[str, ...]:
        return tuple(self._templates)

    def __contains__(self, kind: object) -> bool:
        return kind in self._templates
