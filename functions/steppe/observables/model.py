"""An analyst's report of an attack and its observables: parsing and validation.

Pure functions, no I/O. Every bad input raises steppe.errors.InvalidInput with
a sentence saying what is wrong and `where` naming the field, row, column or
query parameter at fault; when several observables are bad, the first
MAX_LISTED_ERRORS are listed in `errors`. Values are normalised on the way in
(lower-case domains, canonical IP text, upper-case country codes, lower-case
hex hashes), and observables repeated with the same type, value and role are
merged into one (first_seen the earliest, last_seen the latest).

JSON form (POST a JSON object)
------------------------------
    {
      "collection": "collection id or title (optional; default collection)",
      "tlp": "clear | green | amber | amber+strict | red   (default amber)",
      "confidence": 60,                       (0..100; default: the kind's)
      "title": "report name (optional)",
      "valid_until": "2009-03-01T00:00:00Z",  (optional; overrides the kind's validity)
      "override_false_positives": false,      (optional; publish values analysts
                                               declared false positives after all)
      "source": {"name": "IntelFusion", "url": "https://example.org/post"},
      "attack": {"kind": "ddos", "first_seen": "...", "last_seen": "...",
                 "description": "..."},
      "campaign": {"name": "...", "objective": "...", "description": "..."},
      "targets": [{"name": "...", "kind": "organization",
                   "sectors": ["telecommunications"], "country": "KG",
                   "description": "..."}],
      "attribution": {"name": "...", "kind": "intrusion-set", "country": "RU",
                      "confidence": 15, "description": "..."},
      "observables": [
        {"type": "ipv4-addr", "value": "198.51.100.7", "role": "source",
         "asn": 64500, "country": "RU", "first_seen": "...", "last_seen": "..."},
        {"type": "file", "hashes": {"SHA-256": "..."}},
        {"type": "file", "value": "<hex>", "hash_type": "MD5"}
      ]
    }

Only `attack.kind` and a non-empty `observables` are required. Unknown fields
are rejected (a typo would otherwise be silently dropped). Observable types:
ipv4-addr, ipv6-addr (an address or a CIDR block without host bits),
domain-name, url (scheme and host required), email-addr, file (hashes MD5,
SHA-1, SHA-256, SHA-512, SHA3-256, SHA3-512 as hex). Each attack kind accepts
some of them and names their roles (stix_templates/<kind>.yaml); an observable
without a role gets the kind's default role for its type. `asn` (a number or
"AS64500") applies to IP addresses only; `country` is an ISO 3166-1 alpha-2
code. Timestamps are RFC 3339 in UTC ("2009-01-18T00:00:00Z"), with an offset
("2009-01-18T06:00:00+06:00"), or a date alone ("2009-01-18", midnight UTC).

CSV form (POST text/csv; report fields as query parameters)
-----------------------------------------------------------
The first row is the header; column names are case-insensitive, in any order.
For example, POST .../submissions?kind=malware-c2&tlp=green&campaign=Example:

    type,value,role,asn,country,first_seen,last_seen,hash_type
    ipv4-addr,198.51.100.7,c2,64500,RU,2009-01-18T00:00:00Z,2009-01-20T00:00:00Z,
    domain-name,update.example.net,c2,,,2009-01-18,,
    file,44d88612fea8a8f36de82e1278abb02f,payload,,,,,MD5

`type` and `value` are required columns; `role`, `asn`, `country`,
`first_seen`, `last_seen` and `hash_type` are optional columns, and an empty
cell means "not given". For files `value` is the hex hash and `hash_type` its
algorithm, inferred from the length when absent (32 MD5, 40 SHA-1, 64 SHA-256,
128 SHA-512). Blank lines are skipped; a row may have fewer cells than the
header (the missing ones are empty) but not more. A row is named by the line
of the file it starts on, the header being row 1 ("row 14, column country").

Query parameters (all optional except kind; unknown ones are rejected):
kind, tlp, confidence, collection, title, valid_until, first_seen, last_seen,
description (the attack's), campaign (its name), objective, source_name,
source_url, target (one target's name), target_kind, target_country,
target_sector (comma-separated), attribution (the intrusion set's name),
attribution_country, attribution_confidence, override_false_positives
(true or false).

Where errors point: JSON paths ("observables[12].value", "attack.kind",
"targets[0].sectors[1]", "body, line 3, column 7" for malformed JSON); for CSV
"header, column value", "row 14, column country", "row 9" (a row with too many
cells) and "query parameter tlp".
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import orjson

from steppe.errors import InvalidInput, PayloadTooLarge
from steppe.observables import normalize as values
from steppe.observables.normalize import (
    HASH_BY_LENGTH,
    asn_value,
    country_value,
    hash_name,
    hash_value,
    time_value,
    url_value,
)
from steppe.stix import bounds, vocab
from steppe.stix import tlp as tlp_levels
from steppe.stix.countries import COUNTRY_NAMES
from steppe.stix.timestamps import format_stix
from steppe.templates.registry import IP_TYPES, OBSERVABLE_TYPES, Template, TemplateRegistry

MAX_LISTED_ERRORS = 20
MAX_NAME = 256
MAX_TEXT = 10_000

# --------------------------------------------------------------------------
# The models
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Observable:
    """One observed value and the part it played.

    value: normalised text; None for files, which are known by `hashes`:
      (STIX hash name, lower-case hex) pairs sorted by name.
    role: always one of the kind's roles (the default one when none was given).
    first_seen / last_seen: epoch microseconds.
    """

    type: str
    value: str | None
    hashes: tuple[tuple[str, str], ...] = ()
    role: str = ""
    asn: int | None = None
    country: str | None = None
    first_seen: int | None = None
    last_seen: int | None = None


_SET_TYPE, _SET_VALUE, _SET_HASHES, _SET_ROLE, _SET_ASN, _SET_COUNTRY, _SET_FIRST, _SET_LAST = (
    getattr(Observable, f.name).__set__ for f in fields(Observable)
)


def _make_observable(
    obs_type: str,
    value: str | None,
    hashes: tuple[tuple[str, str], ...],
    role: str,
    asn: int | None,
    country: str | None,
    first_seen: int | None,
    last_seen: int | None,
) -> Observable:
    """Observable(...) for already validated values, at half the cost.

    A frozen dataclass's __init__ goes through object.__setattr__ once per
    field (about 1.1 us here); writing the slot descriptors directly gives the
    same object for about 0.5 us, which matters at 100,000 observables.
    """
    obj = object.__new__(Observable)
    _SET_TYPE(obj, obs_type)
    _SET_VALUE(obj, value)
    _SET_HASHES(obj, hashes)
    _SET_ROLE(obj, role)
    _SET_ASN(obj, asn)
    _SET_COUNTRY(obj, country)
    _SET_FIRST(obj, first_seen)
    _SET_LAST(obj, last_seen)
    return obj


@dataclass(frozen=True, slots=True)
class Source:
    name: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Campaign:
    name: str
    objective: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    kind: str = "organization"  # STIX identity_class
    sectors: tuple[str, ...] = ()
    country: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Attribution:
    name: str
    kind: str = "intrusion-set"
    country: str | None = None
    confidence: int | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Report:
    """Everything a submission says besides its observables.

    first_seen / last_seen: the attack window as submitted.
    observed_first / observed_last: the earliest and latest time given on any
      observable (None when none had a time); with the attack window they give
      the campaign its first_seen / last_seen.
    confidence: as submitted, else the kind's default.
    """

    kind: str
    tlp: tlp_levels.TlpLevel = tlp_levels.AMBER
    confidence: int = 50
    source: Source | None = None
    first_seen: int | None = None
    last_seen: int | None = None
    description: str | None = None
    campaign: Campaign | None = None
    targets: tuple[Target, ...] = ()
    attribution: Attribution | None = None
    collection: str | None = None
    valid_until: int | None = None
    title: str | None = None
    observed_first: int | None = None
    observed_last: int | None = None
    # Publish indicators of values analysts declared false positives (the analyst's say).
    override_false_positives: bool = False

    def window(self) -> tuple[int | None, int | None]:
        """The earliest and latest instants the report knows of (attack and observables)."""
        firsts = [t for t in (self.first_seen, self.observed_first) if t is not None]
        lasts = [t for t in (self.last_seen, self.observed_last) if t is not None]
        return (min(firsts) if firsts else None, max(lasts) if lasts else None)


@dataclass(frozen=True, slots=True)
class SubmissionRequest:
    report: Report
    observables: list[Observable]


# --------------------------------------------------------------------------
# Observables
# --------------------------------------------------------------------------

_NORMALIZERS = values.NORMALIZERS
assert set(_NORMALIZERS) | {"file"} == set(OBSERVABLE_TYPES)
_TIME_CACHE = values.TIME_CACHE
_CANONICAL_IPV4_MATCH = values.CANONICAL_IPV4_MATCH
MAX_ASN = values.MAX_ASN


class _FieldError(Exception):
    """A bad field of one observable: `field` is its name within the observable."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _time_message(value: object, exc: Exception) -> str:
    if isinstance(exc, TypeError):  # an unhashable JSON value (list, object)
        return f"{value!r} is not a timestamp (e.g. 2009-01-18T00:00:00Z)"
    return str(exc)


def file_hashes(hashes: object, value: object, hash_type: object) -> tuple[tuple[str, str], ...]:
    """The (name, hex) pairs of a file from a `hashes` object or a value + hash_type.

    Raises _FieldError naming the sub-field at fault.
    """
    if hashes is not None:
        if value is not None:
            raise _FieldError("value", "give a file's hashes in 'hashes' or in 'value', not both")
        if not isinstance(hashes, dict) or not hashes:
            raise _FieldError("hashes", 'hashes must be an object like {"SHA-256": "<hex>"}')
        pairs: dict[str, str] = {}
        for raw_name, raw_value in hashes.items():
            try:
                name = hash_name(raw_name)
            except ValueError as exc:
                raise _FieldError(f"hashes.{raw_name}", str(exc)) from None
            if not isinstance(raw_value, str):
                raise _FieldError(f"hashes.{raw_name}", "a hash must be a string of hex digits")
            try:
                pairs[name] = hash_value(name, raw_value)
            except ValueError as exc:
                raise _FieldError(f"hashes.{raw_name}", str(exc)) from None
        return tuple(sorted(pairs.items()))
    if not isinstance(value, str) or not value.strip():
        raise _FieldError("hashes", "a file needs its hashes (or a hex hash in 'value')")
    if hash_type is None:
        name = HASH_BY_LENGTH.get(len(value.strip()))
        if name is None:
            raise _FieldError(
                "value",
                f"cannot tell the algorithm of a {len(value.strip())}-digit hash; give hash_type",
            )
    else:
        if not isinstance(hash_type, str):
            raise _FieldError("hash_type", "hash_type must be a string such as SHA-256")
        try:
            name = hash_name(hash_type)
        except ValueError as exc:
            raise _FieldError("hash_type", str(exc)) from None
    try:
        return ((name, hash_value(name, value)),)
    except ValueError as exc:
        raise _FieldError("value", str(exc)) from None


OBSERVABLE_FIELDS = frozenset(
    {"type", "value", "hashes", "hash_type", "role", "asn", "country", "first_seen", "last_seen"}
)


class _ObservableParser:
    """Validates observables against one template and merges repeats.

    This is the hot path of a 100,000-observable submission: the common case
    (a valid value with a few fields) runs inline with cached lookups, and
    anything unusual drops to the general checks.
    """

    def __init__(self, template: Template, where: Callable[[int, str | None], str]) -> None:
        self.template = template
        self.where = where  # (position, field) -> "observables[3].value", "row 4, column value"
        self.accepted = frozenset(template.observable_types)
        self.role_types = {
            name: frozenset(template.roles[template.resolve_role(name) or name].types)
            for name in template.role_names()
        }
        # (role as written, type) -> the role's name, for the valid combinations
        self.roles_by_type = {
            (name, obs_type): template.resolve_role(name)
            for name, types in self.role_types.items()
            for obs_type in types
        }
        self.default_roles = dict(template.default_roles)
        self.by_key: dict[tuple[object, ...], int] = {}
        self.observables: list[Observable] = []
        self.errors: list[dict[str, object]] = []
        self.error_count = 0
        self.latest_first: tuple[int, int] | None = None  # (first_seen, position)
        self.earliest: int | None = None
        self.latest: int | None = None

    def reject(self, position: int, field: str | None, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_LISTED_ERRORS:
            self.errors.append({"where": self.where(position, field), "message": message})

    def add(self, item: Mapping[str, Any], position: int) -> None:
        try:
            observable = self._parse(item)
        except _FieldError as exc:
            self.reject(position, exc.field, exc.message)
            return
        first = observable.first_seen
        last = observable.last_seen
        if first is not None:
            if self.earliest is None or first < self.earliest:
                self.earliest = first
            if self.latest is None or first > self.latest:
                self.latest = first
            if self.latest_first is None or first > self.latest_first[0]:
                self.latest_first = (first, position)
        if last is not None:
            if self.earliest is None or last < self.earliest:
                self.earliest = last
            if self.latest is None or last > self.latest:
                self.latest = last
        key = (observable.type, observable.value, observable.hashes, observable.role)
        index = self.by_key.get(key)
        if index is None:
            self.by_key[key] = len(self.observables)
            self.observables.append(observable)
        else:
            self.observables[index] = _merge(self.observables[index], observable)

    def _parse(self, item: Mapping[str, Any]) -> Observable:
        get = item.get
        obs_type = get("type")
        if type(obs_type) is not str or obs_type not in self.accepted:
            if obs_type is None:
                raise _FieldError("type", "type is required")
            raise _FieldError("type", self._type_message(obs_type))
        role_name = get("role")
        if role_name is None:
            role = self.default_roles[obs_type]
        else:
            role = self.roles_by_type.get((role_name, obs_type)) if type(role_name) is str else None
            if role is None:
                raise _FieldError("role", self._role_message(role_name, obs_type))
        value = get("value")
        hashes: tuple[tuple[str, str], ...] = ()
        if obs_type == "file":
            hashes = file_hashes(get("hashes"), value, get("hash_type"))
            value = None
        elif type(value) is str and _CANONICAL_IPV4_MATCH(value) and obs_type == "ipv4-addr":
            pass  # already canonical
        else:
            value = self._value(obs_type, value, get)
        asn = get("asn")
        if asn is not None:
            if obs_type not in IP_TYPES:
                raise _FieldError("asn", "only IP addresses (ipv4-addr, ipv6-addr) have an asn")
            if type(asn) is not int or not 0 <= asn <= MAX_ASN:
                try:
                    asn = asn_value(asn)
                except ValueError as exc:
                    raise _FieldError("asn", str(exc)) from None
        country = get("country")
        if country is not None and (type(country) is not str or country not in COUNTRY_NAMES):
            try:
                country = country_value(country)
            except ValueError as exc:
                raise _FieldError("country", str(exc)) from None
        first_seen = get("first_seen")
        if first_seen is not None:
            try:
                first_seen = _TIME_CACHE.get(first_seen) or time_value(first_seen)
            except (ValueError, TypeError) as exc:
                raise _FieldError("first_seen", _time_message(first_seen, exc)) from None
        last_seen = get("last_seen")
        if last_seen is not None:
            try:
                last_seen = _TIME_CACHE.get(last_seen) or time_value(last_seen)
            except (ValueError, TypeError) as exc:
                raise _FieldError("last_seen", _time_message(last_seen, exc)) from None
            if first_seen is not None and last_seen < first_seen:
                raise _FieldError(
                    "last_seen",
                    f"last_seen ({format_stix(last_seen)}) is before first_seen "
                    f"({format_stix(first_seen)})",
                )
        return _make_observable(obs_type, value, hashes, role, asn, country, first_seen, last_seen)

    @staticmethod
    def _value(obs_type: str, value: object, get: Callable[[str], Any]) -> str:
        for field in ("hashes", "hash_type"):
            if get(field) is not None:
                raise _FieldError(field, f"only file observables have {field}")
        if type(value) is not str:
            if value is None:
                raise _FieldError("value", "value is required")
            raise _FieldError("value", f"value must be a string, not {type(value).__name__}")
        value = value.strip()
        if not value:
            raise _FieldError("value", "value is empty")
        try:
            return _NORMALIZERS[obs_type](value)
        except ValueError as exc:
            raise _FieldError("value", str(exc)) from None

    def _role_message(self, role_name: object, obs_type: str) -> str:
        types = self.role_types.get(role_name) if isinstance(role_name, str) else None
        if types is None:
            return (
                f"{role_name!r} is not a role of a {self.template.kind} observable; use one "
                f"of: {', '.join(self.template.role_names())}"
            )
        return (
            f"role {role_name!r} does not take {obs_type} observables (it takes "
            f"{', '.join(sorted(types))})"
        )

    def _type_message(self, obs_type: object) -> str:
        if isinstance(obs_type, str) and obs_type in OBSERVABLE_TYPES:
            return (
                f"a {self.template.kind} report does not take {obs_type} observables; it takes "
                f"{', '.join(self.template.observable_types)}"
            )
        return f"{obs_type!r} is not an observable type; use one of: {', '.join(OBSERVABLE_TYPES)}"

    def finish(self, empty_where: str, noun: str) -> list[Observable]:
        if self.error_count:
            first = self.errors[0]
            listed = (
                f" (the first {MAX_LISTED_ERRORS} are listed)"
                if self.error_count > MAX_LISTED_ERRORS
                else ""
            )
            count = (
                "1 observable is"
                if self.error_count == 1
                else f"{self.error_count} observables are"
            )
            raise InvalidInput(
                f"{count} invalid{listed}; {first['where']}: {first['message']}",
                where=str(first["where"]),
                errors=self.errors,
            )
        if not self.observables:
            raise InvalidInput(f"The submission has no observables; {noun}", where=empty_where)
        return self.observables


def _merge(kept: Observable, repeat: Observable) -> Observable:
    first, last = kept.first_seen, kept.last_seen
    if repeat.first_seen is not None and (first is None or repeat.first_seen < first):
        first = repeat.first_seen
    if repeat.last_seen is not None and (last is None or repeat.last_seen > last):
        last = repeat.last_seen
    return _make_observable(
        kept.type,
        kept.value,
        kept.hashes,
        kept.role,
        kept.asn if kept.asn is not None else repeat.asn,
        kept.country or repeat.country,
        first,
        last,
    )


# --------------------------------------------------------------------------
# The report part
# --------------------------------------------------------------------------


class _Fields:
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

    def child(self, key: str, allowed: frozenset[str]) -> _Fields | None:
        value = self.data.get(key)
        if value is None:
            return None
        return _Fields(value, self._child(key), allowed, self.name)

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
    }
)
_ATTACK_FIELDS = frozenset({"kind", "first_seen", "last_seen", "description"})
_SOURCE_FIELDS = frozenset({"name", "url"})
_CAMPAIGN_FIELDS = frozenset({"name", "objective", "description"})
_TARGET_FIELDS = frozenset({"name", "kind", "sectors", "country", "description"})
_ATTRIBUTION_FIELDS = frozenset({"name", "kind", "country", "confidence", "description"})


def _json_path(path: str) -> str:
    return path


def _parse_report(
    doc: object, registry: TemplateRegistry, name: Callable[[str], str]
) -> tuple[Report, Template]:
    top = _Fields(doc, "", _TOP_FIELDS, name)
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
        tgt = _Fields(item, f"targets[{index}]", _TARGET_FIELDS, name)
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


def _with_observed(report: Report, parser: _ObservableParser, valid_until_where: str) -> Report:
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


# --------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------


def parse_json(
    body: bytes,
    registry: TemplateRegistry | None = None,
    *,
    max_observables: int = bounds.MAX_OBSERVABLES,
) -> SubmissionRequest:
    """Parse and validate a JSON submission (see the module docstring)."""
    registry = registry or TemplateRegistry.load()
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(
            f"The body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
            where=f"body, line {exc.lineno}, column {exc.colno}",
        ) from None
    report, template = _parse_report(doc, registry, _json_path)
    items = doc.get("observables")
    if items is None:
        raise InvalidInput(
            "observables is required: a list of the attack's IPs, domains, URLs...",
            where="observables",
        )
    if not isinstance(items, list):
        raise InvalidInput(
            f"observables must be a list, not {type(items).__name__}", where="observables"
        )
    if len(items) > max_observables:
        raise _too_many(len(items), max_observables, "observables")
    parser = _ObservableParser(template, _observable_where)
    allowed = OBSERVABLE_FIELDS
    for index, item in enumerate(items):
        if type(item) is not dict:
            parser.reject(index, None, "must be a JSON object")
        elif not allowed.issuperset(item):
            unknown = sorted(k for k in item if k not in allowed)[0]
            parser.reject(
                index,
                unknown,
                f"'{unknown}' is not a known field; expected one of: {', '.join(sorted(allowed))}",
            )
        else:
            parser.add(item, index)
    observables = parser.finish("observables", "give at least one in 'observables'")
    return SubmissionRequest(_with_observed(report, parser, "valid_until"), observables)


def _too_many(count: int, limit: int, where: str) -> PayloadTooLarge:
    more = "more than " if where == "body" else ""
    return PayloadTooLarge(
        f"the submission has {more}{count:,} observables; steppe accepts at most {limit:,} "
        "in one submission: split it into several",
        where=where,
    )


def _observable_where(index: int, field: str | None) -> str:
    return f"observables[{index}].{field}" if field else f"observables[{index}]"


# CSV: query parameter -> the JSON path it fills.
QUERY_PARAMETERS: dict[str, str] = {
    "kind": "attack.kind",
    "first_seen": "attack.first_seen",
    "last_seen": "attack.last_seen",
    "description": "attack.description",
    "tlp": "tlp",
    "confidence": "confidence",
    "collection": "collection",
    "title": "title",
    "valid_until": "valid_until",
    "campaign": "campaign.name",
    "objective": "campaign.objective",
    "source_name": "source.name",
    "source_url": "source.url",
    "target": "targets[0].name",
    "target_kind": "targets[0].kind",
    "target_country": "targets[0].country",
    "target_sector": "targets[0].sectors",
    "attribution": "attribution.name",
    "attribution_country": "attribution.country",
    "attribution_confidence": "attribution.confidence",
    "override_false_positives": "override_false_positives",
}
_PARAMETER_BY_PATH = {path: param for param, path in QUERY_PARAMETERS.items()}
_INTEGER_PARAMETERS = frozenset({"confidence", "attribution_confidence"})
_BOOLEAN_PARAMETERS = frozenset({"override_false_positives"})
_BOOLEAN_TEXT = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
# A path without its own parameter is named by the one that creates it.
_PARENT_PARAMETER = {
    "attack": "kind",
    "campaign": "campaign",
    "source": "source_name",
    "targets[0]": "target",
    "attribution": "attribution",
}

CSV_COLUMNS = frozenset(
    {"type", "value", "role", "asn", "country", "first_seen", "last_seen", "hash_type"}
)
_CSV_REQUIRED = ("type", "value")


def _parameter_name(path: str) -> str:
    probe = path
    while probe:
        param = _PARAMETER_BY_PATH.get(probe) or _PARENT_PARAMETER.get(probe)
        if param:
            return f"query parameter {param}"
        cut = max(probe.rfind("."), probe.rfind("["))
        if cut <= 0:
            break
        probe = probe[:cut]
    return f"query parameter {path}"


def _report_document(params: Mapping[str, str]) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for param, raw in params.items():
        path = QUERY_PARAMETERS.get(param)
        if path is None:
            raise InvalidInput(
                f"query parameter {param} is not known; expected some of: "
                + ", ".join(QUERY_PARAMETERS),
                where=f"query parameter {param}",
            )
        value: Any = raw
        if param in _INTEGER_PARAMETERS:
            try:
                value = bounds.whole_number(raw.strip(), 0, 100)
            except ValueError as exc:
                raise InvalidInput(
                    f"query parameter {param} {exc}", where=f"query parameter {param}"
                ) from None
        elif param in _BOOLEAN_PARAMETERS:
            value = _BOOLEAN_TEXT.get(raw.strip().lower())
            if value is None:
                raise InvalidInput(
                    f"query parameter {param} must be true or false, not {raw!r}",
                    where=f"query parameter {param}",
                )
        elif param == "target_sector":
            value = [s for s in raw.split(",") if s.strip()]
        node = doc
        parts = path.replace("[0]", ".0").split(".")
        for part, following in zip(parts, [*parts[1:], None], strict=True):
            if following is None:
                node[part] = value
            elif following == "0":
                node = node.setdefault(part, [{}])
            elif part == "0":
                node = node[0]
            else:
                node = node.setdefault(part, {})
    return doc


def parse_csv(
    body: bytes,
    params: Mapping[str, str],
    registry: TemplateRegistry | None = None,
    *,
    max_observables: int = bounds.MAX_OBSERVABLES,
) -> SubmissionRequest:
    """Parse and validate a CSV submission (see the module docstring)."""
    registry = registry or TemplateRegistry.load()
    if "kind" not in params:
        raise InvalidInput(
            "query parameter kind is required: say what kind of attack this is "
            f"({', '.join(registry.kinds())})",
            where="query parameter kind",
        )
    report, template = _parse_report(_report_document(params), registry, _parameter_name)
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"The CSV is not UTF-8 text (bad byte at offset {exc.start})", where="body"
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        while header is not None and not any(cell.strip() for cell in header):
            header = next(reader, None)
        if header is None:
            raise InvalidInput(
                "The CSV is empty; it needs a header row (type,value,...) and observables",
                where="header",
            )
        columns = _csv_columns(header, reader.line_num)
        parser = _ObservableParser(template, _csv_where)
        width = len(columns)
        end = reader.line_num  # rows are named by the line they start on
        rows = 0
        for row in reader:
            line, end = end + 1, reader.line_num
            if not row or not any(cell.strip() for cell in row):
                continue
            rows += 1
            if rows > max_observables:
                raise _too_many(max_observables, max_observables, "body")
            if len(row) > width:
                parser.reject(
                    line, None, f"the row has {len(row)} cells but the header has {width} columns"
                )
                continue
            item = {}
            for column, cell in zip(columns, row, strict=False):
                cell = cell.strip()
                if cell:
                    item[column] = cell
            parser.add(item, line)
    except csv.Error as exc:
        raise InvalidInput(
            f"The CSV is malformed at row {reader.line_num}: {exc}", where=f"row {reader.line_num}"
        ) from None
    observables = parser.finish("body", "the CSV needs at least one row after the header")
    return SubmissionRequest(
        _with_observed(report, parser, "query parameter valid_until"), observables
    )


def _csv_columns(header: Sequence[str], line: int) -> list[str]:
    columns = [cell.strip().lower() for cell in header]
    for position, column in enumerate(columns, start=1):
        if column not in CSV_COLUMNS:
            raise InvalidInput(
                f"The CSV header has an unknown column '{header[position - 1]}' (column "
                f"{position}); known columns: {', '.join(sorted(CSV_COLUMNS))}",
                where=f"header, column {header[position - 1].strip() or position}",
            )
        if columns.count(column) > 1:
            raise InvalidInput(
                f"The CSV header names column '{column}' twice", where=f"header, column {column}"
            )
    for required in _CSV_REQUIRED:
        if required not in columns:
            raise InvalidInput(
                f"The CSV header (row {line}) lacks the required column '{required}'; "
                "it needs at least: type,value",
                where=f"header, column {required}",
            )
    return columns


def _csv_where(line: int, field: str | None) -> str:
    if field is None:
        return f"row {line}"
    column = field.split(".", 1)[0]
    return f"row {line}, column {'value' if column == 'hashes' else column}"


# --------------------------------------------------------------------------
# Storage forms
# --------------------------------------------------------------------------


def report_to_dict(report: Report) -> dict[str, Any]:
    """A JSON-able dict of the report (kept in the submission's meta)."""
    return {
        "kind": report.kind,
        "tlp": report.tlp.name,
        "confidence": report.confidence,
        "source": None
        if report.source is None
        else {"name": report.source.name, "url": report.source.url},
        "first_seen": report.first_seen,
        "last_seen": report.last_seen,
        "description": report.description,
        "campaign": None
        if report.campaign is None
        else {
            "name": report.campaign.name,
            "objective": report.campaign.objective,
            "description": report.campaign.description,
        },
        "targets": [
            {
                "name": t.name,
                "kind": t.kind,
                "sectors": list(t.sectors),
                "country": t.country,
                "description": t.description,
            }
            for t in report.targets
        ],
        "attribution": None
        if report.attribution is None
        else {
            "name": report.attribution.name,
            "kind": report.attribution.kind,
            "country": report.attribution.country,
            "confidence": report.attribution.confidence,
            "description": report.attribution.description,
        },
        "collection": report.collection,
        "valid_until": report.valid_until,
        "title": report.title,
        "observed_first": report.observed_first,
        "observed_last": report.observed_last,
        "override_false_positives": report.override_false_positives,
    }


def report_from_dict(data: Mapping[str, Any]) -> Report:
    """The report report_to_dict() wrote."""
    source = data.get("source")
    campaign = data.get("campaign")
    attribution = data.get("attribution")
    return Report(
        kind=data["kind"],
        tlp=tlp_levels.level(data["tlp"]),
        confidence=data["confidence"],
        source=None if source is None else Source(**source),
        first_seen=data.get("first_seen"),
        last_seen=data.get("last_seen"),
        description=data.get("description"),
        campaign=None if campaign is None else Campaign(**campaign),
        targets=tuple(
            Target(**{**t, "sectors": tuple(t.get("sectors") or ())})
            for t in data.get("targets") or ()
        ),
        attribution=None if attribution is None else Attribution(**attribution),
        collection=data.get("collection"),
        valid_until=data.get("valid_until"),
        title=data.get("title"),
        observed_first=data.get("observed_first"),
        observed_last=data.get("observed_last"),
        override_false_positives=bool(data.get("override_false_positives", False)),
    )


def encode_observables(observables: Sequence[Observable]) -> bytes:
    """Compact bytes for a chunk of observables (one JSON array of rows)."""
    return orjson.dumps(
        [
            (o.type, o.value, o.hashes, o.role, o.asn, o.country, o.first_seen, o.last_seen)
            for o in observables
        ]
    )


def decode_observables(data: bytes) -> list[Observable]:
    """The observables encode_observables() wrote."""
    make = _make_observable
    return [
        make(
            obs_type,
            value,
            tuple((name, hex_value) for name, hex_value in hashes) if hashes else (),
            role,
            asn,
            country,
            first_seen,
            last_seen,
        )
        for obs_type, value, hashes, role, asn, country, first_seen, last_seen in orjson.loads(data)
    ]
