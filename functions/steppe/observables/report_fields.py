"""The report part of a submission (everything but its observables), checked.

Shared by the JSON form and the CSV form, whose query parameters are first
turned into the same JSON document (report_query). `name` turns a field's JSON
path ("attack.kind", "targets[0].sectors[1]") into what the error names: the
path itself for JSON, the query parameter for CSV.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from steppe.errors import InvalidInput
from steppe.observables.model import Attribution, Campaign, Report, Source, Target
from steppe.observables.normalize import country_value, time_value, url_value
from steppe.observables.observable_checks import ObservableParser
from steppe.stix import bounds, vocab
from steppe.stix import tlp as tlp_levels
from steppe.stix.timestamps import format_stix
from steppe.templates.registry import TemplateRegistry
from steppe.templates.template_schema import Template

MAX_NAME = 256
MAX_TEXT = 10_000


class Fields:
    """Reads one JSON object's fields, naming each by its path through `name`."""

    def __init__(
        self,
        value: object,
        path: str,
        allowed: frozenset[str],
        name: Callable[[str], str],
    ) -> None:
        self.name = name
        self.path = path
        if not isinstance(value, dict):
            label = name(path) if path else "the body"
            raise InvalidInput(f"{label} must be a JSON object", where=name(path) or "body")
        for key in value:
            if key not in allowed:
                raise InvalidInput(
                    f"{name(self._child(key))} is not a known field; expected one of: "
                    f"{', '.join(sorted(allowed))}",
                    where=name(self._child(key)),
                )
        self.data: dict[str, Any] = value

    def _child(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def where(self, key: str) -> str:
        return self.name(self._child(key))

    def fail(self, key: str, message: str) -> InvalidInput:
        where = self.where(key)
        return InvalidInput(f"{where}: {message}", where=where)

    def text(self, key: str, *, required: bool = False, limit: int = MAX_NAME) -> str | None:
        value = self.data.get(key)
        if value is None:
            if required:
                raise self.fail(key, "this field is required")
            return None
        if not isinstance(value, str):
            raise self.fail(key, f"must be a string, not {type(value).__name__}")
        value = value.strip()
        if not value:
            if required:
                raise self.fail(key, "must not be empty")
            return None
        if len(value) > limit:
            raise self.fail(key, f"is longer than {limit} characters")
        return value

    def integer(self, key: str, low: int, high: int) -> int | None:
        value = self.data.get(key)
        if value is None:
            return None
        if type(value) is not int or not low <= value <= high:
            raise self.fail(
                key, f"must be a whole number from {low} to {high}, not {bounds.shown(value)}"
            )
        return value

    def boolean(self, key: str) -> bool | None:
        value = self.data.get(key)
        if value is None or type(value) is bool:
            return value
        raise self.fail(key, f"must be true or false, not {bounds.shown(value)}")

    def time(self, key: str) -> int | None:
        value = self.data.get(key)
        if value is None:
            return None
        try:
            return time_value(value)
        except ValueError as exc:
            raise self.fail(key, str(exc)) from None

    def convert(self, key: str, check: Callable[[str], Any]) -> Any:
        value = self.text(key)
        if value is None:
            return None
        try:
            return check(value)
        except ValueError as exc:
            raise self.fail(key, str(exc)) from None

    def child(self, key: str, allowed: frozenset[str]) -> Fields | None:
        value = self.data.get(key)
        if value is None:
            return None
        return Fields(value, self._child(key), allowed, self.name)

    def items(self, key: str) -> list[object]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(key, f"must be a list, not {type(value).__name__}")
        return value


def _url(value: str) -> str:
    normalized = url_value(value)
    if not normalized.startswith(("http://", "https://")):
        raise ValueError(f"'{value}' is not an http(s) URL")
    return normalized


def _tlp(value: str) -> tlp_levels.TlpLevel:
    return tlp_levels.level(value)


def _identity_class(value: str) -> str:
    if value not in vocab.IDENTITY_CLASSES:
        raise ValueError(
            f"'{value}' is not an identity class; use one of: "
            f"{', '.join(sorted(vocab.IDENTITY_CLASSES))}"
        )
    return value


def _attribution_kind(value: str) -> str:
    if value != "intrusion-set":
        raise ValueError(f"'{value}' is not supported; attribution is to an intrusion-set")
    return value


def _sector(value: str) -> str:
    sector = re.sub(r"[\s_]+", "-", value.strip().lower())
    if sector not in vocab.INDUSTRY_SECTORS:
        raise ValueError(
            f"'{value}' is not an industry sector; use one of: "
            f"{', '.join(sorted(vocab.INDUSTRY_SECTORS))}"
        )
    return sector


_TOP_FIELDS = frozenset(
    {
        "collection",
        "tlp",
        "confidence",
        "title",
        "valid_until",
        "source",
        "attack",
        "campaign",
        "targets",
        "attribution",
        "observables",
        "override_false_positives",
        "malware",
        "tools",
    }
)
_ATTACK_FIELDS = frozenset({"kind", "first_seen", "last_seen", "description"})
_SOURCE_FIELDS = frozenset({"name", "url"})
_CAMPAIGN_FIELDS = frozenset({"name", "objective", "description"})
_TARGET_FIELDS = frozenset({"name", "kind", "sectors", "country", "description"})
_ATTRIBUTION_FIELDS = frozenset({"name", "kind", "country", "confidence", "description"})


def parse_report(
    doc: object, registry: TemplateRegistry, name: Callable[[str], str]
) -> tuple[Report, Template]:
    """The report part of `doc` and its kind's template; InvalidInput names the field."""
    top = Fields(doc, "", _TOP_FIELDS, name)
    attack = top.child("attack", _ATTACK_FIELDS)
    if attack is None:
        raise InvalidInput(
            f"{name('attack.kind')} is required: say what kind of attack this is "
            f"({', '.join(registry.kinds())})",
            where=name("attack.kind"),
        )
    kind = attack.text("kind", required=True)
    assert kind is not None
    if kind not in registry:
        raise attack.fail(
            "kind", f"unknown attack kind '{kind}'; known kinds: {', '.join(registry.kinds())}"
        )
    template = registry.get(kind)
    first_seen = attack.time("first_seen")
    last_seen = attack.time("last_seen")
    if first_seen is not None and last_seen is not None and last_seen < first_seen:
        raise attack.fail(
            "last_seen",
            f"{format_stix(last_seen)} is before first_seen ({format_stix(first_seen)})",
        )
    tlp = top.convert("tlp", _tlp) or tlp_levels.AMBER
    confidence = top.integer("confidence", 0, 100)

    source = None
    if (src := top.child("source", _SOURCE_FIELDS)) is not None:
        source = Source(
            name=src.text("name", required=True) or "",
            url=src.convert("url", _url),
        )
    campaign = None
    if (camp := top.child("campaign", _CAMPAIGN_FIELDS)) is not None:
        campaign = Campaign(
            name=camp.text("name", required=True) or "",
            objective=camp.text("objective", limit=MAX_TEXT),
            description=camp.text("description", limit=MAX_TEXT),
        )
    targets = []
    for index, item in enumerate(top.items("targets")):
        tgt = Fields(item, f"targets[{index}]", _TARGET_FIELDS, name)
        sectors = []
        for position, sector in enumerate(tgt.items("sectors")):
            if not isinstance(sector, str):
                raise tgt.fail(f"sectors[{position}]", "must be a string")
            try:
                sectors.append(_sector(sector))
            except ValueError as exc:
                raise tgt.fail(f"sectors[{position}]", str(exc)) from None
        targets.append(
            Target(
                name=tgt.text("name", required=True) or "",
                kind=tgt.convert("kind", _identity_class) or "organization",
                sectors=tuple(dict.fromkeys(sectors)),
                country=tgt.convert("country", country_value),
                description=tgt.text("description", limit=MAX_TEXT),
            )
        )
    attribution = None
    if (attr := top.child("attribution", _ATTRIBUTION_FIELDS)) is not None:
        attribution = Attribution(
            name=attr.text("name", required=True) or "",
            kind=attr.convert("kind", _attribution_kind) or "intrusion-set",
            country=attr.convert("country", country_value),
            confidence=attr.integer("confidence", 0, 100),
            description=attr.text("description", limit=MAX_TEXT),
        )
    report = Report(
        kind=kind,
        tlp=tlp,
        confidence=template.report.confidence if confidence is None else confidence,
        source=source,
        first_seen=first_seen,
        last_seen=last_seen,
        description=attack.text("description", limit=MAX_TEXT),
        campaign=campaign,
        targets=tuple(targets),
        attribution=attribution,
        collection=top.text("collection"),
        valid_until=top.time("valid_until"),
        title=top.text("title"),
        override_false_positives=bool(top.boolean("override_false_positives")),
    )
    return report, template


def with_observed(report: Report, parser: ObservableParser, valid_until_where: str) -> Report:
    """The report with its observables' time span, once valid_until is checked against it."""
    if report.valid_until is not None:
        checks = []
        if report.first_seen is not None:
            checks.append((report.first_seen, "the attack's first_seen"))
        if parser.latest_first is not None:
            moment, position = parser.latest_first
            checks.append((moment, parser.where(position, "first_seen")))
        for moment, what in checks:
            if report.valid_until <= moment:
                raise InvalidInput(
                    f"{valid_until_where}: {format_stix(report.valid_until)} is not after "
                    f"{format_stix(moment)} ({what}); indicators would expire before they start",
                    where=valid_until_where,
                )
    return replace(report, observed_first=parser.earliest, observed_last=parser.latest)
