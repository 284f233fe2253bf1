"""The worker message that asks for a correlation (kept apart: senders need nothing else)."""

from __future__ import annotations

TASK = "correlate"


def correlate_message(source: str, **fields: object) -> dict[str, object]:
    """{"task": "correlate", "source": "submission", "submission_id", "chunk"} or
    {"task": "correlate", "source": "taxii", "status_id"}."""
    return {"task": TASK, "source": source, **fields}
