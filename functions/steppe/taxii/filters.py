"""TAXII URL query parameters (TAXII 2.1 sections 3.4 and 3.4.1), parsed and checked once.

Each endpoint accepts the parameters the specification lists for it:

  objects, manifest  added_after limit next match[id] match[type] match[version]
                     match[spec_version]
  object (GET)       added_after limit next match[version] match[spec_version]
  versions           added_after limit next match[spec_version]
  object (DELETE)    match[version] match[spec_version]

A malformed value, a parameter given twice, or a parameter the TAXII
specification defines but not for this endpoint is refused with 400 naming
it. Other parameters (match fields the specification does not define, cache
busters) are ignored, as section 3.4 allows.

The parsed filters map onto steppe.store.port.ObjectQuery: values inside one
filter are ORed, filters are ANDed, exactly as the store combines them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from steppe.errors import InvalidInput
from steppe.stix.bounds import shown, whole_number
from steppe.stix.timestamps import TimestampError, format_stix, parse_micros
from steppe.store.port import ALL_VERSIONS, LAST, ObjectQuery, VersionFilter

# The largest page steppe serves, in records; a larger `limit` is served with this many.
MAX_PAGE = 1000
# Bodies of one page stop before this many bytes: a synchronous Lambda response is at
# most 6 MB, and the body travels JSON-escaped inside it.
MAX_PAGE_BYTES = 4_000_000
# The largest `limit` accepted (and served as MAX_PAGE): clients send 2**31 - 1 and the like.
MAX_LIMIT = 2**63 - 1
# match[id] reads each named object on its own; more ids than this belong in several requests.
MAX_IDS = 100

_STIX_ID = re.compile(
    r"^[a-z0-9][a-z0-9-]*--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
_STIX_TYPE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_SPEC_VERSION = re.compile(r"^\d+\.\d+$")


class Endpoint(StrEnum):
    OBJECTS = "objects"
    MANIFEST = "manifest"
    OBJECT = "object"
    VERSIONS = "versions"
    DELETE = "delete"


ADDED_AFTER = "added_after"
LIMIT = "limit"
NEXT = "next"
MATCH_ID = "match[id]"
MATCH_TYPE = "match[type]"
MATCH_VERSION = "match[version]"
MATCH_SPEC_VERSION = "match[spec_version]"

TAXII_PARAMETERS = (
    ADDED_AFTER,
    LIMIT,
    NEXT,
    MATCH_ID,
    MATCH_TYPE,
    MATCH_VERSION,
    MATCH_SPEC_VERSION,
)
_PAGING = (ADDED_AFTER, LIMIT, NEXT)
SUPPORTED: dict[Endpoint, tuple[str, ...]] = {
    Endpoint.OBJECTS: TAXII_PARAMETERS,
    Endpoint.MANIFEST: TAXII_PARAMETERS,
    Endpoint.OBJECT: (*_PAGING, MATCH_VERSION, MATCH_SPEC_VERSION),
    Endpoint.VERSIONS: (*_PAGING, MATCH_SPEC_VERSION),
    Endpoint.DELETE: (MATCH_VERSION, MATCH_SPEC_VERSION),
}
# What match[version] means when the request does not say (section 3.4.1: last). The
# versions endpoint lists every version; a DELETE without match[version] deletes the
# object, that is every version of it (section 5.7: "deletes an object").
DEFAULT_VERSIONS: dict[Endpoint, VersionFilter] = {
    Endpoint.OBJECTS: LAST,
    Endpoint.MANIFEST: LAST,
    Endpoint.OBJECT: LAST,
    Endpoint.VERSIONS: ALL_VERSIONS,
    Endpoint.DELETE: ALL_VERSIONS,
}


@dataclass(frozen=True, slots=True)
class Filters:
    """What a request selects, apart from paging. Equal filters select the same records."""

    added_after: int | None = None
    ids: frozenset[str] | None = None
    types: frozenset[str] | None = None
    versions: VersionFilter = LAST
    spec_versions: frozenset[str] | None = None

    def to_token(self) -> dict[str, object]:
        """A compact, canonical JSON-able form (paging tokens carry it)."""
        data: dict[str, object] = {}
        if self.added_after is not None:
            data["a"] = self.added_after
        if self.ids is not None:
            data["i"] = sorted(self.ids)
        if self.types is not None:
            data["t"] = sorted(self.types)
        v = self.versions
        data["v"] = [int(v.all), int(v.first), int(v.last), sorted(v.exact)]
        if self.spec_versions is not None:
            data["s"] = sorted(self.spec_versions)
        return data

    @classmethod
    def from_token(cls, data: Mapping[str, object]) -> Filters:
        """The inverse of to_token; ValueError/TypeError/KeyError on anything else."""
        all_, first, last, exact = data["v"]  # type: ignore[misc]
        return cls(
            added_after=None if data.get("a") is None else int(data["a"]),  # type: ignore[arg-type]
            ids=_strings(data.get("i")),
            types=_strings(data.get("t")),
            versions=VersionFilter(
                all=bool(all_),
                first=bool(first),
                last=bool(last),
                exact=frozenset(int(x) for x in exact),
            ),
            spec_versions=_strings(data.get("s")),
        )

    def query(
        self,
        *,
        max_tlp: int | None,
        after: int | None = None,
        limit: int = MAX_PAGE,
        with_body: bool = True,
        object_id: str | None = None,
        active_at: int | None = None,
    ) -> ObjectQuery:
        """The store query for these filters (object_id: the object endpoints' {object-id}).

        active_at: serve only versions active at this instant (an active_only
        collection's reads); it is the collection's setting, not a filter of the
        request, so paging tokens do not carry it.
        """
        return ObjectQuery(
            added_after=self.added_after,
            after=after,
            ids=frozenset({object_id}) if object_id is not None else self.ids,
            types=self.types,
            versions=self.versions,
            # TAXII's default when match[spec_version] is absent is the latest spec
            # version of each object. steppe stores one spec version per object version
            # (what its writer sent: 2.1 for everything steppe accepts over TAXII and
            # produces itself), so "no filter" returns exactly that.
            spec_versions=self.spec_versions,
            max_tlp=max_tlp,
            active_at=active_at,
            limit=limit,
            max_bytes=MAX_PAGE_BYTES if with_body else None,
            with_body=with_body,
            joined=with_body,
        )


def _strings(value: object) -> frozenset[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("expected a list of strings")
    return frozenset(value)


@dataclass(frozen=True, slots=True)
class Selection:
    """A parsed request: its filters, whether it sent any, its page size and next token."""

    filters: Filters
    filters_given: bool
    limit: int
    next: str | None


def single_values(params: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Each TAXII parameter's one value; 400 naming any that is given more than once."""
    values = {}
    for name, given in params.items():
        if name not in TAXII_PARAMETERS:
            continue
        if len(given) != 1:
            raise InvalidInput(
                f"the query parameter {name} is given {len(given)} times; TAXII allows it once "
                "(put several values in one, separated by commas)",
                where=name,
            )
        values[name] = given[0]
    return values


def parse(params: Mapping[str, Sequence[str]], endpoint: Endpoint) -> Selection:
    """The filters, limit and next token of a request to `endpoint`, or InvalidInput (400)."""
    values = single_values(params)
    supported = SUPPORTED[endpoint]
    for name in values:
        if name not in supported:
            raise InvalidInput(
                f"the query parameter {name} is not supported by the {endpoint.value} endpoint; "
                f"it takes {', '.join(supported)}",
                where=name,
            )
    filters = Filters(
        added_after=_added_after(values[ADDED_AFTER]) if ADDED_AFTER in values else None,
        ids=_ids(values[MATCH_ID]) if MATCH_ID in values else None,
        types=_types(values[MATCH_TYPE]) if MATCH_TYPE in values else None,
        versions=(
            parse_versions(values[MATCH_VERSION])
            if MATCH_VERSION in values
            else DEFAULT_VERSIONS[endpoint]
        ),
        spec_versions=(
            _spec_versions(values[MATCH_SPEC_VERSION]) if MATCH_SPEC_VERSION in values else None
        ),
    )
    next_token = values.get(NEXT)
    if next_token is not None and not next_token:
        raise InvalidInput("the query parameter next is empty", where=NEXT)
    return Selection(
        filters=filters,
        filters_given=any(name not in (LIMIT, NEXT) for name in values),
        limit=_limit(values[LIMIT]) if LIMIT in values else MAX_PAGE,
        next=next_token,
    )


# -- one parameter each ------------------------------------------------------------


def _items(name: str, value: str) -> list[str]:
    items = value.split(",")
    if not value or any(not item for item in items):
        raise InvalidInput(
            f"the query parameter {name} has an empty value; give one or more values separated "
            "by commas, without spaces",
            where=name,
        )
    return items


def _added_after(value: str) -> int:
    try:
        return parse_micros(value)
    except TimestampError as error:
        raise InvalidInput(
            f"the query parameter added_after must be a timestamp such as "
            f"2009-01-18T00:00:00.000000Z: {error}",
            where=ADDED_AFTER,
        ) from None


def _limit(value: str) -> int:
    """A page size: any whole number from 1 (larger ones are served MAX_PAGE records)."""
    try:
        limit = whole_number(value, 1, MAX_LIMIT)
    except ValueError:
        raise InvalidInput(
            f"the query parameter limit must be a whole number from 1 to {MAX_LIMIT:,} "
            f"(at most {MAX_PAGE:,} records are served per page), not {shown(value)}",
            where=LIMIT,
        ) from None
    return min(limit, MAX_PAGE)


def _ids(value: str) -> frozenset[str]:
    items = _items(MATCH_ID, value)
    for item in items:
        if not _STIX_ID.match(item):
            raise InvalidInput(
                f"the query parameter match[id] holds {shown(item)}, which is not a STIX id "
                "(<type>--<UUID>)",
                where=MATCH_ID,
            )
    ids = frozenset(items)
    if len(ids) > MAX_IDS:
        raise InvalidInput(
            f"the query parameter match[id] names {len(ids)} ids; ask for at most {MAX_IDS} "
            "per request",
            where=MATCH_ID,
        )
    return ids


def _types(value: str) -> frozenset[str]:
    items = _items(MATCH_TYPE, value)
    for item in items:
        if not _STIX_TYPE.match(item):
            raise InvalidInput(
                f"the query parameter match[type] holds {shown(item)}, which is not a STIX type "
                "(lower-case letters, digits and hyphens)",
                where=MATCH_TYPE,
            )
    return frozenset(items)


def _spec_versions(value: str) -> frozenset[str]:
    items = _items(MATCH_SPEC_VERSION, value)
    for item in items:
        if not _SPEC_VERSION.match(item):
            raise InvalidInput(
                f"the query parameter match[spec_version] holds {shown(item)}, which is not a "
                "specification version such as 2.1",
                where=MATCH_SPEC_VERSION,
            )
    return frozenset(items)


def parse_versions(value: str) -> VersionFilter:
    """match[version]: all, or any of first, last and exact STIX timestamps, each at most once."""
    items = _items(MATCH_VERSION, value)
    keywords: set[str] = set()
    exact: dict[int, str] = {}
    for item in items:
        if item in ("all", "first", "last"):
            if item in keywords:
                raise InvalidInput(
                    f"the query parameter match[version] names '{item}' twice",
                    where=MATCH_VERSION,
                )
            keywords.add(item)
            continue
        try:
            micros = parse_micros(item)
        except TimestampError as error:
            raise InvalidInput(
                "the query parameter match[version] takes all, first, last or STIX timestamps "
                f"such as 2009-01-18T00:00:00.000Z: {error}",
                where=MATCH_VERSION,
            ) from None
        if micros in exact:
            raise InvalidInput(
                f"the query parameter match[version] names the version {format_stix(micros)} twice",
                where=MATCH_VERSION,
            )
        exact[micros] = item
    if "all" in keywords and len(items) > 1:
        raise InvalidInput(
            "the query parameter match[version] cannot combine 'all' with other versions",
            where=MATCH_VERSION,
        )
    return VersionFilter(
        all="all" in keywords,
        first="first" in keywords,
        last="last" in keywords,
        exact=frozenset(exact),
    )
