"""The spam model's tables: the stored classifier and the decisions it learned from.

Apart from the model code (moderation.judgment.spam_model) so that importing the
models, as every web process does, never imports scikit-learn, scipy or numpy.
"""
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db

MODEL_NAME = "global"
# Weight of a "Not spam" (approve) from the Spam queue when the model learns it: a
# mistake screening made, learned harder than an ordinary decision.
NOT_SPAM_WEIGHT = 5.0


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
    # > 1 for a "Not spam" from the Spam queue: a mistake the model made, learned harder.
    weight: Mapped[float] = mapped_column(default=1.0, server_default="1")
    learned_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


class SpamSiteState(db.Model):
    """What the shared model has earned on one site: may it send comments to Spam by itself?

    Written by every retrain (moderation.judgment.spam_model.retrain), which
    measures the model on this site's own newest decisions that the measuring
    model did not train on (cross-validation); read by screening and by the
    dashboard (moderation.judgment.autonomy says it in words). Apart from the
    model code: web processes read it without scikit-learn.
    """

    __tablename__ = "spam_site_state"

    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id", ondelete="CASCADE"), primary_key=True)
    # This site's decisions the model has as examples (spam + not spam), at the last measure.
    decisions: Mapped[int] = mapped_column(default=0)
    # How many of the newest decisions were measured, and the result per candidate
    # threshold: [[threshold, spam above it, harmless above it], ...] (autonomy.GRID).
    evaluated: Mapped[int] = mapped_column(default=0)
    curve: Mapped[list] = mapped_column(sa.JSON, default=list)
    measured_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # An admin switched auto-spam off for this site (the model still holds).
    admin_off: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # A moderator approved a comment the model had sent to Spam: off until the next
    # retrain measures again (with that comment learned, at extra weight).
    paused_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
