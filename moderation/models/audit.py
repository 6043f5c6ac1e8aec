"""The audit trail: who did what to which item, when, with before/after."""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..schemas.limits import REASON_MAX
from .base import isoformat, utcnow


class AuditEntry(db.Model):
    __tablename__ = "audit_entry"
    __table_args__ = (
        sa.Index("ix_audit_target", "target_type", "target_id"),
        sa.Index("ix_audit_actor_time", "actor_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    # Kept even if the account is deleted later; "system" for automatic decisions.
    actor_label: Mapped[str] = mapped_column(sa.String(254))
    action: Mapped[str] = mapped_column(sa.String(40))
    target_type: Mapped[str] = mapped_column(sa.String(20))
    target_id: Mapped[int]
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("site.id", ondelete="SET NULL"))
    before: Mapped[dict | None] = mapped_column(sa.JSON)
    after: Mapped[dict | None] = mapped_column(sa.JSON)
    reason: Mapped[str | None] = mapped_column(sa.String(REASON_MAX))
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, index=True
    )

    actor = relationship("User")

    def to_dict(self):
        return {
            "id": self.id,
            "actor": self.actor_label,
            "action": self.action,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "before": self.before,
            "after": self.after,
            "reason": self.reason,
            "created_at": isoformat(self.created_at),
        }
