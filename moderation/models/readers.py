"""Readers (people, not addresses) and the per-site secrets that sign their SSO tokens.

docs/identity.md has the contract. A reader is either signed in through the newsroom's
own accounts (SSO, key ``sso:<site id>:<user id>``) or anonymous (key ``anon:<random>``,
issued and signed by us). History, trust and bans key on the reader; the address hash
stays a rate-limit key and a hint.
"""
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..schemas.limits import AUTHOR_MAX, REASON_MAX
from .base import as_utc, isoformat, utcnow

READER_KINDS = ("sso", "anonymous")
# A ban "until lifted" is a date no one reaches: "banned" is then always `banned_until > now`
# (one indexed comparison, no second flag to keep in step). 9999-01-01, not 9999-12-31: a
# timestamp shown in a zone east of UTC must not overflow datetime's year 9999.
BANNED_UNTIL_LIFTED = datetime(9999, 1, 1, tzinfo=timezone.utc)
KEY_LENGTH = 200


class Reader(db.Model):
    __tablename__ = "reader"
    __table_args__ = (
        sa.CheckConstraint("kind in ('sso', 'anonymous')", name="kind"),
        # Derived bans (services/readers.py): banned readers of a site by e-mail or address hash.
        sa.Index("ix_reader_site_email", "site_id", "email_hash"),
        sa.Index("ix_reader_site_address", "site_id", "address_hash"),
    )

    # An integer key like every other row: audit entries, foreign keys and the dashboard's
    # links use it. `key` is the reader's public id (the API's "reader": {"id": ...}).
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(KEY_LENGTH), unique=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(10))
    # The SSO username, or the name an anonymous reader last typed.
    display_name: Mapped[str | None] = mapped_column(sa.String(AUTHOR_MAX))
    # privacy.hash_email of the last e-mail seen (SSO claim or typed); never the clear e-mail.
    email_hash: Mapped[str | None] = mapped_column(sa.String(64))
    # privacy.hash_address of the last address seen: only a short-lived ban extension uses it.
    address_hash: Mapped[str | None] = mapped_column(sa.String(64))
    first_seen: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    # None: not banned; BANNED_UNTIL_LIFTED: until a moderator unbans.
    banned_until: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    banned_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    ban_reason: Mapped[str | None] = mapped_column(sa.String(REASON_MAX))
    # Always held for a moderator, without telling the reader.
    premoderate: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    trusted: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    site = relationship("Site")

    def own_ban_in_force(self, now=None):
        """This reader's own ban is in force at `now` (derived bans: services.readers.is_banned)."""
        until = as_utc(self.banned_until)
        return until is not None and until > (now or utcnow())

    @property
    def banned_until_lifted(self):
        return as_utc(self.banned_until) == BANNED_UNTIL_LIFTED

    def to_dict(self):
        """What a moderator sees (no hashes). "banned_until": null or a date, always a date
        (9999-01-01T00:00:00Z for "until lifted") so that clients simply compare it."""
        return {
            "id": self.key,
            "kind": self.kind,
            "name": self.display_name,
            "banned_until": isoformat(self.banned_until),
            "banned_until_lifted": self.banned_until_lifted,
            "ban_reason": self.ban_reason,
            "premoderate": bool(self.premoderate),
            "trusted": bool(self.trusted),
            "first_seen": isoformat(self.first_seen),
            "last_seen": isoformat(self.last_seen),
        }


class SiteSsoSecret(db.Model):
    """The HMAC secret a site's CMS signs SSO tokens with (stored as is: HS256 needs it).

    Shown only by `moderation sso-secret` and the site's admin page; never logged. After a
    rotation the previous secret keeps verifying until `previous_valid_until`.
    """

    __tablename__ = "site_sso_secret"

    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id", ondelete="CASCADE"), primary_key=True)
    secret: Mapped[str] = mapped_column(sa.String(128))
    previous_secret: Mapped[str | None] = mapped_column(sa.String(128))
    previous_valid_until: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    rotated_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    def __repr__(self):  # never the secret, even in a traceback or a debug log
        return f"<SiteSsoSecret site={self.site_id}>"
