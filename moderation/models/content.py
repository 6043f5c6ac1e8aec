"""What readers send: typo reports and comments."""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..schemas import limits
from ..schemas.limits import FLAG_REASONS, REPORT_KINDS  # noqa: F401  (re-exported)
from .base import isoformat, one_of, utcnow

# Column sizes and CHECKs come from the API contract: a limit changed there changes here.
REPORT_STATUSES = limits.REPORT_QUEUES
COMMENT_STATUSES = limits.COMMENT_QUEUES


class TypoReport(db.Model):
    __tablename__ = "typo_report"
    __table_args__ = (
        sa.CheckConstraint(one_of("kind", REPORT_KINDS), name="kind"),
        sa.CheckConstraint(one_of("status", REPORT_STATUSES), name="status"),
        sa.Index("ix_typo_report_queue", "status", "id"),
        sa.Index("ix_typo_report_site_queue", "site_id", "status", "id"),
        # Unique per site, not globally: one site's readers cannot squat another's ids.
        # client_id first: the same index answers persist's lookups by client_id.
        sa.UniqueConstraint("client_id", "site_id", name="uq_typo_report_site_client"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(sa.String(limits.CLIENT_ID_MAX))
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id", ondelete="CASCADE"))
    page_id: Mapped[int] = mapped_column(sa.ForeignKey("page.id", ondelete="CASCADE"), index=True)
    # W3C TextQuoteSelector plus the offset in the article text when the widget knows it.
    exact: Mapped[str] = mapped_column(sa.String(limits.EXACT_MAX))
    prefix: Mapped[str] = mapped_column(sa.String(limits.CONTEXT_MAX), default="")
    suffix: Mapped[str] = mapped_column(sa.String(limits.CONTEXT_MAX), default="")
    position: Mapped[int | None]
    suggestion: Mapped[str | None] = mapped_column(sa.String(limits.SUGGESTION_MAX))
    comment: Mapped[str | None] = mapped_column(sa.String(limits.REPORT_COMMENT_MAX))
    kind: Mapped[str] = mapped_column(sa.String(8), default=limits.DEFAULT_REPORT_KIND)
    status: Mapped[str] = mapped_column(sa.String(12), default="new")
    correction: Mapped[str | None] = mapped_column(sa.Text)
    decision_reason: Mapped[str | None] = mapped_column(sa.String(limits.REASON_MAX))
    reporter_hash: Mapped[str | None] = mapped_column(sa.String(64))
    reader_id: Mapped[int | None] = mapped_column(sa.ForeignKey("reader.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    # When the reader pressed Send (from the widget's clock-free view: our ingest time).
    submitted_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    cluster_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("report_cluster.id", ondelete="SET NULL"), index=True
    )

    page = relationship("Page")
    site = relationship("Site")
    cluster = relationship("ReportCluster", back_populates="reports")

    def to_dict(self):
        return {
            "id": self.id,
            "client_id": self.client_id,
            "cluster": self.cluster_id,
            "cluster_reports": self.cluster.report_count if self.cluster else 1,
            "site": self.site.key,
            "url": self.page.url,
            "title": self.page.title,
            "exact": self.exact,
            "prefix": self.prefix,
            "suffix": self.suffix,
            "position": self.position,
            "suggestion": self.suggestion,
            "comment": self.comment,
            "kind": self.kind,
            "status": self.status,
            "correction": self.correction,
            "reason": self.decision_reason,
            "created_at": isoformat(self.created_at),
            "decided_at": isoformat(self.decided_at),
        }


class Comment(db.Model):
    __tablename__ = "comment"
    __table_args__ = (
        sa.CheckConstraint(
            one_of("status", COMMENT_STATUSES), name="status"
        ),
        sa.Index("ix_comment_queue", "status", "id"),
        sa.Index("ix_comment_site_queue", "site_id", "status", "id"),
        sa.Index("ix_comment_page_list", "page_id", "status", "thread_id", "id"),
        # A reader's comments per site: author history, trusted commenter, velocity. Covering:
        # batch screening counts them by status and time without reading a row.
        sa.Index("ix_comment_reader_recent", "reporter_hash", "site_id", "status", "created_at"),
        # The article's recent comments: surge detection counts them (and their status) per batch.
        sa.Index("ix_comment_page_recent", "page_id", "created_at", "status"),
        sa.Index("ix_comment_body_hash", "site_id", "body_hash"),
        # A reader's comments (history, trust, velocity by reader): covering like the one above.
        sa.Index("ix_comment_reader_history", "reader_id", "status", "created_at"),
        # An anonymous reader's e-mail history (the hint screening checks their own against): covering.
        sa.Index("ix_comment_site_email", "site_id", "email", "status"),
        sa.UniqueConstraint("client_id", "site_id", name="uq_comment_site_client"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(sa.String(limits.CLIENT_ID_MAX))
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id", ondelete="CASCADE"))
    page_id: Mapped[int] = mapped_column(sa.ForeignKey("page.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("comment.id", ondelete="SET NULL"), index=True
    )
    # The top-level comment of the thread (None for a top-level comment itself):
    # a page of threads is then two indexed queries, whatever the reply depth.
    thread_id: Mapped[int | None] = mapped_column(sa.ForeignKey("comment.id", ondelete="SET NULL"))
    author: Mapped[str] = mapped_column(sa.String(limits.AUTHOR_MAX))
    # Never shown to readers; used for follow-up mail and blocking.
    email: Mapped[str | None] = mapped_column(sa.String(limits.EMAIL_MAX))
    body_raw: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str] = mapped_column(sa.Text)
    # Fingerprint of the normalized body: the same text posted on several articles is spam.
    body_hash: Mapped[str | None] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(12), default="pending")
    spam_score: Mapped[float | None]
    spam_reasons: Mapped[list] = mapped_column(sa.JSON, default=list)
    reporter_hash: Mapped[str | None] = mapped_column(sa.String(64))
    # models.readers.Reader: one person's comments, whatever the address (None: nobody known).
    reader_id: Mapped[int | None] = mapped_column(sa.ForeignKey("reader.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    edited_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    decision_reason: Mapped[str | None] = mapped_column(sa.String(limits.REASON_MAX))
    # Shown first in every order, with a mark (the moderation action `feature`).
    featured: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Readers' votes (models.reactions.CommentVote), kept here for the list and its "best" order.
    likes: Mapped[int] = mapped_column(default=0, server_default="0")
    dislikes: Mapped[int] = mapped_column(default=0, server_default="0")

    page = relationship("Page")
    site = relationship("Site")
    parent = relationship("Comment", remote_side=[id], foreign_keys=[parent_id])

    @property
    def deleted(self):
        """Deleted by its reader (services.reader_own.delete) or erased (services.erasure): the
        thread keeps its place, with no name and a tombstone in the site's language for text."""
        return self.body_raw == "" and self.author == ""

    def public_dict(self, verified=False):
        """Whitelisted fields a reader may see (no e-mail, no hashes, no scores). `verified`:
        its reader signed in through the site (the caller knows it for a whole page at once)."""
        return {
            "id": self.id,
            "parent": self.parent_id,
            "author": self.author,
            "body_html": self.body_html,
            "created_at": isoformat(self.created_at),
            "edited_at": isoformat(self.edited_at),
            "verified": verified,
            "deleted": self.deleted,
            "likes": self.likes or 0,
            "dislikes": self.dislikes or 0,
            "featured": bool(self.featured),
        }

    def to_dict(self):
        """What a moderator sees."""
        return {
            "id": self.id,
            "client_id": self.client_id,
            "site": self.site.key,
            "url": self.page.url,
            "title": self.page.title,
            "parent": self.parent_id,
            "author": self.author,
            "email": self.email,
            "body": self.body_raw,
            "body_html": self.body_html,
            "status": self.status,
            "featured": bool(self.featured),
            "spam_score": self.spam_score,
            "spam_reasons": list(self.spam_reasons or []),
            "reason": self.decision_reason,
            "created_at": isoformat(self.created_at),
            "edited_at": isoformat(self.edited_at),
            "decided_at": isoformat(self.decided_at),
        }


class CommentFlag(db.Model):
    """A reader's flag on a published comment: once per reader per comment (two readers behind
    one address both count; a flag from before readers is once per address hash, persist.py)."""

    __tablename__ = "comment_flag"
    __table_args__ = (
        # NULL reader ids (flags from before readers) never collide: persist.py dedups those.
        sa.UniqueConstraint("comment_id", "reader_id", name="uq_comment_flag_once_per_reader"),
        # The comment fixes the site; persist checks (site, client_id) like for the other kinds.
        sa.UniqueConstraint("client_id", "comment_id", name="uq_comment_flag_comment_client"),
        sa.CheckConstraint(one_of("reason", FLAG_REASONS), name="reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(sa.String(limits.CLIENT_ID_MAX))
    comment_id: Mapped[int] = mapped_column(sa.ForeignKey("comment.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(sa.String(12))
    # None once retention or an erasure removed it.
    reporter_hash: Mapped[str | None] = mapped_column(sa.String(64))
    reader_id: Mapped[int | None] = mapped_column(sa.ForeignKey("reader.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
