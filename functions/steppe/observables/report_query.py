"""The report part of a CSV submission, given as query parameters.

Each parameter fills one field of the JSON form's report (QUERY_PARAMETERS),
so the same checks apply (report_fields.parse_report); errors then name the
parameter ("query parameter tlp") rather than the JSON path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from steppe.errors import InvalidInput
from steppe.stix import bounds

# Query parameter -> the JSON path it fills.
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
    "malware": "malware[0].name",
    "malware_family": "malware[0].family",
    "malware_aliases": "malware[0].aliases",
    "malware_types": "malware[0].types",
    "malware_description": "malware[0].description",
    "tool": "tools[0].name",
    "tool_aliases": "tools[0].aliases",
    "tool_types": "tools[0].types",
    "tool_description": "tools[0].description",
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
    "malware[0]": "malware",
    "tools[0]": "tool",
}
# Comma-separated lists.
_LIST_PARAMETERS = frozenset(
    {"target_sector", "malware_aliases", "malware_types", "tool_aliases", "tool_types"}
)


def parameter_name(path: str) -> str:
    """What an error names for a JSON path: the query parameter that fills it."""
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


def report_document(params: Mapping[str, str]) -> dict[str, Any]:
    """The JSON report document the query parameters stand for (without observables)."""
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
        elif param in _LIST_PARAMETERS:
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
