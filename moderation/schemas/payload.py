"""The queued payload: what the reader API puts in the Redis inbox for the worker to persist.

A submission's cleaned fields (its model's, `site` replaced by `site_id`) plus the envelope the
view adds. `notify_email` is present only when the reader asked for follow-up.
"""
from typing import Literal

from pydantic import BaseModel, create_model

from .reader import CommentSubmission, FlagSubmission, ReportSubmission, VoteSubmission


class Envelope(BaseModel):
    type: Literal["report", "comment", "flag", "vote"]
    site_id: int
    # Both hashes come from the server, never from the body (moderation/privacy.py).
    reporter_hash: str | None
    reporter_hash_prev: str | None
    received_at: float
    # Who sent it, verified by the reader API before queueing (identity.edge.Identity.as_payload:
    # {"sso": {...} | None, "anon_key": str | None}); the worker resolves it to a Reader.
    identity: dict | None = None


# The reader's credentials are checked at the edge and never queued (an SSO token may have
# expired by the time the worker stores the submission; the verified identity is queued instead).
NOT_QUEUED = ("site", "sso", "reader")


def _queued(name, submission, **extra):
    fields = {key: (info.annotation, info.default) for key, info in submission.model_fields.items()
              if key not in NOT_QUEUED}
    return create_model(name, __base__=Envelope, **fields, **extra)


QueuedReport = _queued("QueuedReport", ReportSubmission)
QueuedComment = _queued("QueuedComment", CommentSubmission)
QueuedFlag = _queued("QueuedFlag", FlagSubmission, comment_id=(int, ...))
QueuedVote = _queued("QueuedVote", VoteSubmission, comment_id=(int, ...))
QUEUED = {"report": QueuedReport, "comment": QueuedComment, "flag": QueuedFlag, "vote": QueuedVote}
