"""The one entry point for "something happened": services call these after their commit.

Emitting never fails the caller: a decision already committed must not turn into
an error page because Redis blinked. A lost event is logged (webhook receivers
can reconcile; digests read the database, not events).
"""
import redis
import sqlalchemy as sa
from flask import current_app

from .. import tasks
from ..extensions import db
from ..models import Comment, TypoReport
from ..models.notifications import EVENTS


def emit(event, ids):
    """Queue one dispatch job for `event` about these object ids. Returns the job or None."""
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}")
    ids = sorted({int(i) for i in ids})
    if not ids:
        return None
    try:
        return tasks.enqueue(tasks.NOTIFY_DISPATCH, event, ids, description=f"notify {event} {ids[:10]}")
    except redis.RedisError as exc:
        current_app.logger.warning("notify: %s for %s not queued (%s)", event, ids[:10], exc)
        return None


def persisted(payloads):
    """After a persist batch commits: one event per kind for the whole batch, and the
    readers' follow-up subscriptions. Never raises: the batch is committed already."""
    if not payloads:
        return
    try:
        _persisted(payloads)
    except Exception:  # noqa: BLE001 - a lost notification must not replay a committed batch
        db.session.rollback()
        current_app.logger.exception("notify: events for a batch of %d not queued", len(payloads))


def _persisted(payloads):
    """Two indexed queries on client_id; no job is queued when nothing new needs
    telling. A cluster is new when its first report arrived in this batch."""
    # client_ids are unique per site: a row of another site with the same id is another submission.
    submitted = {(p["site_id"], p["client_id"]) for p in payloads}
    client_ids = [client_id for _, client_id in submitted]
    pending = [row.id for row in db.session.execute(
        sa.select(Comment.id, Comment.site_id, Comment.client_id).where(
            Comment.client_id.in_(client_ids), Comment.status == "pending")
    ) if (row.site_id, row.client_id) in submitted]
    touched = [row for row in db.session.execute(
        sa.select(TypoReport.id, TypoReport.cluster_id, TypoReport.site_id, TypoReport.client_id)
        .where(TypoReport.client_id.in_(client_ids))
    ) if (row.site_id, row.client_id) in submitted]
    new_clusters = []
    if touched:
        ours = {row.id for row in touched}
        firsts = db.session.execute(
            sa.select(TypoReport.cluster_id, sa.func.min(TypoReport.id))
            .where(TypoReport.cluster_id.in_({row.cluster_id for row in touched if row.cluster_id}))
            .group_by(TypoReport.cluster_id)
        ).all()
        new_clusters = [cluster_id for cluster_id, first in firsts if first in ours]
    db.session.rollback()  # end the read transaction: the worker must not hold a snapshot
    emit("cluster.created", new_clusters)
    emit("comment.pending", pending)
    wanted = [p for p in payloads if p.get("notify_email")]
    if wanted:
        from .followup import subscribe_persisted  # noqa: PLC0415

        subscribe_persisted(wanted)


def comment_decided(comment_id, status):
    """A moderator's decision changed a comment's status."""
    event = {"approved": "comment.approved", "rejected": "comment.rejected"}.get(status)
    if event:
        emit(event, [comment_id])
