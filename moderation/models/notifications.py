"""Notifications: per-site webhooks and their delivery log, staff e-mail preferences,
readers' opt-in follow-up subscriptions."""
import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import utcnow

EVENTS = ("cluster.created", "cluster.fixed", "comment.pending", "comment.approved", "comment.rejected")
FORMATS = ("json", "slack", "telegram")
EMAIL_MODES = ("off", "immediate", "hourly", "daily")
FOLLOW_KINDS = ("report", "comment")


def new_secret():
    return secrets.token_urlsafe(32)


class Webhook(db.Model):
    __tablename__ = "webhook"
    __table_args__ = (sa.CheckConstraint("format in ('json', 'slack', 'telegram')", name="format"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id", ondelete="CASCADE"), index=True)
    # Slack and Telegram URLs carry a token: the dashboard shows them masked.
    url: Mapped[str] = mapped_column(sa.String(2000))
    # HMAC key for X-Signature; shown in full once, when created or rotated.
    secret: Mapped[str] = mapped_column(sa.String(128), default=new_secret)
    events: Mapped[list] = mapped_column(sa.JSON, default=list)
    format: Mapped[str] = mapped_column(sa.String(16), default="json")
    # Telegram only: the chat the bot writes to.
    chat_id: Mapped[str | None] = mapped_column(sa.String(64))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    site = relationship("Site")

    def masked_secret(self):
        return (self.secret or "")[:4] + "…"

    def masked_url(self):
        """Scheme, host and the start of the path: Slack/Telegram tokens live in the path."""
        from urllib.parse import urlsplit  # noqa: PLC0415

        parts = urlsplit(self.url)
        path = parts.path if len(parts.path) <= 12 else parts.path[:12] + "…"
        return f"{parts.scheme}://{parts.netloc}{path}"


class WebhookDelivery(db.Model):
    """One HTTP attempt; the attempts of one delivery share `delivery_id`."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (sa.Index("ix_webhook_delivery_hook", "webhook_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(sa.ForeignKey("webhook.id", ondelete="CASCADE"))
    delivery_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    event: Mapped[str] = mapped_column(sa.String(32))
    attempt: Mapped[int] = mapped_column(default=1)
    status_code: Mapped[int | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(sa.String(500))
    duration_ms: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    @property
    def ok(self):
        return self.status_code is not None and 200 <= self.status_code < 300


class NotificationPreference(db.Model):
    """A staff member's e-mail choice. No row = off: mail is opt-in."""

    __tablename__ = "notification_preference"
    __table_args__ = (sa.CheckConstraint("email_mode in ('off', 'immediate', 'hourly', 'daily')", name="email_mode"),)

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    email_mode: Mapped[str] = mapped_column(sa.String(16), default="off")
    # Digests cover what arrived after this moment.
    last_digest_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    user = relationship("User")


class ReaderSubscription(db.Model):
    """A reader asked to hear about their report (fixed) or comment (approved replies).

    Nothing but the confirmation mail is sent before `confirmed_at` is set."""

    __tablename__ = "reader_subscription"
    __table_args__ = (
        sa.CheckConstraint("kind in ('report', 'comment')", name="kind"),
        sa.Index("ix_reader_subscription_target", "kind", "target_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(8))
    # typo_report.id or comment.id (no foreign key: one column for two tables).
    target_id: Mapped[int] = mapped_column()
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(sa.String(254))
    locale: Mapped[str] = mapped_column(sa.String(8), default="en")
    confirmed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    unsubscribed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
