"""Where imported comments came from: the key that makes a re-import update instead of duplicate."""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import utcnow

IMPORT_SOURCES = ("isso", "disqus", "wordpress")


class ImportedComment(db.Model):
    """One comment brought in from another system, by its id over there.

    A separate table rather than columns on `comment`: live comments never pay for it,
    and the (site, source, external id) unique constraint is what keeps an import idempotent.
    """

    __tablename__ = "imported_comment"
    __table_args__ = (
        sa.UniqueConstraint("site_id", "source", "external_id", name="uq_imported_comment_source"),
        # Derived from IMPORT_SOURCES; a new source also needs a migration that rewrites this check.
        sa.CheckConstraint("source in (%s)" % ", ".join(f"'{s}'" for s in IMPORT_SOURCES), name="source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(sa.String(16))
    external_id: Mapped[str] = mapped_column(sa.String(64))
    comment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("comment.id", ondelete="CASCADE"), index=True, unique=True
    )
    # Our comments have no website field; the author's link is kept here, not lost.
    website: Mapped[str | None] = mapped_column(sa.String(300))
    imported_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    comment = relationship("Comment")
