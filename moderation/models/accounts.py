"""Staff accounts (editors, moderators, admins) and their API tokens."""
import hashlib
import secrets
import time
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from .base import utcnow

ROLES = ("admin", "editor", "moderator")
# What each role may work on.
ROLE_SCOPES = {
    "admin": {"reports", "comments", "admin"},
    "editor": {"reports", "comments"},
    "moderator": {"comments"},
}

user_sites = sa.Table(
    "user_site",
    db.metadata,
    sa.Column("user_id", sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("site_id", sa.ForeignKey("site.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, db.Model):
    __tablename__ = "user"
    __table_args__ = (sa.CheckConstraint("role in ('admin', 'editor', 'moderator')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(16), default="moderator")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # Dashboard language ("en", "ru"); None follows the browser.
    locale: Mapped[str | None] = mapped_column(sa.String(8))
    # Part of every session's and remember cookie's user id (get_id): raising it ends
    # them all (sign-out, password change or reset, deactivation; moderation.auth).
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")

    # Empty = every site; otherwise the user works only these sites.
    sites = relationship("Site", secondary=user_sites, lazy="selectin")

    @property
    def is_active(self):
        return bool(self.active)

    def get_id(self):
        """Flask-Login's alternative id: "<id>:<session_version>"."""
        return f"{self.id}:{self.session_version or 1}"

    def login_session_id(self):
        """What a sign-in stores in its session and remember cookie (moderation.auth)."""
        return f"{self.get_id()}:{int(time.time())}"

    def end_sessions(self):
        """Invalidate every session and remember cookie of this account (commit to apply)."""
        self.session_version = (self.session_version or 1) + 1

    def set_password(self, password):
        """A new password also signs the account out everywhere."""
        self.password_hash = generate_password_hash(password)
        self.end_sessions()

    def check_password(self, password):
        return check_password_hash(self.password_hash, password)

    def can(self, scope):
        return scope in ROLE_SCOPES.get(self.role, set())

    def site_ids(self):
        """None means all sites."""
        if self.role == "admin" or not self.sites:
            return None
        return {site.id for site in self.sites}

    def can_site(self, site_id):
        allowed = self.site_ids()
        return allowed is None or site_id in allowed


def hash_token(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class ApiToken(db.Model):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    # Only the SHA-256 of the token is kept; the token itself is shown once.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100), default="")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    user = relationship("User")

    @classmethod
    def issue(cls, user, name=""):
        """Create a token for `user`; returns (row, plaintext token)."""
        token = "mod_" + secrets.token_urlsafe(32)
        row = cls(user=user, token_hash=hash_token(token), name=name)
        return row, token

    @classmethod
    def lookup(cls, token):
        row = db.session.execute(
            sa.select(cls).where(cls.token_hash == hash_token(token), cls.revoked_at.is_(None))
        ).scalar_one_or_none()
        if row is None or not row.user.is_active:
            return None
        return row
