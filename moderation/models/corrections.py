"""Published corrections: the public log of what a newsroom corrected in an article.

Made by an editor when fixing a reported spot ("publish as correction", with a note) or written
by hand. Readers see the published ones (GET /api/v1/corrections, the Atom feed); unpublishing
keeps the row (and the audit trail) but takes it off both.
"""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..schemas import limits
from .base import isoformat, one_of, utcnow


class Correction(db.Model):
    __tablename__ = "correction"
    __table_args__ = (
        sa.CheckConstraint(one_of("kind", limits.CORRECTION_KINDS), name="kind"),
        # The article's published corrections, newest first; and the site's feed.
        sa.Index("ix_correction_page_list", "page_id", "published", "corrected_at"),
        sa.Index("ix_correction_site_feed", "site_id", "published", "corrected_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id", ondelete="CASCADE"))
    page_id: Mapped[int] = mapped_column(sa.ForeignKey("page.id", ondelete="CASCADE"))
    # The reported spot it corrects (None: written by hand, or the spot was deleted).
    cluster_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("report_cluster.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(8))
    # What the article now reads (a cluster's correction) or the editor's words.
    text: Mapped[str] = mapped_column(sa.Text)
    note: Mapped[str | None] = mapped_column(sa.String(limits.CORRECTION_NOTE_MAX))
    published: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    corrected_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    # Bumped by every change (publish, unpublish): part of the list's ETag.
    changed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))

    page = relationship("Page")
    site = relationship("Site")

    def public_dict(self):
        return {"text": self.text, "note": self.note, "corrected_at": isoformat(self.corrected_at),
                "kind": self.kind}

    def to_dict(self):
        """What an editor sees."""
        return dict(self.public_dict(), id=self.id, site=self.site.key, url=self.page.url,
                    cluster=self.cluster_id, published=self.published)
