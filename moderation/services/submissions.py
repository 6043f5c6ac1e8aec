"""What a reader may learn about their own submission."""
import sqlalchemy as sa

from ..broker import get_broker
from ..extensions import db
from ..models import Comment, TypoReport

# Spam answers "pending": a spammer must not learn they were caught.
COMMENT_PUBLIC_STATUS = {
    "pending": "pending",
    "spam": "pending",
    "flagged": "pending",
    "approved": "published",
    "rejected": "rejected",
}
REPORT_PUBLIC_STATUS = {"new": "pending", "fixed": "fixed", "rejected": "rejected"}


def status_of(client_id):
    """queued | pending | published | fixed | rejected, or None if unknown."""
    status = db.session.execute(
        sa.select(TypoReport.status).where(TypoReport.client_id == client_id)
    ).scalar_one_or_none()
    if status is not None:
        return REPORT_PUBLIC_STATUS[status]
    status = db.session.execute(
        sa.select(Comment.status).where(Comment.client_id == client_id)
    ).scalar_one_or_none()
    if status is not None:
        return COMMENT_PUBLIC_STATUS[status]
    if get_broker().is_queued(client_id):
        return "queued"
    return None
