"""The spam model's tables: the stored classifier and the decisions it learned from.

Apart from the model code (moderation.judgment.spam_model) so that importing the
models, as every web process does, never imports scikit-learn, scipy or numpy.
"""
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db

MODEL_NAME = "global"


def utcnow():
    return datetime.now(timezone.utc)


class SpamModelState(db.Model):
    """One trained model: the pickled classifier and how much it has seen."""

    __tablename__ = "spam_model_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64), unique=True, default=MODEL_NAME)
    # +1 on every learn(): processes compare it to their cached copy.
    version: Mapped[int] = mapped_column(default=0)
    examples_spam: Mapped[int] = mapped_column(default=0)
    examples_ham: Mapped[int] = mapped_column(default=0)
    # zlib-compressed pickle of the SGDClassifier (mostly zeros: ~1.4 MB for 6 MB of weights).
    blob: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    # Examples learned one at a time since the last full retrain (see retrain_due()).
    examples_since_retrain: Mapped[int] = mapped_column(default=0, server_default="0")
    retrained_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class SpamExample(db.Model):
    """A moderator decision the model learned from: what retrain() fits on.

    One row per comment (its newest label); it goes when the comment goes
    (erasure, retention), so a retrain never brings back erased text.
    """

    __tablename__ = "spam_example"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(sa.ForeignKey("comment.id", ondelete="CASCADE"), unique=True)
    is_spam: Mapped[bool] = mapped_column()
    learned_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
