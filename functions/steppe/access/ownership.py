"""Who may see and act on a record someone owns: decided here, once.

Ownership is keyed by the owner's stable partner id (Partner.id), never by a
name: a partner deleted and created again under the same name is a new id
and reaches nothing of the old one.
"""

from __future__ import annotations

from steppe.access.caller import Caller
from steppe.errors import NotFound
from steppe.store.port import Submission, SubmissionStore


def may_see_submission(caller: Caller, submission: Submission) -> bool:
    """Its submitter and admins may read, revoke and reprocess a submission; nobody else."""
    return caller.authenticated and (caller.role == "admin" or caller.owns(submission.submitter_id))


def visible_submission(store: SubmissionStore, submission_id: str, caller: Caller) -> Submission:
    """The submission, if the caller may see it; otherwise 404 as if it did not exist.

    Not 403: submission ids show in lookups and campaign timelines, and whether
    one exists is not the business of whoever did not submit it.
    """
    caller.require_authenticated()
    submission = store.get_submission(submission_id)
    if submission is None or not may_see_submission(caller, submission):
        raise NotFound(f"there is no submission '{submission_id}'", where="submission_id")
    return submission
