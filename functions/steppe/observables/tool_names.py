"""Names of malware and tools: the one key a family name is known by.

Reports spell a family many ways ("BlackEnergy", "Black Energy", "black-energy",
"BLACKENERGY"); all of them are one family. The key keeps letters and digits of
any script, case-folded (NFKC first, so full-width and compatibility forms fold
too), and drops everything else. It is what malware and tool ids derive from
(steppe.conversion) and what correlation and lookups match on (steppe.correlate).
"""

from __future__ import annotations

import unicodedata

MAX_TOOL_NAME = 200  # characters of a malware or tool name as submitted
MAX_ALIASES = 32  # aliases of one malware or tool


def family_key(name: str) -> str:
    """The key of a malware or tool name; ValueError when it has no letter or digit."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    key = "".join(ch for ch in folded if ch.isalnum())
    if not key:
        raise ValueError(f"'{name}' has no letter or digit to name a malware or tool by")
    return key
