"""The attack pattern of an attack kind: its ATT&CK technique (public)."""

from __future__ import annotations

from typing import Any

from steppe.conversion.compiled_templates import CompiledKind, kill_chain
from steppe.conversion.object_envelope import CLEAR_MARKING, domain_object
from steppe.conversion.object_ids import object_id


def attack_pattern_id(producer_id: str, kind: str) -> str:
    return object_id("attack-pattern", producer_id, kind)


def attack_pattern(kind: CompiledKind, producer_id: str, stamp: str) -> dict[str, Any]:
    template = kind.template
    ap = template.attack_pattern
    return domain_object(
        "attack-pattern",
        attack_pattern_id(producer_id, template.kind),
        producer_id,
        stamp,
        CLEAR_MARKING,
        name=ap.name,
        description=ap.description,
        external_references=[dict(r) for r in kind.references],
        kill_chain_phases=kill_chain(ap.kill_chain_phases),
    )
