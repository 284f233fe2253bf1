"""The malware and tools a report names (its `malware` and `tools` lists), checked.

Shared by the JSON form and the CSV form (whose query parameters fill
`malware[0]` and `tools[0]`, see report_query). Each entry:

    {"name": "...", "aliases": ["..."], "family": "...", "is_family": true,
     "types": ["bot", "ddos"], "samples": [{"SHA-256": "<hex>"}],
     "c2": [{"type": "domain-name", "value": "c2.example.net"}],
     "description": "..."}

Only `name` is required. `family` names the family of a malware instance
(is_family then defaults to false; is_family true with a family is refused);
tools have neither. `types` come from STIX's malware-type-ov or tool-type-ov.
Samples take the hashes a file observable takes; C2 values are ipv4-addr,
ipv6-addr, domain-name or url. Bounds: MAX_TOOLS entries in each list,
MAX_ALIASES aliases, MAX_SAMPLES samples and MAX_C2 C2 values per entry, names
of MAX_TOOL_NAME characters. Two entries of one list naming the same malware
(the same family_key) are refused.

A file observable with the `sample` role is a sample of the report's only
malware, else (no malware) of its only tool: `with_sample_observables` adds it
to that entry's samples. With several, or none, it stays an observable alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from steppe.errors import InvalidInput
from steppe.observables.model import Observable, Report, Tool, make_observable
from steppe.observables.normalize import NORMALIZERS
from steppe.observables.observable_checks import FieldError, file_hashes
from steppe.observables.report_fields import MAX_TEXT, Fields
from steppe.observables.tool_names import MAX_ALIASES, MAX_TOOL_NAME, family_key
from steppe.stix import vocab
from steppe.templates.template_schema import SAMPLE_ROLE

MAX_TOOLS = 16  # entries in `malware`, and in `tools`
MAX_SAMPLES = 100  # samples of one malware or tool (given under it or as sample observables)
MAX_C2 = 100  # C2 values of one malware or tool

_MALWARE_FIELDS = frozenset(
    {"name", "aliases", "family", "is_family", "types", "samples", "c2", "description"}
)
_TOOL_FIELDS = frozenset({"name", "aliases", "types", "samples", "c2", "description"})
_C2_FIELDS = frozenset({"type", "value"})
C2_TYPES = ("ipv4-addr", "ipv6-addr", "domain-name", "url")


def parse_tools(doc: object, name: Callable[[str], str]) -> tuple[Tool, ...]:
    """The report's malware then its tools, from the document's `malware` and `tools` lists."""
    if not isinstance(doc, dict):
        return ()
    found: list[Tool] = []
    for category, key, allowed in (
        ("malware", "malware", _MALWARE_FIELDS),
        ("tool", "tools", _TOOL_FIELDS),
    ):
        items = doc.get(key)
        if items is None:
            continue
        if not isinstance(items, list):
            raise InvalidInput(
                f"{name(key)} must be a list, not {type(items).__name__}", where=name(key)
            )
        if len(items) > MAX_TOOLS:
            raise InvalidInput(
                f"{name(key)} has {len(items)} entries; a report names at most {MAX_TOOLS}",
                where=name(key),
            )
        keys: dict[str, int] = {}
        for index, item in enumerate(items):
            path = f"{key}[{index}]"
            tool = _tool(Fields(item, path, allowed, name), category)
            known = keys.setdefault(family_key(tool.name), index)
            if known != index:
                where = name(f"{path}.name")
                raise InvalidInput(
                    f"{where}: '{tool.name}' names the same {category} as {key}[{known}]; "
                    "give its other spellings as aliases",
                    where=where,
                )
            found.append(tool)
    return tuple(found)


def _tool(fields: Fields, category: str) -> Tool:
    tool_name = fields.convert("name", _tool_name)
    if tool_name is None:
        raise fields.fail("name", "this field is required")
    aliases = _aliases(fields, tool_name)
    family = fields.convert("family", _tool_name)
    is_family = fields.boolean("is_family")
    if is_family is None:
        is_family = family is None
    elif is_family and family is not None:
        raise fields.fail("family", "only a malware instance (is_family false) has a family")
    allowed = vocab.MALWARE_TYPES if category == "malware" else vocab.TOOL_TYPES
    types = []
    for position, raw in enumerate(fields.items("types")):
        try:
            types.append(_vocab_value(raw, allowed, f"{category}-type-ov"))
        except ValueError as exc:
            raise fields.fail(f"types[{position}]", str(exc)) from None
    return Tool(
        category=category,
        name=tool_name,
        aliases=aliases,
        family=family,
        is_family=is_family,
        types=tuple(dict.fromkeys(types)),
        samples=_samples(fields),
        c2=_c2(fields),
        description=fields.text("description", limit=MAX_TEXT),
    )


def _tool_name(value: str) -> str:
    if len(value) > MAX_TOOL_NAME:
        raise ValueError(f"is longer than {MAX_TOOL_NAME} characters")
    family_key(value)
    return value


def _aliases(fields: Fields, tool_name: str) -> tuple[str, ...]:
    items = fields.items("aliases")
    if len(items) > MAX_ALIASES:
        raise fields.fail("aliases", f"has {len(items)} aliases; at most {MAX_ALIASES}")
    aliases: list[str] = []
    for position, raw in enumerate(items):
        if not isinstance(raw, str) or not raw.strip():
            raise fields.fail(f"aliases[{position}]", "must be a non-empty string")
        try:
            alias = _tool_name(raw.strip())
        except ValueError as exc:
            raise fields.fail(f"aliases[{position}]", str(exc)) from None
        if alias != tool_name and alias not in aliases:
            aliases.append(alias)
    return tuple(aliases)


def _vocab_value(raw: object, allowed: frozenset[str], what: str) -> str:
    if not isinstance(raw, str):
        raise ValueError(f"must be a string, not {type(raw).__name__}")
    value = re.sub(r"[\s_]+", "-", raw.strip().lower())
    if value not in allowed:
        raise ValueError(f"'{raw}' is not in {what}; use one of: {', '.join(sorted(allowed))}")
    return value


def _samples(fields: Fields) -> tuple[tuple[tuple[str, str], ...], ...]:
    items = fields.items("samples")
    if len(items) > MAX_SAMPLES:
        raise fields.fail("samples", f"has {len(items)} samples; at most {MAX_SAMPLES}")
    samples: dict[tuple[tuple[str, str], ...], None] = {}
    for position, raw in enumerate(items):
        try:
            samples[file_hashes(raw, None, None)] = None
        except FieldError as exc:
            sub = (exc.field or "").removeprefix("hashes").lstrip(".")
            where = f"samples[{position}]" + (f".{sub}" if sub else "")
            message = exc.message
            if exc.field == "hashes":
                message = 'a sample is an object of its hashes, like {"SHA-256": "<hex>"}'
            raise fields.fail(where, message) from None
    return tuple(samples)


def _c2(fields: Fields) -> tuple[tuple[str, str], ...]:
    items = fields.items("c2")
    if len(items) > MAX_C2:
        raise fields.fail("c2", f"has {len(items)} values; at most {MAX_C2}")
    values: dict[tuple[str, str], None] = {}
    for position, raw in enumerate(items):
        entry = Fields(raw, f"{fields.path}.c2[{position}]", _C2_FIELDS, fields.name)
        c2_type = entry.text("type", required=True)
        if c2_type not in C2_TYPES:
            raise entry.fail(
                "type", f"'{c2_type}' is not a C2 type; use one of: {', '.join(C2_TYPES)}"
            )
        value = entry.convert("value", NORMALIZERS[c2_type])
        if value is None:
            raise entry.fail("value", "this field is required")
        values[(c2_type, value)] = None
    return tuple(values)


def tool_observables(tools: Sequence[Tool]) -> list[Observable]:
    """The samples and C2 values of the tools as observables (what false positives are
    looked up by, like the report's own observables)."""
    found: list[Observable] = []
    for tool in tools:
        for hashes in tool.samples:
            found.append(make_observable("file", None, hashes, SAMPLE_ROLE, *_NOTHING))
        for c2_type, value in tool.c2:
            found.append(make_observable(c2_type, value, (), "c2", *_NOTHING))
    return found


_NOTHING = (None, None, None, None)


def sample_owner(tools: Sequence[Tool]) -> int | None:
    """The position of the tool a `sample` file observable belongs to: the only malware,
    else (no malware) the only tool; None when that is not one entry."""
    malware = [i for i, tool in enumerate(tools) if tool.category == "malware"]
    if malware:
        return malware[0] if len(malware) == 1 else None
    return 0 if len(tools) == 1 else None


def with_sample_observables(
    report: Report, observables: Sequence[Observable], where: str
) -> Report:
    """The report with its `sample` file observables among its owner's samples (see above).

    where: what an error names (the observables' list or the CSV body).
    """
    owner = sample_owner(report.tools)
    if owner is None:
        return report
    tool = report.tools[owner]
    samples = dict.fromkeys(tool.samples)
    for observable in observables:
        if observable.role == SAMPLE_ROLE and observable.type == "file":
            samples[observable.hashes] = None
    if len(samples) == len(tool.samples):
        return report
    if len(samples) > MAX_SAMPLES:
        raise InvalidInput(
            f"the {tool.category} '{tool.name}' has {len(samples)} samples with the sample "
            f"observables; at most {MAX_SAMPLES}",
            where=where,
        )
    tools: list[Any] = list(report.tools)
    tools[owner] = replace(tool, samples=tuple(samples))
    return replace(report, tools=tuple(tools))
