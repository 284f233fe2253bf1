"""The attack pattern of an attack kind: its ATT&CK technique (public)."""

from __future__ import annotations

from functools import lru_cache
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


@lru_cache(maxsize=256)
def _kinds_by_pattern(producer_id: str, kinds: tuple[str, ...]) -> dict[str, str]:
    return {attack_pattern_id(producer_id, kind): kind for kind in kinds}


def attack_kind(pattern_id: str, producer_id: str | None, kinds: tuple[str, ...]) -> str:
    """The attack kind whose attack pattern `producer_id` made has this id; "" if none.

    The one mapping from steppe's own attack patterns back to their template kind:
    the id is derived from (producer, kind), so only these ids name a kind.
    """
    if not producer_id:
        return ""
    return _kinds_by_pattern(producer_id, kinds).get(pattern_id, "")
