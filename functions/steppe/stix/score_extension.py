"""The indicator score, and a sighting's outcome, as STIX 2.1 property extensions.

An indicator steppe writes carries, under `extensions`, the extension
definition's id with:

    {"extension_type": "property-extension",
     "score": 80,                       # 0-100 at last_seen
     "last_seen": "2026-11-30T08:00:00.000Z",
     "decay": {"kind": "ddos", "lifetime_days": 30, "decay_speed": 2.0, "threshold": 20}}

The score at any later moment follows from the decay curve (steppe.scoring):
score * (1 - (t / lifetime) ** (1 / decay_speed)) with t the time since
last_seen, expired below the threshold. A property extension (rather than a
bare `x_` property) is what STIX 2.1 recommends, passes stix2-validator without
a warning, and lets `stix2.parse` read the indicator without allow_custom.

A sighting reported to steppe (steppe.distribution.sightings) carries the
same extension with what the reporter said of it:

    {"extension_type": "property-extension",
     "outcome": "false-positive",       # or "true-positive"
     "note": "the CDN's address"}       # optional, at most 1000 characters

One extension definition covers both: its schema text says which properties
go on which object type.

The extension definition object itself and the identity that created it are
constant (CLEAR) and travel with every submission's header objects, so every
collection that holds a scored indicator also holds its definition.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from steppe.stix import tlp
from steppe.stix.ids import derived_id
from steppe.stix.timestamps import format_stix, micros_or_none

PROJECT_IDENTITY_ID = derived_id("identity", "steppe", "project")
EXTENSION_ID = derived_id("extension-definition", "steppe", "indicator-score", "1")
_DEFINED = "2026-12-03T00:00:00.000Z"
# The definition's current version: the schema text grew to cover sightings.
_REVISED = "2026-12-03T12:00:00.000Z"
TRUE_POSITIVE = "true-positive"
FALSE_POSITIVE = "false-positive"
OUTCOMES = (TRUE_POSITIVE, FALSE_POSITIVE)
MAX_NOTE = 1000

SCHEMA_TEXT = (
    "Property extension of indicator. score: integer 0-100, the indicator's score when it was "
    "last seen. last_seen: timestamp. decay: object with kind (string, the attack kind whose "
    "curve applies), lifetime_days (number > 0), decay_speed (number > 0) and threshold "
    "(integer 0-99). The score t after last_seen is floor(score * (1 - (t / lifetime) ** "
    "(1 / decay_speed))), 0 after the lifetime; the indicator is expired once it is below "
    "threshold. "
    "Property extension of sighting: outcome: string, 'true-positive' or 'false-positive' "
    "(whether what was sighted was malicious, as the reporting organisation judged it). "
    "note: optional string of at most 1000 characters (why, for a false positive)."
)


class ScoreFields(NamedTuple):
    score: int
    last_seen: int  # µs
    kind: str | None
    lifetime_days: float
    decay_speed: float
    threshold: int


def project_identity() -> dict[str, Any]:
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": PROJECT_IDENTITY_ID,
        "created_by_ref": PROJECT_IDENTITY_ID,
        "created": _DEFINED,
        "modified": _DEFINED,
        "name": "steppe",
        "description": "The steppe software, author of its STIX extensions.",
        "identity_class": "system",
        "object_marking_refs": [tlp.CLEAR.marking_id],
    }


def extension_definition() -> dict[str, Any]:
    return {
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": EXTENSION_ID,
        "created_by_ref": PROJECT_IDENTITY_ID,
        "created": _DEFINED,
        "modified": _REVISED,
        "name": "steppe indicator score",
        "description": "A decaying 0-100 score on indicators, and the curve it decays by; "
        "on sightings, whether the sighting was a true or a false positive.",
        "schema": SCHEMA_TEXT,
        "version": "1.1.0",
        "extension_types": ["property-extension"],
        "object_marking_refs": [tlp.CLEAR.marking_id],
    }


def score_extension(fields: ScoreFields) -> dict[str, Any]:
    """The `extensions` entry (id -> properties) an indicator carries for its score."""
    decay: dict[str, Any] = {
        "lifetime_days": fields.lifetime_days,
        "decay_speed": fields.decay_speed,
        "threshold": fields.threshold,
    }
    if fields.kind:
        decay = {"kind": fields.kind, **decay}
    return {
        EXTENSION_ID: {
            "extension_type": "property-extension",
            "score": fields.score,
            "last_seen": format_stix(fields.last_seen),
            "decay": decay,
        }
    }


def read_score(obj: Mapping[str, Any]) -> ScoreFields | None:
    """The score an indicator carries, or None if it carries none (or a malformed one)."""
    extensions = obj.get("extensions")
    if not isinstance(extensions, Mapping):
        return None
    found = extensions.get(EXTENSION_ID)
    if not isinstance(found, Mapping):
        return None
    score, seen, decay = found.get("score"), found.get("last_seen"), found.get("decay")
    if not (_is_int(score) and 0 <= score <= 100 and isinstance(seen, str)):
        return None
    if not isinstance(decay, Mapping):
        return None
    lifetime, speed, threshold = (
        decay.get("lifetime_days"),
        decay.get("decay_speed"),
        decay.get("threshold"),
    )
    if not (_is_number(lifetime) and lifetime > 0 and _is_number(speed) and speed > 0):
        return None
    if not (_is_int(threshold) and 0 <= threshold < 100):
        return None
    last_seen = micros_or_none(seen)
    if last_seen is None:
        return None
    kind = decay.get("kind")
    return ScoreFields(
        score,
        last_seen,
        kind if isinstance(kind, str) else None,
        float(lifetime),
        float(speed),
        threshold,
    )


def outcome_extension(outcome: str, note: str | None = None) -> dict[str, Any]:
    """The `extensions` entry a sighting carries for its outcome (one of OUTCOMES)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}")
    found: dict[str, Any] = {"extension_type": "property-extension", "outcome": outcome}
    if note:
        found["note"] = note[:MAX_NOTE]
    return {EXTENSION_ID: found}


def read_outcome(obj: Mapping[str, Any]) -> tuple[str, str | None] | None:
    """The (outcome, note) a sighting carries in steppe's extension, or None."""
    extensions = obj.get("extensions")
    if not isinstance(extensions, Mapping):
        return None
    found = extensions.get(EXTENSION_ID)
    if not isinstance(found, Mapping) or found.get("outcome") not in OUTCOMES:
        return None
    note = found.get("note")
    return str(found["outcome"]), note[:MAX_NOTE] if isinstance(note, str) and note else None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value
