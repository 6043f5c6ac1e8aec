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


def status_of(site_id, client_id):
    """queued | pending | published | fixed | rejected, or None if unknown."""
    found = describe(site_id, client_id)
    return found["status"] if found else None


def describe(site_id, client_id):
    """{"status": ...} plus, for an error report, "already_reported": True when other
    readers had reported the same spot before (the widget says "editors know").
    client_ids are unique per site: the same id on another site is another submission."""
    row = db.session.execute(
        sa.select(TypoReport.id, TypoReport.status, TypoReport.cluster_id).where(
            TypoReport.client_id == client_id, TypoReport.site_id == site_id)
    ).first()
    if row is not None:
        earlier = row.cluster_id is not None and db.session.execute(
            sa.select(TypoReport.id).where(TypoReport.cluster_id == row.cluster_id, TypoReport.id < row.id).limit(1)
        ).first() is not None
        return {"status": REPORT_PUBLIC_STATUS[row.status], "already_reported": earlier}
    comment = db.session.execute(
        sa.select(Comment.id, Comment.status).where(Comment.client_id == client_id, Comment.site_id == site_id)
    ).first()
    if comment is not None:
        status = COMMENT_PUBLIC_STATUS[comment.status]
        # The widget drops the reader's own copy once a list answer holds this id.
        return {"status": status, "comment_id": comment.id} if status == "published" else {"status": status}
    if get_broker().is_queued(site_id, client_id):
        return {"status": "queued"}
    return None
