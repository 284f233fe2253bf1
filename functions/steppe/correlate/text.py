"""Lookups and campaigns as text for a person at a terminal (`steppe lookup`, `steppe campaign`).

Each function takes exactly what the API answers (steppe.correlate.lookup) and
lays it out: one block per value or campaign, labels aligned.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

LABEL = 16  # width of the label column
SHOWN = 10  # ids listed per line before "and N more"


def _line(label: str, text: str = "") -> str:
    return f"  {label + ':':<{LABEL}}{text}".rstrip()


def _more(items: Sequence[str], limit: int = SHOWN) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _span(first: str | None, last: str | None) -> str:
    if first is None:
        return "-"
    return first if last in (None, first) else f"{first} .. {last}"


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _table(rows: Iterable[Sequence[str]], indent: str = "    ") -> list[str]:
    """Rows as aligned columns (the last column is left as it is)."""
    rows = [list(row) for row in rows]
    if not rows:
        return []
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return [
        indent
        + "  ".join([cell.ljust(w) for cell, w in zip(row, widths, strict=False)] + [row[-1]])
        for row in rows
    ]


def lookup_block(result: Mapping[str, Any]) -> str:
    """One value's answer."""
    value = result["value"]
    if not result["recognised"]:
        return f"{value}\n  {result['problem']}"
    head = f"{value}  ({result['type']})  "
    if result["found"]:
        head += (
            f"SEEN: {_plural(result['count'], 'occurrence')}, "
            f"{_span(result['first_seen'], result['last_seen'])}"
        )
    else:
        head += "not seen"
    lines = [head]
    false_positive = result.get("false_positive")
    if false_positive:
        lines.append(
            _line(
                "FALSE POSITIVE",
                f"{false_positive['reason']} (since {false_positive['since']})",
            )
        )
    if result["campaigns"]:
        lines.append(_line("campaigns"))
        lines += _table(
            (c["match"], c["name"], _span(c["first_seen"], c["last_seen"]), c["id"])
            for c in result["campaigns"]
        )
    if result["matches"]:
        lines.append(_line("matches"))
        lines += _table(
            (
                m["description"],
                _plural(m["count"], "occurrence"),
                _span(m["first_seen"], m["last_seen"]),
                _more(m["indicators"] + m["observables"], 3),
            )
            for m in result["matches"]
        )
    for label, name in (
        ("indicators", "indicators"),
        ("observables", "observables"),
        ("sources", "sources"),
        ("producers", "producers"),
        ("malware/tools", "tool_ids"),
    ):
        if result.get(name):
            lines.append(_line(label, _more(result[name])))
    for label, name in (("sample of", "sample_of"), ("family", "tools")):
        if result.get(name):
            lines.append(_line(label))
            lines += _table(
                (tool["type"], tool["name"] or "(name not visible)", tool["id"])
                for tool in result[name]
            )
    if result.get("truncated"):
        lines.append(_line("note", "lists are cut short; the counts are complete"))
    if result["weak_evidence"]:
        lines.append(_line("weak evidence", "(not a match)"))
        lines += [f"    {entry['description']}" for entry in result["weak_evidence"]]
    return "\n".join(lines)


def lookup_text(results: Sequence[Mapping[str, Any]]) -> str:
    return "\n\n".join(lookup_block(result) for result in results)


def campaign_list_text(campaigns: Sequence[Mapping[str, Any]]) -> str:
    if not campaigns:
        return "no campaigns"
    return "\n".join(
        _table(
            (
                (c["id"], c["tlp"], _span(c["first_seen"], c["last_seen"]), c["name"])
                for c in campaigns
            ),
            indent="",
        )
    )


def campaign_text(view: Mapping[str, Any]) -> str:
    """The campaign view."""
    lines = [f"{view['name']}  ({view['id']})"]
    lines.append(_line("tlp", view["tlp"]))
    lines.append(_line("collection", view["collection"]))
    lines.append(_line("producer", view["producer"]))
    lines.append(_line("seen", _span(view["first_seen"], view["last_seen"])))
    lines.append(_line("targets", ", ".join(view["targets"]) or "-"))
    lines.append(_line("values", f"{view['values']:,}"))
    if not view["complete"]:
        lines.append(_line("note", "a very large campaign: only part of its values were read"))
    for name in ("indicators", "observables", "tooling"):
        section = view.get(name) or {"total": 0}
        if not section["total"]:
            continue
        shown = len(section["items"])
        more = f", first {shown:,} shown" if shown < section["total"] else ""
        lines.append(_line(name, f"{section['total']:,}{more}"))
        lines += _table(
            (item["id"], _span(item["first_seen"], item["last_seen"]), _more(item["values"], 5))
            for item in section["items"]
        )
    if view["timeline"]:
        lines.append(_line("timeline"))
        lines += _table(
            (
                _span(entry["first_seen"], entry["last_seen"]),
                entry["source"],
                _plural(entry["values"], "value"),
            )
            for entry in view["timeline"]
        )
    if view["related"]:
        lines.append(_line("related"))
        lines += _table(
            (
                f"{link['strength']} ({link['evidence']})",
                f"confidence {link['confidence']}",
                link["campaign"]["name"],
                link["campaign"]["id"],
                f"{link['count']:,} shared: {_more(link['shared'], 5)}",
            )
            for link in view["related"]
        )
    return "\n".join(lines)
