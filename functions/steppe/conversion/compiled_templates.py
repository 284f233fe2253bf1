"""A template's constants as conversion uses them, computed once per attack kind."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from steppe.scoring.template_curves import curve_for
from steppe.stix.vocab import MITRE_ATTACK_KILL_CHAIN
from steppe.templates.template_schema import RoleSpec, Template

DAY = 86_400 * 1_000_000


def kill_chain(phases: Sequence[str]) -> list[dict[str, str]]:
    """ATT&CK kill chain phases as STIX lists them."""
    return [{"kill_chain_name": MITRE_ATTACK_KILL_CHAIN, "phase_name": p} for p in phases]


@dataclass(frozen=True, slots=True)
class CompiledRole:
    """A template role with everything per-observable work needs, computed once."""

    name: str
    description: str
    indicator: bool
    indicator_types: tuple[str, ...]
    kill_chain: tuple[dict[str, str], ...]
    name_format: str
    description_format: str
    link: str | None


class CompiledKind:
    """A template's constants (attack pattern references, roles, validity) computed once."""

    def __init__(self, template: Template) -> None:
        self.template = template
        ap = template.attack_pattern
        references: list[dict[str, str]] = [
            {
                "source_name": "mitre-attack",
                "external_id": ap.mitre_attack.id,
                "url": ap.mitre_attack.url,
            }
        ]
        if ap.capec is not None:
            references.append(
                {"source_name": "capec", "external_id": ap.capec.id, "url": ap.capec.url}
            )
        self.references = references
        self.roles = {name: self._role(name, spec) for name, spec in template.roles.items()}
        self.validity = template.indicator.valid_for_days * DAY
        self._curves: dict[str, tuple[float, float, int]] = {}

    def curves(self, observable_type: str) -> tuple[float, float, int]:
        """(lifetime_days, decay_speed, threshold) of the type's decay curve in this template."""
        found = self._curves.get(observable_type)
        if found is None:
            curve = curve_for(self.template, observable_type)
            found = (curve.lifetime_days, curve.decay_speed, curve.threshold)
            self._curves[observable_type] = found
        return found

    def _role(self, name: str, spec: RoleSpec) -> CompiledRole:
        indicator = self.template.indicator
        return CompiledRole(
            name=name,
            description=spec.description,
            indicator=spec.indicator,
            indicator_types=tuple(spec.indicator_types or indicator.types),
            kill_chain=tuple(
                kill_chain(spec.kill_chain_phases or self.template.attack_pattern.kill_chain_phases)
            ),
            name_format=spec.name or indicator.name,
            description_format=indicator.description,
            link=spec.link,
        )
