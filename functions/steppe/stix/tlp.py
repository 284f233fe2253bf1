"""TLP 2.0 as STIX 2.1 marking definitions (OASIS TLP 2.0 extension).

The ids, names and `created` timestamp are the fixed values the OASIS
extension publishes; every producer uses the same objects, so a consumer can
recognise the level from the id alone. Levels are ranked so that clearance is
a simple comparison: a partner cleared for AMBER (rank 2) may receive CLEAR,
GREEN and AMBER objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

TLP_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP_CREATED = "2022-10-01T00:00:00.000Z"


@dataclass(frozen=True, slots=True)
class TlpLevel:
    name: str  # as users write it: clear, green, amber, amber+strict, red
    rank: int  # 0 (clear) .. 4 (red)
    marking_id: str

    @property
    def label(self) -> str:
        return f"TLP:{self.name.upper()}"

    def marking_definition(self) -> dict[str, Any]:
        """The marking-definition object exactly as the OASIS extension defines it."""
        return {
            "type": "marking-definition",
            "spec_version": "2.1",
            "id": self.marking_id,
            "created": TLP_CREATED,
            "name": self.label,
            "extensions": {
                TLP_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": self.name}
            },
        }


CLEAR = TlpLevel("clear", 0, "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487")
GREEN = TlpLevel("green", 1, "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb")
AMBER = TlpLevel("amber", 2, "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421")
AMBER_STRICT = TlpLevel(
    "amber+strict", 3, "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
)
RED = TlpLevel("red", 4, "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1")

LEVELS: tuple[TlpLevel, ...] = (CLEAR, GREEN, AMBER, AMBER_STRICT, RED)
BY_NAME: dict[str, TlpLevel] = {level.name: level for level in LEVELS}
BY_RANK: dict[int, TlpLevel] = {level.rank: level for level in LEVELS}

# TLP 1.0 marking definitions predefined by STIX 2.1 itself (section 7.2.1.4),
# which partners still send; WHITE is CLEAR under TLP 2.0.
_TLP1_RANKS = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": CLEAR.rank,  # white
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": GREEN.rank,
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": AMBER.rank,
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": RED.rank,
}
RANK_BY_MARKING_ID: dict[str, int] = {
    **_TLP1_RANKS,
    **{level.marking_id: level.rank for level in LEVELS},
}
NAMES = tuple(BY_NAME)


def level(name: str) -> TlpLevel:
    """The level for a user-written name ("amber", "TLP:AMBER+STRICT", "Amber")."""
    key = name.strip().lower().removeprefix("tlp:")
    if key == "white":
        key = "clear"
    try:
        return BY_NAME[key]
    except KeyError:
        raise ValueError(f"'{name}' is not a TLP level; use one of: {', '.join(NAMES)}") from None


def rank_of_markings(object_marking_refs: list[str] | None, default: int) -> int:
    """The strictest TLP rank among an object's markings, or `default` if it has none."""
    ranks = [RANK_BY_MARKING_ID[m] for m in object_marking_refs or () if m in RANK_BY_MARKING_ID]
    return max(ranks) if ranks else default


def rank_of_object(obj: Mapping[str, Any], unmarked: int) -> int:
    """The TLP rank an object is stored at: the one rule every writer of the store applies.

    * A TLP marking definition is always CLEAR: every reader of a marked
      object must be able to receive the definition of its marking.
    * Any other marking definition is CLEAR unless it carries TLP markings
      of its own (a statement its producer chose to restrict).
    * Any other object: the strictest TLP marking in object_marking_refs,
      else `unmarked` (the collection's rank for unmarked objects, or the
      rank of the submission that produced it).
    """
    markings = obj.get("object_marking_refs")
    if obj.get("type") == "marking-definition":
        if obj.get("id") in RANK_BY_MARKING_ID:
            return CLEAR.rank
        unmarked = CLEAR.rank
    if not markings:
        return unmarked
    if len(markings) == 1:  # almost every object: one dict lookup
        return RANK_BY_MARKING_ID.get(markings[0], unmarked)
    return rank_of_markings(markings, unmarked)
