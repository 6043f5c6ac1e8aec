"""Readers' votes on published comments: a like (+1) or, where the site enables it, a dislike (-1).

One vote per reader per comment (a second vote replaces the first). The comment keeps the totals
(`Comment.likes`, `Comment.dislikes`), so the list and its "best" order read no vote rows.
"""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..schemas import limits
from .base import one_of, utcnow


class CommentVote(db.Model):
    __tablename__ = "comment_vote"
    __table_args__ = (
        sa.UniqueConstraint("comment_id", "reader_id", name="uq_comment_vote_once_per_reader"),
        sa.CheckConstraint(one_of("value", limits.VOTE_VALUES), name="value"),
        # The worker's retry check: is this client_id stored already?
        sa.Index("ix_comment_vote_client", "client_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The client_id of the reader's latest vote on the comment (a retry of it is one vote).
    client_id: Mapped[str] = mapped_column(sa.String(limits.CLIENT_ID_MAX))
    comment_id: Mapped[int] = mapped_column(sa.ForeignKey("comment.id", ondelete="CASCADE"), index=True)
    # Votes are keyed on the reader (identity.edge): an erased reader's votes go with them.
    reader_id: Mapped[int] = mapped_column(sa.ForeignKey("reader.id", ondelete="CASCADE"), index=True)
    value: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
