"""Readers' votes, stored by the worker (jobs/persist.py) from the reader API's queue.

Once per reader per comment: a second vote with the other value replaces the first, the same
value again changes nothing. The comment's totals move with each change and its page's
comments_version is bumped, so the list (its ETag, its cached copies, its "best" order) follows.
"""
import sqlalchemy as sa

from ..extensions import db
from ..models import Comment, CommentVote
from ..models.base import utcnow
from .. import site_features
from .comments_feed import visible_statuses


def _column(value):
    return "likes" if value == 1 else "dislikes"


def store(payloads, sites, readers, key_of):
    """Apply the vote payloads (in order); returns rows added or changed. `readers`: submission key
    -> Reader (the worker resolved them); a vote without a reader is dropped (every vote the API
    queues names one)."""
    comment_ids = {p["comment_id"] for p in payloads}
    comments = {c.id: c for c in db.session.execute(
        sa.select(Comment).where(Comment.id.in_(comment_ids))).scalars()}
    votes = {(v.comment_id, v.reader_id): v for v in db.session.execute(
        sa.select(CommentVote).where(CommentVote.comment_id.in_(comment_ids))).scalars()}
    changed = 0
    for payload in payloads:
        comment = comments.get(payload["comment_id"])
        reader = readers.get(key_of(payload))
        site = sites.get(payload["site_id"])
        if (comment is None or reader is None or comment.site_id != payload["site_id"]
                or comment.status not in visible_statuses(site)):
            continue  # withdrawn meanwhile, or not this site's
        value = payload["value"]
        if value == -1 and not site_features.dislikes(site.settings):
            continue  # the site turned dislikes off after the vote was queued
        vote = votes.get((comment.id, reader.id))
        if vote is not None and vote.value == value:
            continue  # the same vote again
        if vote is None:
            vote = CommentVote(client_id=payload["client_id"], comment_id=comment.id, reader_id=reader.id,
                               value=value)
            db.session.add(vote)
            votes[(comment.id, reader.id)] = vote
        else:
            old = _column(vote.value)
            setattr(comment, old, max(0, (getattr(comment, old) or 0) - 1))
            vote.value, vote.client_id, vote.updated_at = value, payload["client_id"], utcnow()
        new = _column(value)
        setattr(comment, new, (getattr(comment, new) or 0) + 1)
        comment.page.bump()
        changed += 1
    return changed


def existing_client_ids(client_ids):
    """(site_id, client_id) of stored votes among `client_ids` (a retried vote is one vote)."""
    return set(db.session.execute(
        sa.select(Comment.site_id, CommentVote.client_id).join(Comment, CommentVote.comment_id == Comment.id)
        .where(CommentVote.client_id.in_(client_ids))).all())



