"""Every task name a job message can carry, and the message bodies that name them.

A queued message is a JSON object whose "task" is one of these names; the
worker (steppe.handlers.worker) runs it through its one table of task name ->
function. The names and the bodies are a wire format: messages queued by an
older release must still run, so they never change.
"""

from __future__ import annotations

# {"task": "process_chunk", "submission_id", "chunk"}: one chunk of an analyst submission
PROCESS_CHUNK = "process_chunk"
# {"task": "taxii_add", "status_id", "part"}: one part of an envelope posted over TAXII
TAXII_ADD = "taxii_add"
# {"task": "correlate", "source", ...}: a stored chunk or envelope against the index
CORRELATE = "correlate"
# {"task": "revoke_chunk", "submission_id", "chunk", "reason", "analyst"}: steppe.lifecycle
REVOKE_CHUNK = "revoke_chunk"
# {"task": "push", "destination_id"}: deliver what a push destination has not yet received
PUSH = "push"
# {"task": "recover"}: the scheduled sweep (template.yaml), an event rather than a queued message
RECOVER = "recover"
# {"task": "decay", "after"?: [collection id, indicator id]}: the scheduled decay run
# (steppe.distribution.decay_job), and its queued continuation when the index is large
DECAY = "decay"
# {"task": "render_feeds"}: the every-minute schedule: render feeds whose data changed
RENDER_FEEDS = "render_feeds"


def correlate_message(source: str, **fields: object) -> dict[str, object]:
    """{"task": "correlate", "source": "submission", "submission_id", "chunk"} or
    {"task": "correlate", "source": "taxii", "status_id"}."""
    return {"task": CORRELATE, "source": source, **fields}


def push_message(destination_id: str) -> dict[str, object]:
    """{"task": "push", "destination_id"}: steppe.lifecycle.push_delivery."""
    return {"task": PUSH, "destination_id": destination_id}
