"""One observable's fields, checked against its kind's template, and repeats merged.

Shared by the JSON and the CSV forms of a report (report_json, report_csv):
each hands ObservableParser one mapping per observable (a JSON object, a CSV
row by column name) and a `where` that names a position and field the way its
form does ("observables[12].value", "row 14, column country"). Values are
normalised on the way in, and observables repeated with the same type, value
and role are merged into one (first_seen the earliest, last_seen the latest).
When several observables are bad, the first MAX_LISTED_ERRORS are listed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from steppe.errors import InvalidInput, PayloadTooLarge
from steppe.observables import normalize as values
from steppe.observables.model import Observable, make_observable
from steppe.observables.normalize import (
    HASH_BY_LENGTH,
    asn_value,
    country_value,
    hash_name,
    hash_value,
    time_value,
)
from steppe.stix.countries import COUNTRY_NAMES
from steppe.stix.timestamps import format_stix
from steppe.templates.template_schema import IP_TYPES, OBSERVABLE_TYPES, Template

MAX_LISTED_ERRORS = 20

_NORMALIZERS = values.NORMALIZERS
assert set(_NORMALIZERS) | {"file"} == set(OBSERVABLE_TYPES)
_TIME_CACHE = values.TIME_CACHE
_CANONICAL_IPV4_MATCH = values.CANONICAL_IPV4_MATCH
MAX_ASN = values.MAX_ASN


class FieldError(Exception):
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

    Raises FieldError naming the sub-field at fault.
    """
    if hashes is not None:
        if value is not None:
            raise FieldError("value", "give a file's hashes in 'hashes' or in 'value', not both")
        if not isinstance(hashes, dict) or not hashes:
            raise FieldError("hashes", 'hashes must be an object like {"SHA-256": "<hex>"}')
        pairs: dict[str, str] = {}
        for raw_name, raw_value in hashes.items():
            try:
                name = hash_name(raw_name)
            except ValueError as exc:
                raise FieldError(f"hashes.{raw_name}", str(exc)) from None
            if not isinstance(raw_value, str):
                raise FieldError(f"hashes.{raw_name}", "a hash must be a string of hex digits")
            try:
                pairs[name] = hash_value(name, raw_value)
            except ValueError as exc:
                raise FieldError(f"hashes.{raw_name}", str(exc)) from None
        return tuple(sorted(pairs.items()))
    if not isinstance(value, str) or not value.strip():
        raise FieldError("hashes", "a file needs its hashes (or a hex hash in 'value')")
    if hash_type is None:
        name = HASH_BY_LENGTH.get(len(value.strip()))
        if name is None:
            raise FieldError(
                "value",
                f"cannot tell the algorithm of a {len(value.strip())}-digit hash; give hash_type",
            )
    else:
        if not isinstance(hash_type, str):
            raise FieldError("hash_type", "hash_type must be a string such as SHA-256")
        try:
            name = hash_name(hash_type)
        except ValueError as exc:
            raise FieldError("hash_type", str(exc)) from None
    try:
        return ((name, hash_value(name, value)),)
    except ValueError as exc:
        raise FieldError("value", str(exc)) from None


OBSERVABLE_FIELDS = frozenset(
    {"type", "value", "hashes", "hash_type", "role", "asn", "country", "first_seen", "last_seen"}
)


class ObservableParser:
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
        except FieldError as exc:
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
                raise FieldError("type", "type is required")
            raise FieldError("type", self._type_message(obs_type))
        role_name = get("role")
        if role_name is None:
            role = self.default_roles[obs_type]
        else:
            role = self.roles_by_type.get((role_name, obs_type)) if type(role_name) is str else None
            if role is None:
                raise FieldError("role", self._role_message(role_name, obs_type))
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
                raise FieldError("asn", "only IP addresses (ipv4-addr, ipv6-addr) have an asn")
            if type(asn) is not int or not 0 <= asn <= MAX_ASN:
                try:
                    asn = asn_value(asn)
                except ValueError as exc:
                    raise FieldError("asn", str(exc)) from None
        country = get("country")
        if country is not None and (type(country) is not str or country not in COUNTRY_NAMES):
            try:
                country = country_value(country)
            except ValueError as exc:
                raise FieldError("country", str(exc)) from None
        first_seen = get("first_seen")
        if first_seen is not None:
            try:
                first_seen = _TIME_CACHE.get(first_seen) or time_value(first_seen)
            except (ValueError, TypeError) as exc:
                raise FieldError("first_seen", _time_message(first_seen, exc)) from None
        last_seen = get("last_seen")
        if last_seen is not None:
            try:
                last_seen = _TIME_CACHE.get(last_seen) or time_value(last_seen)
            except (ValueError, TypeError) as exc:
                raise FieldError("last_seen", _time_message(last_seen, exc)) from None
            if first_seen is not None and last_seen < first_seen:
                raise FieldError(
                    "last_seen",
                    f"last_seen ({format_stix(last_seen)}) is before first_seen "
                    f"({format_stix(first_seen)})",
                )
        return make_observable(obs_type, value, hashes, role, asn, country, first_seen, last_seen)

    @staticmethod
    def _value(obs_type: str, value: object, get: Callable[[str], Any]) -> str:
        for field in ("hashes", "hash_type"):
            if get(field) is not None:
                raise FieldError(field, f"only file observables have {field}")
        if type(value) is not str:
            if value is None:
                raise FieldError("value", "value is required")
            raise FieldError("value", f"value must be a string, not {type(value).__name__}")
        value = value.strip()
        if not value:
            raise FieldError("value", "value is empty")
        try:
            return _NORMALIZERS[obs_type](value)
        except ValueError as exc:
            raise FieldError("value", str(exc)) from None

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
    return make_observable(
        kept.type,
        kept.value,
        kept.hashes,
        kept.role,
        kept.asn if kept.asn is not None else repeat.asn,
        kept.country or repeat.country,
        first,
        last,
    )


def too_many(count: int, limit: int, where: str) -> PayloadTooLarge:
    """The error of a submission with more observables than one may carry."""
    more = "more than " if where == "body" else ""
    return PayloadTooLarge(
        f"the submission has {more}{count:,} observables; steppe accepts at most {limit:,} "
        "in one submission: split it into several",
        where=where,
    )
