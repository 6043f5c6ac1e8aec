"""Screen a comment again after its reader edited it (services.reader_own.edit queues this).

The edited text goes through the same steps as a new comment. Screening can only make the
comment's standing stricter, never looser: an edit that now reads as spam goes to Spam, one
that screening would hold goes back to Pending, and a Pending comment stays Pending whatever
screening says (a moderator, or the site's pre-moderation, decides it). A change is audited
(`comment.rescreen`, by the system) with the reasons a moderator sees on the item.
"""
import sqlalchemy as sa

from ..extensions import db
from ..models import Comment, Site
from ..services.audit import audit
from ..judgment import screening
from . import in_app_context

# From most to least strict; an edit's new status is the stricter of the two.
_STRICTNESS = ("spam", "rejected", "pending", "flagged", "approved")
EDITED = "edited by its author"


def _stricter(current, verdict):
    return verdict if _STRICTNESS.index(verdict) < _STRICTNESS.index(current) else current


@in_app_context
def rescreen_comment(comment_id):
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.status not in ("pending", "approved", "flagged") or not comment.body_raw:
        return None  # erased, deleted or decided since the edit: nothing to screen
    site = db.session.execute(sa.select(Site).where(Site.id == comment.site_id)).scalar_one()
    payload = {"site_id": site.id, "author": comment.author, "body": comment.body_raw,
               "email": comment.email, "reporter_hash": comment.reporter_hash,
               "reader_id": comment.reader_id, "parent": comment.parent_id}
    verdict = screening.screen_all([(payload, site, comment.page)])[0]
    status = _stricter(comment.status, verdict.status)
    comment.body_hash = verdict.body_hash
    comment.spam_score = verdict.score
    comment.spam_reasons = [EDITED] + list(verdict.reasons)
    if status != comment.status:
        before = comment.status
        if before in ("approved", "flagged"):
            comment.page.bump()
        comment.status = status
        audit(None, "comment.rescreen", comment, before={"status": before}, after={"status": status},
              reason="; ".join(verdict.reasons) or None)
    db.session.commit()
    return status
