"""How far a submission got: its status, counts and errors, read from its chunk results."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from steppe.store.port import CatalogStore, Revocation, Submission, SubmissionStore

# The submission resource lists the ids of what a submission produced up to this many objects.
MAX_LISTED_OBJECTS = 5000


@dataclass(frozen=True, slots=True)
class ChunkFailure:
    chunk: int
    message: str


@dataclass(frozen=True, slots=True)
class SubmissionProgress:
    submission: Submission
    status: str  # pending, complete, failed, or the status recorded over them
    collection_title: str | None
    kind: object  # the report's, as recorded
    tlp: object
    chunks_done: int
    failures: tuple[ChunkFailure, ...]
    objects: int  # produced, all types
    counts: Counter[str]  # by outcome ("created", ...) and "false_positive_skipped"
    by_type: dict[str, int]
    # The ids by outcome; None when there are too many to list (the bundle parts have them all).
    listed: dict[str, list[str]] | None
    revoked: Revocation | None


def submission_progress(
    submissions: SubmissionStore, catalog: CatalogStore, submission: Submission
) -> SubmissionProgress:
    """Cheap to poll: object ids are listed only for submissions of at most
    MAX_LISTED_OBJECTS objects (the bundle has them all)."""
    results = submissions.chunk_results(submission.id, with_objects=False)
    counts: Counter[str] = Counter()
    failures = []
    for result in results:
        counts.update(result.counts)
        if result.error:
            failures.append(ChunkFailure(result.chunk, result.error))
    by_type = {k[5:]: v for k, v in sorted(counts.items()) if k.startswith("type:")}
    total = sum(by_type.values())
    listed: dict[str, list[str]] | None = None
    if total <= MAX_LISTED_OBJECTS:
        listed = {"created": [], "updated": [], "unchanged": []}
        for result in submissions.chunk_results(submission.id):
            for object_id, outcome in result.objects:
                listed.setdefault(outcome, []).append(object_id)
    done = len(results)
    if submission.status_override:
        status = submission.status_override
    elif done < submission.chunks_total:
        status = "pending"
    else:
        status = "failed" if failures else "complete"
    report = submission.meta.report or {}
    collection = catalog.get_collection(submission.collection_id)
    return SubmissionProgress(
        submission=submission,
        status=status,
        collection_title=collection.title if collection else None,
        kind=report.get("kind") if isinstance(report, dict) else None,
        tlp=report.get("tlp") if isinstance(report, dict) else None,
        chunks_done=done,
        failures=tuple(failures),
        objects=total,
        counts=counts,
        by_type=by_type,
        listed=listed,
        revoked=submission.meta.revoked,
    )
