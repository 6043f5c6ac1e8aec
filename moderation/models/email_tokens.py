"""Used e-mail links (one-click decisions, password reset): one row per spent link.

The link itself is a signed, dated token (moderation/notify/links.py); only its random
id is kept here, unique, so a second use fails on the constraint even when two clicks
race. Rows outlive their link by nothing: `expires_at` is when the link would have died
anyway, and expired rows are deleted as new links are spent.

A table rather than a Redis `SET NX` key: a used password-reset or decision link must
stay used through a Redis restart without persistence or a failover to a replica that
missed the last write; the database is the store that is backed up and replicated
for durability here.
"""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import utcnow


class EmailTokenUse(db.Model):
    __tablename__ = "email_token_use"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The link's random id (moderation.notify.links.TOKEN_ID_BYTES of randomness, URL-safe).
    token_id: Mapped[str] = mapped_column(sa.String(32), unique=True)
    purpose: Mapped[str] = mapped_column(sa.String(20))  # "action", "reset"
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    used_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), index=True)
