"""The report object of a submission part: what it is about and everything it holds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from steppe.conversion.object_ids import object_id
from steppe.observables.model import Report
from steppe.templates.template_schema import Template


def report_name(report: Report, template: Template, part: int, parts_total: int, now: int) -> str:
    """The title given, else the campaign's name, else the kind's name for the day."""
    name = report.title or (report.campaign.name if report.campaign else None)
    if name is None:
        window_first = report.window()[0]
        day = window_first if window_first is not None else now
        name = template.report.name.format_map(
            {
                "label": template.label,
                "kind": template.kind,
                "date": datetime.fromtimestamp(day / 1e6, UTC).strftime("%Y-%m-%d"),
            }
        )
    if parts_total > 1:
        name = f"{name} (part {part} of {parts_total})"
    return name


def report_object(
    report: Report,
    template: Template,
    scope: str,
    submission_id: str,
    part: int,
    name: str,
    producer_id: str,
    stamp: str,
    marking: str,
    object_refs: list[str],
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "report",
        "spec_version": "2.1",
        "id": object_id("report", scope, submission_id, str(part)),
        "created_by_ref": producer_id,
        "created": stamp,
        "modified": stamp,
        "name": name,
        "description": report.description or template.description,
        "report_types": list(template.report.types),
        "published": stamp,
        "object_refs": object_refs,
        "confidence": report.confidence,
    }
    if report.source is not None:
        reference = {"source_name": report.source.name}
        if report.source.url is not None:
            reference["url"] = report.source.url
        obj["external_references"] = [reference]
    obj["object_marking_refs"] = [marking]
    return obj
