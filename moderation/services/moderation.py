"""Moderation actions: the one place decisions are made and audited.

The moderation API and the dashboard both call these functions, so every
decision, whoever makes it and however, is checked the same way and leaves
the same audit entry (who, what, when, before/after, reason).
"""
import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..db_retry import unit_of_work
from ..extensions import db
from ..models import Comment, Page
from ..models.base import utcnow
from ..notify.events import comment_decided
from ..sanitizer import render_comment, strip_controls
from ..schemas.limits import BODY_MAX
from ..tasks import enqueue_learning
from . import actions
from .audit import audit
from .featuring import feature_comment, unfeature_comment  # noqa: F401 - the registry finds them here
from .common import (  # noqa: F401 - the errors and limits callers know from here
    COMMENT_QUEUES,
    MAX_ID,
    MAX_PAGE,
    REPORT_QUEUES,
    Invalid,
    NotFound,
    PermissionDenied,
    ServiceError,
    clean_reason,
    load,
    paginate,
    require,
    site_filter,
)


# -- comments -------------------------------------------------------------------

def list_comments(actor, status="pending", site_key=None, after=None, limit=50,
                  url=None, search=None, since=None, until=None):
    """Oldest first, keyset-paginated. Returns (comments, next_cursor).

    Filters: site key, article URL (substring), text search (author or body),
    and a created_at window. The (status, id) indexes keep the unfiltered queue
    fast at any size.
    """
    require(actor, "comments")
    if status not in COMMENT_QUEUES:
        raise Invalid("invalid fields", {"status": "status must be one of " + ", ".join(COMMENT_QUEUES)})
    # Pages and sites in two IN queries, not one query per listed comment.
    query = site_filter(
        sa.select(Comment).where(Comment.status == status)
        .options(selectinload(Comment.page), selectinload(Comment.site)),
        Comment, actor, site_key,
    )
    if url:
        query = query.join(Page, Page.id == Comment.page_id).where(Page.url.contains(url))
    if search:
        query = query.where(sa.or_(Comment.body_raw.contains(search), Comment.author.contains(search)))
    if since:
        query = query.where(Comment.created_at >= since)
    if until:
        query = query.where(Comment.created_at < until)
    return paginate(query, Comment, after, limit)


def author_history(comments):
    """{reporter_hash: {"approved": n, "rejected": n, "spam": n}} for the listed comments' authors."""
    hashes = {c.reporter_hash for c in comments if c.reporter_hash}
    if not hashes:
        return {}
    rows = db.session.execute(
        sa.select(Comment.reporter_hash, Comment.status, sa.func.count())
        .where(Comment.reporter_hash.in_(hashes), Comment.status.in_(("approved", "rejected", "spam")))
        .group_by(Comment.reporter_hash, Comment.status)
    ).all()
    history = {h: {"approved": 0, "rejected": 0, "spam": 0} for h in hashes}
    for reporter, status, count in rows:
        history[reporter][status] = count
    return history


def _set_comment_status(comment, actor, status, action, reason=None, before=None, after=None):
    old = comment.status
    if old == status and before is None:
        return comment  # nothing changes: no audit noise
    if status != "approved" and comment.featured:
        # A pick is of a published comment: taken down, it is no longer one (re-approved, it
        # is featured again only if a moderator picks it again).
        comment.featured = False
        before, after = dict(before or {}, featured=True), dict(after or {}, featured=False)
    comment.status = status
    comment.decided_at = utcnow()
    comment.decided_by_id = actor.id
    comment.decision_reason = reason
    if "approved" in (old, status) or before is not None:
        comment.page.bump()
    audit(
        actor, action, comment,
        before=dict(before or {}, status=old),
        after=dict(after or {}, status=status),
        reason=reason,
    )
    db.session.commit()
    _learn(comment, from_spam=old == "spam")
    comment_decided(comment.id, status)  # webhooks, reader follow-up (approved replies)
    return comment


def _learn(comment, from_spam=False):
    """Approve and Spam are training examples for the spam model (queued, never blocking);
    a Reject is queued too, so the learning job drops an earlier example of the comment.
    An approve from the Spam queue ("Not spam") is learned with extra weight."""
    if comment.status in ("approved", "rejected", "spam"):
        from ..models.spam import NOT_SPAM_WEIGHT  # noqa: PLC0415

        weight = NOT_SPAM_WEIGHT if from_spam and comment.status == "approved" else 1.0
        enqueue_learning([comment.id], weight=weight)


def _decide(name, comment_id, actor, reason=None, **changes):
    """A comment action from the registry (services/actions.py): its status and audit code."""
    action = actions.get("comment", name)
    comment = load(Comment, comment_id, actor, action.scope)
    return _set_comment_status(comment, actor, action.status, action.audit,
                               reason=clean_reason(reason), **changes)


@unit_of_work
def approve_comment(comment_id, actor):
    return _decide("approve", comment_id, actor)


@unit_of_work
def reject_comment(comment_id, actor, reason=None):
    return _decide("reject", comment_id, actor, reason)


@unit_of_work
def fix_comment(comment_id, actor, body, reason=None):
    """Edit the text (re-sanitized), then approve; the audit keeps both versions."""
    action = actions.get("comment", "fix")
    comment = load(Comment, comment_id, actor, action.scope)
    body = strip_controls(body) if isinstance(body, str) else body
    if not isinstance(body, str) or not body.strip():
        raise Invalid("invalid fields", {"body": "body is required"})
    if len(body) > BODY_MAX:
        raise Invalid("invalid fields", {"body": f"body must be at most {BODY_MAX} characters"})
    before = {"body": comment.body_raw}
    comment.body_raw = body.strip()
    comment.body_html = render_comment(comment.body_raw)
    comment.edited_at = utcnow()
    return _set_comment_status(
        comment, actor, action.status, action.audit, reason=clean_reason(reason),
        before=before, after={"body": comment.body_raw},
    )


@unit_of_work
def reopen_comment(comment_id, actor, reason=None):
    """Back to Pending (and off the public list if it was published)."""
    return _decide("reopen", comment_id, actor, reason)


@unit_of_work
def spam_comment(comment_id, actor, reason=None):
    return _decide("spam", comment_id, actor, reason)
