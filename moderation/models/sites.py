"""Sites (one per newsroom property) and the article pages readers write about."""
import hashlib
from datetime import datetime
import secrets

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..schemas.limits import SITE_KEY_MAX
from .base import utcnow

MODES = ("pre", "post")
LANGUAGES = ("ru", "kk", "en")


def new_site_key():
    return secrets.token_urlsafe(12)


class Site(db.Model):
    __tablename__ = "site"
    __table_args__ = (
        sa.CheckConstraint("moderation_mode in ('pre', 'post')", name="mode"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Public: it is printed in the embed snippet on every article page.
    key: Mapped[str] = mapped_column(sa.String(SITE_KEY_MAX), unique=True, default=new_site_key)
    name: Mapped[str] = mapped_column(sa.String(200))
    allowed_origins: Mapped[list] = mapped_column(sa.JSON, default=list)
    moderation_mode: Mapped[str] = mapped_column(sa.String(8), default="pre")
    language: Mapped[str] = mapped_column(sa.String(8), default="ru")
    # Flask-Limiter strings such as "5/minute;100/day"; empty = the service default.
    rate_limit_reports: Mapped[str | None] = mapped_column(sa.String(100))
    rate_limit_comments: Mapped[str | None] = mapped_column(sa.String(100))
    # This many distinct readers flagging a published comment send it to the Flagged queue.
    flag_threshold: Mapped[int] = mapped_column(default=3, server_default="3")
    # Screening settings (moderation.judgment.screening.DEFAULTS); missing keys use the defaults.
    settings: Mapped[dict | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    pages = relationship("Page", back_populates="site", lazy="dynamic")

    def to_dict(self):
        return {
            "key": self.key,
            "name": self.name,
            "allowed_origins": list(self.allowed_origins or []),
            "moderation_mode": self.moderation_mode,
            "language": self.language,
        }


def url_hash(url):
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


class Page(db.Model):
    __tablename__ = "page"
    __table_args__ = (sa.UniqueConstraint("site_id", "url_hash", name="uq_page_site_url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id", ondelete="CASCADE"))
    # Normalized (see moderation.urls.normalize_url); the hash keeps the unique index small.
    url: Mapped[str] = mapped_column(sa.Text)
    url_hash: Mapped[str] = mapped_column(sa.String(64))
    title: Mapped[str | None] = mapped_column(sa.String(300))
    # Bumped whenever the set of published comments changes: the list's ETag.
    comments_version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    # Surge mode (moderation.judgment.surge): pre-moderated until then, and why.
    surge_until: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    surge_reason: Mapped[str | None] = mapped_column(sa.String(200))

    site = relationship("Site", back_populates="pages")

    def bump(self):
        self.comments_version = (self.comments_version or 0) + 1
