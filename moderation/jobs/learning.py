"""The spam model learns from moderator decisions, in the worker, never in the request.

The service layer calls `enqueue_learning([comment.id])` after a decision; the
job reads the comments' status when it runs, so a decision changed in between
teaches the newer answer.
"""
import redis
import sqlalchemy as sa
from flask import current_app
from rq import Retry

from ..extensions import db
from ..models import Comment
from . import in_app_context

# A locked or briefly unreachable database: try again, backing off to 5 minutes.
RETRY_INTERVALS = [1, 5, 30, 60, 300]


@in_app_context
def learn_from_decisions(comment_ids):
    """Train on these comments' current moderator labels. Returns the model version, or None."""
    # Here, not at the top: the web process imports this module to enqueue and
    # need not load scikit-learn for that.
    from ..judgment.spam_model import LABELS, learn  # noqa: PLC0415

    rows = db.session.execute(
        sa.select(Comment.author, Comment.body_raw, Comment.status)
        .where(Comment.id.in_(list(comment_ids)))
        .order_by(Comment.id)
    ).all()
    # Pending or flagged (reopened meanwhile): not a decision, nothing to learn.
    examples = [(row.author, row.body_raw, LABELS[row.status]) for row in rows if row.status in LABELS]
    db.session.rollback()  # learn() opens its own transaction with the model row locked
    if not examples:
        return None
    return learn(examples)


def enqueue_learning(comment_ids):
    """Queue a learning job. Returns the job, or None if Redis is unavailable.

    A decision must never fail because learning is unavailable: the error is
    logged and the example is lost (the model learns from the next ones).
    """
    ids = [int(comment_id) for comment_id in comment_ids]
    if not ids:
        return None
    try:
        return current_app.broker.queue.enqueue(
            learn_from_decisions,
            ids,
            job_timeout=120,
            result_ttl=300,
            failure_ttl=30 * 24 * 3600,
            retry=Retry(max=5, interval=RETRY_INTERVALS),
            description=f"spam model: learn from comment(s) {', '.join(map(str, ids[:10]))}",
        )
    except redis.RedisError as exc:
        current_app.logger.warning("spam model: learning from comments %s not queued (%s)", ids, exc)
        return None
