"""What both importers share: the neutral thread/comment shape and writing one thread in one transaction.

An importer (isso.py, disqus.py) only reads its format and yields `(ThreadIn, [CommentIn])`
pairs; everything about our schema lives here, so both behave the same way:

- a page is found or created by its normalized URL (the same row live comments use);
- a comment is found by (site, source, external id) in `imported_comment`: new ones are
  inserted, changed ones updated, unchanged ones skipped, so running an import twice
  gives the same rows;
- bodies go through `sanitizer.render_comment` exactly like comments from the widget (Disqus
  bodies, which are HTML, through `sanitizer.render_html`);
- a comment a moderator has decided on (or edited) here is left as it is when the import is re-run;
- each thread is committed on its own: a failure rolls back that thread only and stops
  the run, so the database never holds half a thread.
"""
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..judgment import screening
from ..models import Comment, ImportedComment, Page, Site
from ..models.base import as_utc, utcnow
from ..models.sites import url_hash
from ..sanitizer import clean_line, clean_text, render_comment, render_html, strip_controls
from ..urls import normalize_url, origin_allowed
from ..validators import internal_client_id

AUTHOR_MAX = 80
EMAIL_MAX = 254
WEBSITE_MAX = 300
TITLE_MAX = 300
ANONYMOUS = "Anonymous"
# The longest id from the source that `imported_comment` can hold.
EXTERNAL_ID_MAX = ImportedComment.__table__.c.external_id.type.length


class MalformedInput(Exception):
    """The input file is not what its format promises; the message names where."""


@dataclass
class ThreadIn:
    external_id: str
    url: str  # absolute, already normalized
    title: str | None
    where: str | None = None  # the row or line in the input file, for error messages


@dataclass
class CommentIn:
    external_id: str
    parent_external_id: str | None
    created_at: datetime
    author: str | None
    email: str | None
    website: str | None
    body: str
    status: str  # one of Comment's statuses
    edited_at: datetime | None = None
    reason: str | None = None  # why it is not approved, when the source says
    body_is_html: bool = False  # Disqus exports HTML; Isso keeps what the reader typed


@dataclass
class Summary:
    threads: int = 0
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    kept: int = 0  # decided by a moderator here since the last import: left as they are
    skipped: int = 0  # present in the file but not importable (named in `notes`)
    notes: list = field(default_factory=list)

    @property
    def comments(self):
        return self.imported + self.updated + self.unchanged + self.kept

    def lines(self):
        yield (f"{self.threads} threads, {self.comments} comments: {self.imported} imported, "
               f"{self.updated} updated, {self.unchanged} unchanged, {self.skipped} skipped"
               + (f", {self.kept} kept as moderated here" if self.kept else ""))
        for note in self.notes[:20]:
            yield f"  skipped: {note}"
        if len(self.notes) > 20:
            yield f"  ... and {len(self.notes) - 20} more"


def site_by_key(key):
    site = db.session.execute(sa.select(Site).where(Site.key == key)).scalar_one_or_none()
    if site is None:
        raise LookupError(f"no site with key {key!r}")
    return site


def absolute_url(value, base, where):
    """A thread's address as one of our normalized page URLs; `base` resolves a bare path (Isso)."""
    # Control characters (NUL, ESC...) go, as in every URL a reader sends (validators.validate_url).
    raw = strip_controls(value or "").strip()
    if not raw:
        raise MalformedInput(f"{where}: the thread has no URL")
    if raw.startswith("/"):
        if not base:
            raise MalformedInput(
                f"{where}: {raw!r} is a path; give --base-url (the site's origin) to make it a URL"
            )
        raw = base.rstrip("/") + raw
    normalized = normalize_url(raw)
    if normalized is None:
        raise MalformedInput(f"{where}: {value!r} is not an http(s) URL")
    return normalized


def _page(site, thread):
    page = db.session.execute(
        sa.select(Page).where(Page.site_id == site.id, Page.url_hash == url_hash(thread.url))
    ).scalar_one_or_none()
    title = clean_line(thread.title)[:TITLE_MAX] if thread.title else None
    if page is None:
        page = Page(site_id=site.id, url=thread.url, url_hash=url_hash(thread.url), title=title or None)
        db.session.add(page)
        db.session.flush()
    elif title and not page.title:
        page.title = title  # never overwrite a title live traffic already set
    return page


def _parents_first(comments):
    """Comments ordered so that every parent comes before its replies (then by date)."""
    by_id = {c.external_id: c for c in comments}

    def depth(comment):
        seen, level = set(), 0
        while comment.parent_external_id in by_id and comment.external_id not in seen:
            seen.add(comment.external_id)
            comment = by_id[comment.parent_external_id]
            level += 1
        return level

    return sorted(comments, key=lambda c: (depth(c), c.created_at, c.external_id))


def _fields(item, page, parent):
    # The same text rules as a comment from the widget (NUL, ESC and other controls removed, NFC):
    # body_raw is what the dashboard, exports and the next render start from.
    body = strip_controls(item.body or "")
    author = clean_line(item.author or "")[:AUTHOR_MAX] or ANONYMOUS
    email = clean_text(item.email or "")[:EMAIL_MAX] or None
    return {
        "page_id": page.id,
        "parent_id": parent.id if parent else None,
        "thread_id": (parent.thread_id or parent.id) if parent else None,
        "author": author,
        "email": email,
        "body_raw": body,
        "body_html": render_html(body) if item.body_is_html else render_comment(body),
        "status": item.status,
        "decision_reason": item.reason,
        "created_at": as_utc(item.created_at),
        "edited_at": as_utc(item.edited_at),
    }


def _same(comment, fields):
    for name, value in fields.items():
        current = getattr(comment, name)
        if isinstance(current, datetime) or isinstance(value, datetime):
            current, value = as_utc(current), as_utc(value)
        if current != value:
            return False
    return True


def check_origin(site, thread):
    """MalformedInput naming the thread when its URL is not on the site's allowed origins.

    The same rule as the reader API (a site without origins accepts any): an import must not
    create pages of another site, which the widget, the fixed check and exports would trust.
    """
    origins = site.allowed_origins or ()
    if origins and not origin_allowed(thread.url, origins):
        where = thread.where or f"thread {thread.external_id}"
        raise MalformedInput(
            f"{where}: {thread.url} is not on the allowed origins of site {site.key!r} "
            f"({', '.join(origins)}); add its origin to the site (or fix the file) and run the import again"
        )


def import_thread(site, source, thread, comments, summary):
    """Write one thread and its comments in one transaction; updates `summary`."""
    check_origin(site, thread)
    try:
        _write_thread(site, source, thread, comments, summary)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def _write_thread(site, source, thread, comments, summary):
    page = _page(site, thread)
    external_ids = [c.external_id for c in comments]
    known = {}
    for chunk in range(0, len(external_ids), 500):
        rows = db.session.execute(
            sa.select(ImportedComment).options(joinedload(ImportedComment.comment)).where(
                ImportedComment.site_id == site.id,
                ImportedComment.source == source,
                ImportedComment.external_id.in_(external_ids[chunk:chunk + 500]),
            )
        ).scalars()
        known.update({row.external_id: row for row in rows})
    written = {}  # external id -> Comment, for the replies that follow
    bump = False
    for item in _parents_first(comments):
        parent = written.get(item.parent_external_id)
        if parent is not None and parent.id is None:
            # Replies need their parent's id. Comments come parents-first, level by level,
            # so this flushes once per reply depth, not once per comment.
            db.session.flush()
        if item.parent_external_id and parent is None:
            summary.notes.append(
                f"{source} comment {item.external_id}: parent {item.parent_external_id} "
                f"is not in thread {thread.external_id}; imported as a top-level comment"
            )
        fields = _fields(item, page, parent)
        website = clean_text(item.website or "")[:WEBSITE_MAX] or None
        mapping = known.get(item.external_id)
        if mapping is not None:
            comment = mapping.comment
            if comment.decided_by_id is not None:
                # A moderator decided (or edited) it here after the import: theirs is the newer word.
                summary.kept += 1
                written[item.external_id] = comment
                continue
            if _same(comment, fields):
                summary.unchanged += 1
            else:
                bump = bump or comment.status == "approved" or fields["status"] == "approved"
                for name, value in fields.items():
                    setattr(comment, name, value)
                comment.body_hash = screening.body_hash(fields["body_raw"])
                mapping.updated_at = utcnow()
                summary.updated += 1
            mapping.website = website
        else:
            comment = Comment(
                # Unique per site; a form no reader can send first (validators.CLIENT_ID).
                client_id=internal_client_id("import", source, item.external_id),
                site_id=site.id,
                body_hash=screening.body_hash(fields["body_raw"]),
                spam_reasons=[],
                submitted_at=fields["created_at"],
                **fields,
            )
            db.session.add(comment)
            db.session.add(ImportedComment(
                site_id=site.id, source=source, external_id=item.external_id, comment=comment,
                website=website,
            ))
            bump = bump or fields["status"] == "approved"
            summary.imported += 1
        written[item.external_id] = comment
    if bump:
        page.bump()  # the reader list's ETag must change
    try:
        db.session.flush()
    except IntegrityError as exc:  # e.g. an id longer than the column, or a concurrent import
        raise MalformedInput(f"thread {thread.external_id}: {exc.orig}") from exc
    summary.threads += 1
