"""Report clusters: the same spot reported by many readers is one item for editors."""
import hashlib
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..schemas import limits
from .base import isoformat, one_of, utcnow

# Characters of context on each side that must agree for two reports to be "the same spot".
CONTEXT_MATCH = 16


def cluster_key(page_id, exact, prefix, suffix):
    """Same page, same selected text, same immediate surroundings."""
    material = "\x1f".join(
        (str(page_id), exact.strip().lower(), prefix[-CONTEXT_MATCH:].lower(), suffix[:CONTEXT_MATCH].lower())
    )
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


class ReportCluster(db.Model):
    __tablename__ = "report_cluster"
    __table_args__ = (
        sa.CheckConstraint(one_of("status", limits.REPORT_QUEUES), name="status"),
        sa.Index("ix_report_cluster_queue", "status", "id"),
        sa.Index("ix_report_cluster_site_queue", "site_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id", ondelete="CASCADE"))
    page_id: Mapped[int] = mapped_column(sa.ForeignKey("page.id", ondelete="CASCADE"), index=True)
    exact: Mapped[str] = mapped_column(sa.String(limits.EXACT_MAX))
    prefix: Mapped[str] = mapped_column(sa.String(limits.CONTEXT_MAX), default="")
    suffix: Mapped[str] = mapped_column(sa.String(limits.CONTEXT_MAX), default="")
    status: Mapped[str] = mapped_column(sa.String(12), default="new")
    report_count: Mapped[int] = mapped_column(default=0)
    first_reported_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    last_reported_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    correction: Mapped[str | None] = mapped_column(sa.Text)
    decision_reason: Mapped[str | None] = mapped_column(sa.String(limits.REASON_MAX))
    decided_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    # A spell-checker's correction of a one- or two-word selection nobody suggested a fix for
    # (moderation.judgment.suggestions); shown to editors as machine-made, never sent to readers.
    machine_suggestion: Mapped[str | None] = mapped_column(sa.String(limits.EXACT_MAX))
    # "Fixed (detected)": the quote is gone from the live page (moderation.jobs.fixed_check).
    # A flag, not a status: the status is an editor's decision and is what readers are told,
    # so the cluster stays 'new' until an editor confirms; no CheckConstraint change needed.
    fixed_detected_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # When the fixed-check job last compared this cluster with its page (skips recent pages).
    fixed_checked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    page = relationship("Page")
    site = relationship("Site")
    reports = relationship("TypoReport", back_populates="cluster", order_by="TypoReport.id")
    decided_by = relationship("User")

    def suggestions(self):
        """Distinct suggestions, most frequent first: [(text, count)]."""
        counts = {}
        for report in self.reports:
            if report.suggestion and report.suggestion != self.exact:
                counts[report.suggestion] = counts.get(report.suggestion, 0) + 1
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))

    def best_suggestion(self):
        found = self.suggestions()
        return found[0][0] if found else self.exact

    def to_dict(self):
        return {
            "id": self.id,
            "site": self.site.key,
            "url": self.page.url,
            "title": self.page.title,
            "exact": self.exact,
            "prefix": self.prefix,
            "suffix": self.suffix,
            "status": self.status,
            "reports": self.report_count,
            "suggestions": [{"text": t, "count": n} for t, n in self.suggestions()],
            "correction": self.correction,
            "reason": self.decision_reason,
            "first_reported_at": isoformat(self.first_reported_at),
            "last_reported_at": isoformat(self.last_reported_at),
            "decided_at": isoformat(self.decided_at),
            "machine_suggestion": self.machine_suggestion,
            "fixed_detected_at": isoformat(self.fixed_detected_at),
            "fixed_checked_at": isoformat(self.fixed_checked_at),
        }
