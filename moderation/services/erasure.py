"""One reader's data: find it by e-mail, export it, erase it (with an audit entry).

Who is "one person": the comments whose stored e-mail is theirs (compared
trimmed and lower-cased). Their error reports and reader flags carry no e-mail,
only an address hash; rows with an address hash seen on their comments are
*linked by address*. A shared address (an office, a mobile carrier's NAT) can
link another reader's rows, so erasure only drops the hash from those rows (harmless
to anyone) and the export lists them apart, under ``address_linked``.

Erasing a comment keeps the row, so replies keep their thread: author "",
e-mail, hashes and body removed, the body replaced by a tombstone in the
site's language; a comment still waiting for a decision is rejected. Audit
entries about those comments lose the text they quoted. The e-mail never
enters the audit trail in clear, only its keyed hash (so a repeated request
can be recognised).
"""
from dataclasses import dataclass, field

import sqlalchemy as sa

from ..extensions import db
from ..models import AuditEntry, Comment, CommentFlag, TypoReport
from ..models.base import isoformat, utcnow
from ..privacy import hash_email, normalize_email
from ..sanitizer import render_comment

TOMBSTONES = {
    "ru": "Комментарий удалён по просьбе автора.",
    "kk": "Пікір авторының өтініші бойынша жойылды.",
    "en": "Comment removed at the author's request.",
}
ERASED = "[erased]"
# Audit before/after keys that can quote what the person wrote or who they are.
PERSONAL_KEYS = ("body", "body_raw", "body_html", "author", "email")
ERASE_ACTION = "person.erase"


@dataclass
class Found:
    email: str
    comments: list = field(default_factory=list)
    reports: list = field(default_factory=list)
    flags: list = field(default_factory=list)

    @property
    def empty(self):
        return not (self.comments or self.reports or self.flags)


def find(email):
    """Everything we hold that belongs to (or is linked by address to) this e-mail."""
    subject = normalize_email(email)
    found = Found(subject)
    if not subject:
        return found
    found.comments = list(db.session.execute(
        sa.select(Comment).where(sa.func.lower(sa.func.trim(Comment.email)) == subject).order_by(Comment.id)
    ).scalars())
    hashes = {c.reporter_hash for c in found.comments if c.reporter_hash}
    if hashes:
        found.reports = list(db.session.execute(
            sa.select(TypoReport).where(TypoReport.reporter_hash.in_(hashes)).order_by(TypoReport.id)
        ).scalars())
        found.flags = list(db.session.execute(
            sa.select(CommentFlag).where(CommentFlag.reporter_hash.in_(hashes)).order_by(CommentFlag.id)
        ).scalars())
    return found


def earlier_erasures(email):
    """Audit entries of earlier erasures of this e-mail (matched by its keyed hash)."""
    subject_hash = hash_email(normalize_email(email))
    rows = db.session.execute(
        sa.select(AuditEntry).where(AuditEntry.action == ERASE_ACTION).order_by(AuditEntry.id)
    ).scalars()
    return [row for row in rows if (row.after or {}).get("subject") == subject_hash]


def export(found, address_linked=True):
    """Plain data for `json.dumps`."""
    data = {
        "email": found.email,
        "comments": [
            {
                "id": c.id, "site": c.site.key, "url": c.page.url, "title": c.page.title,
                "parent": c.parent_id, "author": c.author, "email": c.email, "body": c.body_raw,
                "status": c.status, "decision_reason": c.decision_reason,
                "created_at": isoformat(c.created_at), "submitted_at": isoformat(c.submitted_at),
                "edited_at": isoformat(c.edited_at), "decided_at": isoformat(c.decided_at),
            }
            for c in found.comments
        ],
    }
    if address_linked:
        data["address_linked"] = {
            "note": "sent from a network address also seen on these comments; may include other "
                    "readers sharing that address",
            "reports": [
                {key: value for key, value in r.to_dict().items()
                 if key in ("id", "site", "url", "title", "exact", "prefix", "suffix", "suggestion",
                            "comment", "kind", "status", "created_at")}
                for r in found.reports
            ],
            "flags": [
                {"comment": f.comment_id, "reason": f.reason, "created_at": isoformat(f.created_at)}
                for f in found.flags
            ],
        }
    return data


def _scrub(value):
    if not isinstance(value, dict):
        return value
    return {key: (ERASED if key in PERSONAL_KEYS and item is not None else item) for key, item in value.items()}


def erase(found, actor=None, actor_label="system", reason=None):
    """Anonymize `found` and add one audit entry (no commit). Returns the entry's `after`."""
    now = utcnow()
    comment_ids = [c.id for c in found.comments]
    for comment in found.comments:
        comment.author = ""
        comment.email = None
        comment.reporter_hash = None
        comment.body_hash = None
        comment.body_raw = ""
        comment.body_html = render_comment(TOMBSTONES.get(comment.site.language, TOMBSTONES["en"]))
        comment.edited_at = now
        if comment.status in ("pending", "flagged"):
            comment.status, comment.decided_at = "rejected", now
            comment.decision_reason = "erased at the author's request"
            comment.page.bump()
        elif comment.status == "approved":
            comment.page.bump()  # readers' cached copies (ETag) must change
    for row in found.reports + found.flags:
        row.reporter_hash = None
    scrubbed = 0
    if comment_ids:
        for entry in db.session.execute(
            sa.select(AuditEntry).where(AuditEntry.target_type == "comment", AuditEntry.target_id.in_(comment_ids))
        ).scalars():
            before, after = _scrub(entry.before), _scrub(entry.after)
            if before != entry.before or after != entry.after:
                entry.before, entry.after = before, after
                scrubbed += 1
    summary = {
        # None when erased from one comment without an e-mail (the dashboard action).
        "subject": hash_email(found.email) if found.email else None,
        "comments": comment_ids,
        "reports": [r.id for r in found.reports],
        "flags": len(found.flags),
        "audit_entries_scrubbed": scrubbed,
    }
    sites = {c.site_id for c in found.comments} | {r.site_id for r in found.reports}
    db.session.add(AuditEntry(
        actor_id=actor.id if actor is not None else None,
        actor_label=actor.email if actor is not None else actor_label,
        action=ERASE_ACTION, target_type="person", target_id=0,
        site_id=sites.pop() if len(sites) == 1 else None,
        after=summary, reason=reason,
    ))
    return summary
