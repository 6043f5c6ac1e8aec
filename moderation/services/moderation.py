"""Moderation actions: the one place decisions are made and audited.

The moderation API and the dashboard both call these functions, so every
decision, whoever makes it and however, is checked the same way and leaves
the same audit entry (who, what, when, before/after, reason).
"""
import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..db_retry import unit_of_work
from ..extensions import db
from ..models import AuditEntry, Comment, Page, ReportCluster, Site, TypoReport
from ..models.base import utcnow
from ..notify.events import comment_decided
from ..sanitizer import render_comment, strip_controls
from ..tasks import enqueue_learning

COMMENT_QUEUES = ("pending", "approved", "rejected", "spam", "flagged")
REPORT_QUEUES = ("new", "fixed", "rejected")
MAX_PAGE = 200


TARGET_TYPES = {TypoReport: "report", ReportCluster: "cluster", Comment: "comment"}


class ServiceError(Exception):
    status = 400

    def __init__(self, message, fields=None):
        super().__init__(message)
        self.message = message
        self.fields = fields


class NotFound(ServiceError):
    status = 404


class PermissionDenied(ServiceError):
    status = 403


class Invalid(ServiceError):
    status = 400


def audit(actor, action, target, before=None, after=None, reason=None):
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None,
        actor_label=actor.email if actor is not None else "system",
        action=action,
        target_type=TARGET_TYPES[type(target)],
        target_id=target.id,
        site_id=target.site_id,
        before=before,
        after=after,
        reason=reason,
    )
    db.session.add(entry)
    return entry


def _require(actor, scope):
    if actor is None or not actor.is_active or not actor.can(scope):
        raise PermissionDenied(f"your role may not work on {scope}")


def _load(model, item_id, actor, scope):
    _require(actor, scope)
    item = db.session.get(model, item_id)
    if item is None or not actor.can_site(item.site_id):
        # Same answer for "missing" and "not yours": ids are not a discovery oracle.
        raise NotFound(f"no such {TARGET_TYPES[model]}")
    return item


def _clean_reason(reason):
    if reason is None:
        return None
    if not isinstance(reason, str):
        raise Invalid("invalid fields", {"reason": "reason must be a string"})
    # Same rules as readers' text: NFC, no control characters (PostgreSQL refuses NUL: a 500).
    reason = strip_controls(reason).strip()
    if len(reason) > 500:
        raise Invalid("invalid fields", {"reason": "reason must be at most 500 characters"})
    return reason or None


def _site_filter(query, model, actor, site_key):
    allowed = actor.site_ids()
    if allowed is not None:
        query = query.where(model.site_id.in_(allowed))
    if site_key:
        query = query.join(Site, Site.id == model.site_id).where(Site.key == site_key)
    return query


MAX_ID = 2**31 - 1  # INTEGER columns: a larger cursor is a bad request, not a 500


def _page(query, model, after, limit):
    limit = max(1, min(int(limit or 50), MAX_PAGE))
    if after is not None and not 0 <= after <= MAX_ID:
        raise Invalid("invalid fields", {"after": "after must be an item id"})
    if after:
        query = query.where(model.id > after)
    rows = db.session.execute(query.order_by(model.id).limit(limit + 1)).scalars().all()
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


# -- comments -------------------------------------------------------------------

def list_comments(actor, status="pending", site_key=None, after=None, limit=50,
                  url=None, search=None, since=None, until=None):
    """Oldest first, keyset-paginated. Returns (comments, next_cursor).

    Filters: site key, article URL (substring), text search (author or body),
    and a created_at window. The (status, id) indexes keep the unfiltered queue
    fast at any size.
    """
    _require(actor, "comments")
    if status not in COMMENT_QUEUES:
        raise Invalid("invalid fields", {"status": "status must be one of " + ", ".join(COMMENT_QUEUES)})
    # Pages and sites in two IN queries, not one query per listed comment.
    query = _site_filter(
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
    return _page(query, Comment, after, limit)


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


@unit_of_work
def approve_comment(comment_id, actor):
    comment = _load(Comment, comment_id, actor, "comments")
    return _set_comment_status(comment, actor, "approved", "comment.approve")


@unit_of_work
def reject_comment(comment_id, actor, reason=None):
    comment = _load(Comment, comment_id, actor, "comments")
    return _set_comment_status(
        comment, actor, "rejected", "comment.reject", reason=_clean_reason(reason)
    )


@unit_of_work
def fix_comment(comment_id, actor, body, reason=None):
    """Edit the text (re-sanitized), then approve; the audit keeps both versions."""
    comment = _load(Comment, comment_id, actor, "comments")
    body = strip_controls(body) if isinstance(body, str) else body
    if not isinstance(body, str) or not body.strip():
        raise Invalid("invalid fields", {"body": "body is required"})
    if len(body) > 5000:
        raise Invalid("invalid fields", {"body": "body must be at most 5000 characters"})
    before = {"body": comment.body_raw}
    comment.body_raw = body.strip()
    comment.body_html = render_comment(comment.body_raw)
    comment.edited_at = utcnow()
    return _set_comment_status(
        comment, actor, "approved", "comment.fix", reason=_clean_reason(reason),
        before=before, after={"body": comment.body_raw},
    )


@unit_of_work
def reopen_comment(comment_id, actor, reason=None):
    """Back to Pending (and off the public list if it was published)."""
    comment = _load(Comment, comment_id, actor, "comments")
    return _set_comment_status(
        comment, actor, "pending", "comment.reopen", reason=_clean_reason(reason)
    )


@unit_of_work
def spam_comment(comment_id, actor, reason=None):
    comment = _load(Comment, comment_id, actor, "comments")
    return _set_comment_status(
        comment, actor, "spam", "comment.spam", reason=_clean_reason(reason)
    )


# -- error reports (decisions are per cluster: see services/reports.py) ------------

def list_reports(actor, status="new", site_key=None, after=None, limit=50):
    _require(actor, "reports")
    if status not in REPORT_QUEUES:
        raise Invalid("invalid fields", {"status": "status must be one of " + ", ".join(REPORT_QUEUES)})
    query = _site_filter(
        sa.select(TypoReport).where(TypoReport.status == status), TypoReport, actor, site_key
    )
    return _page(query, TypoReport, after, limit)


def fix_report(report_id, actor, correction=None, reason=None):
    """Fix the spot this report points at (its whole cluster); returns the report."""
    from . import reports  # noqa: PLC0415 - reports builds on this module

    report = _load(TypoReport, report_id, actor, "reports")
    reports.fix_cluster(reports.cluster_of(report).id, actor, correction, reason)
    return report


def reject_report(report_id, actor, reason=None):
    from . import reports  # noqa: PLC0415

    report = _load(TypoReport, report_id, actor, "reports")
    reports.reject_cluster(reports.cluster_of(report).id, actor, reason)
    return report
