"""Rules moderators set: blocked commenters (by salted hash, never the raw address)."""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import utcnow


class BlockedCommenter(db.Model):
    __tablename__ = "blocked_commenter"
    __table_args__ = (
        sa.CheckConstraint("kind in ('address', 'email')", name="kind"),
        sa.Index("ix_blocked_lookup", "kind", "value_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # None: blocked on every site.
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("site.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(8))
    # privacy.hash_value of the address or e-mail, as stored on comments.
    value_hash: Mapped[str] = mapped_column(sa.String(64))
    reason: Mapped[str | None] = mapped_column(sa.String(500))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
