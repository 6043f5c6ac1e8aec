"""The spam model learns from moderator decisions, in the worker, never in the request.

The service layer calls `moderation.tasks.enqueue_learning([comment.id])` after a decision. The
ids wait in a Redis list and one job (`learn_pending`) learns everything that
waits, in batches: a moderator deciding 50 comments in a minute costs one model
write, not 50 (the stored model is megabytes). The job reads the comments'
status when it runs, so a decision changed in between teaches the newer answer.

Approve and Spam are examples; Reject is not (it removes an earlier example of
the comment). A "Not spam" from the Spam queue is queued with a weight
(`enqueue_learning(ids, weight=...)`): it is learned harder, and when the model
had sent that comment to Spam by itself, auto-spam on its site pauses and a
retrain is queued at once to measure the model again.
"""
import redis
import sqlalchemy as sa
from flask import current_app

from .. import tasks
from ..extensions import db
from ..models import Comment
from ..redis_keys import LEARN_INBOX as INBOX_KEY
from ..redis_keys import LEARN_REQUESTED as REQUESTED_KEY
from ..redis_keys import SPAM_RETRAIN_QUEUED as RETRAIN_QUEUED_KEY
from . import in_app_context

# Decisions waiting to be learned (INBOX_KEY), and the id of the job that will learn them
# (REQUESTED_KEY); RETRAIN_QUEUED_KEY is set while a retrain job waits: many decisions, one retrain.
BATCH = 1000


@in_app_context
def learn_pending():
    """Learn every waiting decision, BATCH at a time. Returns the last model version, or None."""
    redis_client = current_app.broker.redis
    # Cleared first: a decision queued from now on asks for a new job.
    redis_client.delete(REQUESTED_KEY)
    version = None
    while True:
        pipe = redis_client.pipeline()  # MULTI: take a batch off the list atomically
        pipe.lrange(INBOX_KEY, 0, BATCH - 1)
        pipe.ltrim(INBOX_KEY, BATCH, -1)
        ids, _ = pipe.execute()
        if not ids:
            return version
        entries = [i.decode() if isinstance(i, bytes) else str(i) for i in ids]
        weights = {}
        for entry in entries:  # "id" or "id:weight"
            cid, _, weight = entry.partition(":")
            weights[int(cid)] = max(weights.get(int(cid), 1.0), float(weight or 1.0))
        try:
            version = learn_from_decisions(list(weights), weights) or version
        except Exception:
            # Back to the front of the list: RQ retries the job, which takes them again.
            redis_client.lpush(INBOX_KEY, *reversed(entries))
            raise


@in_app_context
def learn_from_decisions(comment_ids, weights=None):
    """Train on these comments' current moderator labels. Returns the model version, or None.

    `weights`: {comment_id: weight} for "Not spam" decisions from the Spam queue."""
    # Here, not at the top: the web process imports this module to enqueue and
    # need not load scikit-learn for that.
    from ..judgment.spam_model import (  # noqa: PLC0415
        LABELS, forget_examples, learn, record_examples, retrain_due,
    )

    weights = {cid: w for cid, w in (weights or {}).items() if w != 1.0}
    rows = db.session.execute(
        sa.select(Comment.id, Comment.site_id, Comment.author, Comment.body_raw, Comment.status,
                  Comment.spam_reasons)
        .where(Comment.id.in_(list(comment_ids)))
        .order_by(Comment.id)
    ).all()
    db.session.rollback()  # learn() opens its own transaction with the model row locked
    # Rejected: not published, but not spam either; an earlier label of it no longer holds.
    forget_examples([row.id for row in rows if row.status == "rejected"])
    # Pending or flagged (reopened meanwhile): not a decision, nothing to learn.
    rows = [row for row in rows if row.status in LABELS]
    if not rows:
        db.session.commit()
        return None
    overturned = {row.site_id for row in rows
                  if row.id in weights and not LABELS[row.status] and model_sent_to_spam(row.spam_reasons)}
    pause_auto_spam(overturned)
    # Recorded in learn()'s transaction: the examples and the model move together.
    record_examples({row.id: LABELS[row.status] for row in rows}, weights)
    version = learn([(row.author, row.body_raw, LABELS[row.status]) for row in rows],
                    [weights.get(row.id, 1.0) for row in rows])
    if overturned or retrain_due():
        enqueue_retrain()
    db.session.rollback()
    return version


def model_sent_to_spam(reasons):
    """Did screening send this comment to Spam on the model's word alone?"""
    from ..judgment.screening import MODEL_SPAM  # noqa: PLC0415

    return any(isinstance(r, str) and r.startswith(MODEL_SPAM) for r in reasons or ())


def pause_auto_spam(site_ids):
    """The model was wrong on these sites: no auto-spam until a retrain measures it again. No commit."""
    from ..models.spam import SpamSiteState, utcnow  # noqa: PLC0415

    for site_id in site_ids:
        state = db.session.get(SpamSiteState, site_id)
        if state is not None:
            state.paused_at = utcnow()


@in_app_context
def retrain_model():
    """Fit the model afresh on every recorded decision (see spam_model.retrain)."""
    from ..judgment.spam_model import retrain  # noqa: PLC0415

    # Cleared first: a decision learned while this runs may ask for the next retrain.
    current_app.broker.redis.delete(RETRAIN_QUEUED_KEY)
    return retrain(current_app.config.get("SPAM_MODEL_RETRAIN_MAX", 50_000))



def enqueue_retrain():
    """Queue one retrain unless one is already waiting. Returns the job or None."""
    try:
        if not current_app.broker.redis.set(RETRAIN_QUEUED_KEY, "1", nx=True, ex=3600):
            return None
        return tasks.enqueue(tasks.RETRAIN)
    except redis.RedisError as exc:
        current_app.logger.warning("spam model: retrain not queued (%s)", exc)
        return None
