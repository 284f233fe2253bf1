"""The admin API's bodies and parameters, as pydantic models.

The admin handlers and the CLI parse every input through these (see
`parse`), so both refuse the same things with the same sentences; the
OpenAPI document at /api/v1/openapi.json is generated from them. Every
refusal is an InvalidInput (400) whose `where` names the field or parameter.

Size limits: names 64 characters, collection titles 200, descriptions
10,000, collection lists 1,000 entries, the audit limit 1,000 records.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from steppe.access.caller import ROLES
from steppe.access.feed_definitions import (
    DEFAULT_MAX_ENTRIES,
    DEFAULT_TLP,
    FEED_TYPES,
    FORMATS,
    MAX_ENTRIES,
    types_problem,
)
from steppe.access.partners import MAX_NAME, NAME_PATTERN, name_problem
from steppe.errors import InvalidInput
from steppe.stix import tlp
from steppe.stix.timestamps import parse_micros

MAX_TITLE = 200
MAX_DESCRIPTION = 10_000
MAX_ALIAS = 100
MAX_REFS = 1000
MAX_AUDIT = 1000
# Names stored before names had a pattern were up to 100 characters: a path
# may still name such a partner, to show, rotate, revoke or delete it.
MAX_LEGACY_NAME = 100

TlpName = Literal["clear", "green", "amber", "amber+strict", "red"]
RoleName = Literal["admin", "analyst", "partner"]
assert set(RoleName.__args__) == set(ROLES)  # type: ignore[attr-defined]
FormatName = Literal["text", "csv", "stix", "suricata-iprep", "suricata-dataset", "zeek", "misp"]
assert FormatName.__args__ == tuple(FORMATS)  # type: ignore[attr-defined]
FeedType = Literal["ipv4-addr", "ipv6-addr", "domain-name", "url", "file", "email-addr"]
assert FeedType.__args__ == FEED_TYPES  # type: ignore[attr-defined]


def _tlp_name(value: object) -> object:
    """'TLP:AMBER', 'Amber' and 'white' as the level names; anything else left to refuse."""
    if isinstance(value, str):
        try:
            return tlp.level(value).name
        except ValueError:
            return value
    return value


def _new_name(value: str) -> str:
    problem = name_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def _new_feed_name(value: str) -> str:
    problem = name_problem(value, "feed")
    if problem is not None:
        raise ValueError(problem)
    return value


def _stripped_title(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("a collection title is not blank")
    return value


Tlp = Annotated[TlpName, BeforeValidator(_tlp_name)]
# The pattern is checked by _new_name (with a sentence a person can act on); the
# schema states it for clients and schema-driven tests.
PartnerName = Annotated[
    str,
    Field(
        description="letters, digits and '.', '-', '_', '@', starting with a letter or digit; "
        "not a reserved word such as None or null",
        json_schema_extra={"pattern": NAME_PATTERN, "minLength": 1, "maxLength": MAX_NAME},
    ),
    AfterValidator(_new_name),
]
FeedName = Annotated[
    str,
    Field(
        description="letters, digits and '.', '-', '_', '@', starting with a letter or digit; "
        "not a reserved word such as None or null",
        json_schema_extra={"pattern": NAME_PATTERN, "minLength": 1, "maxLength": MAX_NAME},
    ),
    AfterValidator(_new_feed_name),
]
CollectionRef = Annotated[
    str, Field(min_length=1, max_length=MAX_TITLE, description="a collection id or title")
]
CollectionRefs = Annotated[list[CollectionRef], Field(max_length=MAX_REFS)]
Title = Annotated[str, Field(min_length=1, max_length=MAX_TITLE), AfterValidator(_stripped_title)]
Description = Annotated[str, Field(max_length=MAX_DESCRIPTION)]
Alias = Annotated[str, Field(max_length=MAX_ALIAS)]


class _Body(BaseModel):
    # strict: a number is not a name, a string is not a boolean; forbid: a typo is an
    # error, not a field silently dropped.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class PartnerCreate(_Body):
    """POST /api/v1/admin/partners"""

    name: PartnerName
    role: RoleName = "partner"
    tlp: Tlp | None = Field(
        default=None, description="clearance; default red for staff, green for partners"
    )
    read: CollectionRefs = Field(default_factory=list, description="collections it may read")
    write: CollectionRefs = Field(default_factory=list, description="collections it may write")


class PartnerUpdate(_Body):
    """PATCH /api/v1/admin/partners/{name}: only the fields given change."""

    role: RoleName | None = None
    tlp: Tlp | None = None
    read: CollectionRefs | None = None
    write: CollectionRefs | None = None


class CollectionCreate(_Body):
    """POST /api/v1/admin/collections"""

    title: Title
    description: Description = ""
    alias: Alias | None = None
    unmarked_tlp: Tlp = Field(default="green", description="the TLP of objects posted unmarked")
    active_only: bool = Field(
        default=False, description="serve only objects neither revoked nor expired"
    )


class CollectionUpdate(_Body):
    """PATCH /api/v1/admin/collections/{collection}: only the fields given change."""

    title: Title | None = None
    description: Description | None = None
    alias: Alias | None = Field(default=None, description="'' or null clears it")
    unmarked_tlp: Tlp | None = None
    active_only: bool | None = None


class FeedCreate(_Body):
    """POST /api/v1/admin/feeds"""

    name: FeedName
    format: FormatName
    collections: CollectionRefs = Field(
        default_factory=list,
        description="collections it serves from (ids or titles); default the default collection",
    )
    tlp: Tlp = Field(default=DEFAULT_TLP, description="the highest TLP it serves")
    types: Annotated[list[FeedType], Field(min_length=1, max_length=len(FEED_TYPES))] | None = (
        Field(default=None, description="observable types; default all the format carries")
    )
    min_score: Annotated[int, Field(ge=0, le=100)] = Field(
        default=0, description="serve only indicators scoring at least this"
    )
    max_entries: Annotated[int, Field(ge=1, le=MAX_ENTRIES)] = Field(
        default=DEFAULT_MAX_ENTRIES, description="at most this many entries, highest score first"
    )

    @field_validator("types")
    @classmethod
    def _format_carries(cls, types: list[str] | None, info: ValidationInfo) -> list[str] | None:
        if types is None:
            return None
        if len(set(types)) != len(types):
            raise ValueError("a type is listed twice")
        format_name = info.data.get("format")
        if format_name is not None:
            problem = types_problem(format_name, types)
            if problem is not None:
                raise ValueError(problem)
        return types


def _timestamp(value: str | None) -> str | None:
    if value is not None:
        parse_micros(value)  # ValueError names what is wrong
    return value


Timestamp = Annotated[
    str | None,
    Field(default=None, max_length=64, description="RFC 3339, e.g. 2026-11-25T00:00:00Z"),
    AfterValidator(_timestamp),
]


class AuditQuery(BaseModel):
    """GET /api/v1/admin/audit query parameters (strings, as a URL carries them)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    since: Timestamp = None
    until: Timestamp = None
    partner: Annotated[str | None, Field(max_length=MAX_LEGACY_NAME)] = None
    partner_id: Annotated[str | None, Field(max_length=64)] = None
    limit: Annotated[int, Field(ge=1, le=MAX_AUDIT)] = 100

    @property
    def since_micros(self) -> int | None:
        return None if self.since is None else parse_micros(self.since)

    @property
    def until_micros(self) -> int | None:
        return None if self.until is None else parse_micros(self.until)


class PartnerPath(BaseModel):
    """The {name} of /api/v1/admin/partners/{name}."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(min_length=1, max_length=MAX_LEGACY_NAME)]


class FeedPath(BaseModel):
    """The {name} of /api/v1/admin/feeds/{name}."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(min_length=1, max_length=MAX_NAME)]


class CollectionPath(BaseModel):
    """The {collection_id} of /api/v1/admin/collections/{collection_id}: its id or title."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    collection_id: CollectionRef


M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], data: Mapping[str, Any], *, prefix: str = "", noun: str = "field") -> M:
    """`data` as a `model`, or InvalidInput naming the first field at fault (all in `errors`)."""
    try:
        return model.model_validate(dict(data))
    except ValidationError as error:
        allowed = ", ".join(model.model_fields)
        problems = [
            _problem(entry, prefix, allowed, noun) for entry in error.errors(include_url=False)
        ]
        first = problems[0]
        raise InvalidInput(
            str(first["message"]), where=str(first["where"]), errors=problems
        ) from None


def _problem(entry: Mapping[str, Any], prefix: str, allowed: str, noun: str) -> dict[str, object]:
    where = prefix
    for part in entry.get("loc", ()):
        if isinstance(part, int):
            where += f"[{part}]"
        elif part not in ("function-after", "function-before") and not str(part).startswith(
            ("literal[", "function-")
        ):
            where += f".{part}" if where else str(part)
    where = where or "body"
    kind = entry.get("type", "")
    field = where.rsplit(".", 1)[-1]
    if kind == "extra_forbidden":
        message = f"unknown {noun} '{field}'; allowed: {allowed}"
    elif kind == "missing":
        message = f"the {noun} '{field}' is required"
    else:
        text = str(entry.get("msg", "is not valid"))
        text = text.removeprefix("Value error, ")
        message = f"{where}: {text}"
    return {"where": where, "message": message}
