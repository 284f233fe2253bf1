"""The decay curve a template declares for an observable type (its `decay:` section)."""

from __future__ import annotations

from steppe.errors import InvalidInput
from steppe.scoring.decay_curve import DEFAULT_CURVE, DecayCurve, decay_curve
from steppe.templates.template_schema import OBSERVABLE_TYPES, Template


def curve_for(template: Template, observable_type: str) -> DecayCurve:
    """The type's override, else the template's default curve, else DEFAULT_CURVE.

    A type the template does not accept gets the template's default (indicators
    of it may still arrive, e.g. over TAXII); a type steppe does not know is
    InvalidInput.
    """
    if observable_type not in OBSERVABLE_TYPES:
        raise InvalidInput(
            f"{observable_type!r} is not an observable type; use one of: "
            + ", ".join(OBSERVABLE_TYPES),
            where="observable_type",
        )
    decay = template.decay
    if decay is None:
        return DEFAULT_CURVE
    spec = decay.types.get(observable_type, decay.default)
    return decay_curve(spec.lifetime_days, spec.decay_speed, spec.threshold)
