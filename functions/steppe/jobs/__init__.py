"""The one job runner: batches stored inline or in queued parts, their follow-ups, and recovery."""
