"""Indicators: a pattern for each observable whose role calls for one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from steppe.conversion.compiled_templates import CompiledKind, CompiledRole
from steppe.observables.model import Report
from steppe.scoring.decay_score import base_score
from steppe.stix.score_extension import ScoreFields, score_extension

MILLISECOND = 1000


class Indicators:
    """Builds the indicators of one submission part; what they share is given once."""

    __slots__ = (
        "base_score",
        "confidence",
        "curves",
        "format_time",
        "kind_name",
        "label",
        "marking",
        "now",
        "producer_id",
        "report_first",
        "report_last",
        "stamp",
        "valid_until_override",
        "validity",
    )

    def __init__(
        self,
        kind: CompiledKind,
        report: Report,
        producer_id: str,
        stamp: str,
        marking: str,
        now: int,
        format_time: Callable[[int], str],
    ) -> None:
        self.label = kind.template.label
        self.kind_name = kind.template.kind
        self.validity = kind.validity
        self.confidence = report.confidence
        self.base_score = base_score(report.confidence, kind.template.report.confidence)
        self.curves = kind.curves
        self.report_first = report.first_seen
        self.report_last = report.last_seen
        self.valid_until_override = report.valid_until
        self.producer_id = producer_id
        self.stamp = stamp
        self.marking = marking
        self.now = now
        self.format_time = format_time

    def build(
        self,
        indicator_id: str,
        role: CompiledRole,
        obs_type: str,
        shown: str,
        pattern: str,
        first: int | None,
        last: int | None,
    ) -> dict[str, Any]:
        """The indicator of an observable seen first..last (epoch µs, None when not given).

        It is valid from when the observable was first seen (else the attack,
        else now) for the kind's validity after it was last seen, unless the
        report sets valid_until.
        """
        valid_from = first if first is not None else self.report_first
        if valid_from is None:
            valid_from = self.now
        valid_until_override = self.valid_until_override
        if valid_until_override is not None:
            valid_until = valid_until_override
            if valid_from >= valid_until:
                valid_from = valid_until - MILLISECOND
        seen_last = last if last is not None else self.report_last
        last_seen = valid_from if seen_last is None else max(valid_from, seen_last)
        if valid_until_override is None:
            valid_until = last_seen + self.validity
        words = {
            "label": self.label,
            "kind": self.kind_name,
            "role": role.name,
            "role_description": role.description,
            "type": obs_type,
            "value": shown,
        }
        stamp = self.stamp
        fmt = self.format_time
        return {
            "type": "indicator",
            "spec_version": "2.1",
            "id": indicator_id,
            "created_by_ref": self.producer_id,
            "created": stamp,
            "modified": stamp,
            "name": role.name_format.format_map(words),
            "description": role.description_format.format_map(words),
            "indicator_types": list(role.indicator_types),
            "pattern": pattern,
            "pattern_type": "stix",
            "pattern_version": "2.1",
            "valid_from": fmt(valid_from),
            "valid_until": fmt(valid_until),
            "kill_chain_phases": [dict(p) for p in role.kill_chain],
            "confidence": self.confidence,
            "object_marking_refs": [self.marking],
            "extensions": score_extension(
                ScoreFields(self.base_score, last_seen, self.kind_name, *self.curves(obs_type))
            ),
        }
