"""Readers' own comments: edit within the site's window, delete (a tombstone keeps the thread).

Only the comment's own reader may do either: the one an SSO token vouches for, or the one a
signed anonymous id names (docs/identity.md). Every version is kept in the audit trail
(`comment.reader_edit` / `comment.reader_delete`, before and after), like a moderator's fix.
An edit is screened again by the worker (tasks.RESCREEN); on a pre-moderated site an edited
published comment goes back to Pending at once, so the new text is never shown unreviewed.
"""
from datetime import timedelta

import redis
import sqlalchemy as sa
from flask import current_app

from ..db_retry import unit_of_work
from ..extensions import db
from ..models import Comment
from ..models.base import as_utc, utcnow
from ..models.readers import Reader
from ..sanitizer import render_comment, strip_controls
from ..schemas.limits import BODY_MAX
from ..tasks import RESCREEN, enqueue
from .audit import audit
from .common import Invalid, NotFound, PermissionDenied

ACTOR = "reader"  # the audit trail's actor label: the comment's own reader
# A reader may change what they wrote while it is pending or published; a decided "no"
# (rejected, spam) is the moderators' and stays as they left it.
EDITABLE = ("pending", "approved", "flagged")
DELETE_REASON = "deleted by its author"
# What readers see in its place (in the site's language, like services.erasure's tombstones).
TOMBSTONES = {
    "ru": "Комментарий удалён автором.",
    "kk": "Пікірді авторы жойды.",
    "en": "Comment deleted by its author.",
}


class WindowClosed(PermissionDenied):
    """The site's edit window has passed (or edits are off)."""

    code = "edit_window_closed"


def _own(site_id, comment_id, reader_key):
    """The comment, if `reader_key` wrote it. NotFound for another site's or a deleted comment,
    PermissionDenied for another reader's (or one with no reader)."""
    row = db.session.execute(
        sa.select(Comment, Reader.key).outerjoin(Reader, Reader.id == Comment.reader_id)
        .where(Comment.id == comment_id, Comment.site_id == site_id)
    ).first()
    if row is None or row[0].deleted:
        raise NotFound("no comment with this id on this site")
    comment, key = row
    if key is None or key != reader_key:
        raise PermissionDenied("only the comment's author may change it")
    return comment


def own_answer(comment):
    """What PATCH and DELETE answer: the comment as its reader now sees it."""
    status = {"approved": "published", "flagged": "published"}.get(comment.status, comment.status)
    return dict(comment.public_dict(), status="pending" if status == "spam" else status)


def edit_deadline(comment, edit_minutes):
    return as_utc(comment.created_at) + timedelta(minutes=edit_minutes)


@unit_of_work
def _unpick(comment, before):
    """A moderator featured the text they read: an edit or a deletion takes the pick away
    (else an author could rewrite a featured comment on a post-moderated site). Returns the
    audit's `after` part for it ({} when the comment was not featured)."""
    if not comment.featured:
        return {}
    comment.featured = False
    before["featured"] = True
    return {"featured": False}


def edit(site, comment_id, reader_key, body, now=None):
    """Replace the text of the reader's own comment. `site`: a SiteInfo. Returns the comment."""
    body = strip_controls(body).strip() if isinstance(body, str) else None
    if not body:
        raise Invalid("invalid fields", {"body": "body is required"})
    if len(body) > BODY_MAX:
        raise Invalid("invalid fields", {"body": f"body must be at most {BODY_MAX} characters"})
    comment = _own(site.id, comment_id, reader_key)
    now = now or utcnow()
    if site.edit_minutes <= 0 or now > edit_deadline(comment, site.edit_minutes):
        raise WindowClosed(f"comments can be edited for {site.edit_minutes} minutes after posting"
                           if site.edit_minutes > 0 else "this site does not allow editing comments")
    if comment.status not in EDITABLE:
        raise PermissionDenied("this comment can no longer be edited")
    before = {"body": comment.body_raw, "status": comment.status}
    after = _unpick(comment, before)
    comment.body_raw = body
    comment.body_html = render_comment(body)
    comment.edited_at = now
    if comment.status in ("approved", "flagged"):
        comment.page.bump()  # the list (and every cached copy of it) shows the new text or drops it
        if site.moderation_mode == "pre":
            comment.status = "pending"
    audit(ACTOR, "comment.reader_edit", comment, before=before,
          after=dict(after, body=comment.body_raw, status=comment.status))
    db.session.commit()
    # After the commit: the job reads the row as edited. A Redis outage leaves the edit
    # unscreened but never unreviewed where it matters (pre-moderated: it is Pending already).
    try:
        enqueue(RESCREEN, comment.id)
    except (redis.RedisError, OSError) as exc:
        current_app.logger.warning("comment %s edited but not re-screened: %s", comment.id, exc)
    return comment


@unit_of_work
def delete(site, comment_id, reader_key, now=None):
    """Tombstone the reader's own comment: the text and name go, the thread stays."""
    comment = _own(site.id, comment_id, reader_key)
    now = now or utcnow()
    before = {"author": comment.author, "body": comment.body_raw, "status": comment.status}
    after = _unpick(comment, before)
    comment.author, comment.body_raw = "", ""
    comment.body_html = render_comment(TOMBSTONES.get(site.language, TOMBSTONES["en"]))
    comment.edited_at = now
    if comment.status in ("approved", "flagged"):
        comment.page.bump()
    elif comment.status == "pending":
        # Nothing left for a moderator to decide.
        comment.status, comment.decided_at, comment.decision_reason = "rejected", now, DELETE_REASON
    audit(ACTOR, "comment.reader_delete", comment, before=before, after=dict(after, status=comment.status))
    db.session.commit()
    return comment
