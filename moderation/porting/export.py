"""A site's reports, comments or audit log as JSON or CSV, produced as a stream of text chunks.

Rows are read with `yield_per`, so a site with a million comments costs a few hundred rows
of memory; the CLI writes the chunks to a file, the dashboard streams them as a download.
JSON is one array (one object per line inside it); CSV has a header row and is hardened
against formula injection: a cell whose first visible character is = + - @ (or their
full-width forms) gets a leading apostrophe, so a spreadsheet shows it instead of running
it. "First visible" skips what spreadsheets (or a reader's eye) skip: spaces, tabs, CR/LF,
other control characters and invisible format characters such as U+200B or a BOM; a cell
that starts with a tab or CR is quoted whatever follows.
"""
import csv
import io
import json
import unicodedata
from datetime import datetime, timezone

import sqlalchemy as sa

from ..extensions import db
from ..models import AuditEntry, Comment, ImportedComment, Page, TypoReport
from ..models.base import isoformat

FORMATS = ("json", "csv")
WHATS = ("comments", "reports", "audit")
BATCH = 500
FORMULA_START = ("\t", "\r")
FORMULA_CHARS = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")
# Unicode categories skipped when looking for the first visible character: controls,
# format characters (zero-width space, BOM, bidi marks) and space separators.
INVISIBLE = frozenset(("Cc", "Cf", "Zs", "Zl", "Zp"))

COLUMNS = {
    "comments": ("id", "client_id", "url", "title", "parent", "thread", "author", "email", "website",
                 "body", "body_html", "status", "spam_score", "spam_reasons", "reason", "imported_from",
                 "created_at", "edited_at", "decided_at"),
    "reports": ("id", "client_id", "cluster", "url", "title", "exact", "prefix", "suffix", "position",
                "suggestion", "comment", "kind", "status", "correction", "reason", "created_at", "decided_at"),
    "audit": ("id", "actor", "action", "target_type", "target_id", "before", "after", "reason", "created_at"),
}


def parse_since(value):
    """`YYYY-MM-DD` (or a full ISO date-time) as an aware UTC datetime; None for no bound."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _comments(site, since):
    query = (
        sa.select(Comment, Page.url, Page.title, ImportedComment.website, ImportedComment.source)
        .join(Page, Page.id == Comment.page_id)
        .outerjoin(ImportedComment, ImportedComment.comment_id == Comment.id)
        .where(Comment.site_id == site.id)
        .order_by(Comment.id)
    )
    if since:
        query = query.where(Comment.created_at >= since)
    for c, url, title, website, source in _stream(query):
        yield {
            "id": c.id, "client_id": c.client_id, "url": url, "title": title, "parent": c.parent_id,
            "thread": c.thread_id, "author": c.author, "email": c.email, "website": website,
            "body": c.body_raw, "body_html": c.body_html, "status": c.status, "spam_score": c.spam_score,
            "spam_reasons": list(c.spam_reasons or []), "reason": c.decision_reason, "imported_from": source,
            "created_at": isoformat(c.created_at), "edited_at": isoformat(c.edited_at),
            "decided_at": isoformat(c.decided_at),
        }


def _reports(site, since):
    query = (
        sa.select(TypoReport, Page.url, Page.title)
        .join(Page, Page.id == TypoReport.page_id)
        .where(TypoReport.site_id == site.id)
        .order_by(TypoReport.id)
    )
    if since:
        query = query.where(TypoReport.created_at >= since)
    for r, url, title in _stream(query):
        yield {
            "id": r.id, "client_id": r.client_id, "cluster": r.cluster_id, "url": url, "title": title,
            "exact": r.exact, "prefix": r.prefix, "suffix": r.suffix, "position": r.position,
            "suggestion": r.suggestion, "comment": r.comment, "kind": r.kind, "status": r.status,
            "correction": r.correction, "reason": r.decision_reason,
            "created_at": isoformat(r.created_at), "decided_at": isoformat(r.decided_at),
        }


def _audit(site, since):
    query = sa.select(AuditEntry).where(AuditEntry.site_id == site.id).order_by(AuditEntry.id)
    if since:
        query = query.where(AuditEntry.created_at >= since)
    for (entry,) in _stream(query):
        yield entry.to_dict()


def _stream(query):
    # yield_per: the driver hands rows over in batches instead of one list of everything.
    result = db.session.execute(query.execution_options(yield_per=BATCH))
    try:
        yield from result
    finally:
        result.close()


ROWS = {"comments": _comments, "reports": _reports, "audit": _audit}


def rows(site, what, since=None):
    """Plain dicts (JSON-ready), oldest first."""
    return ROWS[what](site, since)


def safe_cell(value):
    """A CSV cell: JSON for structures, '' for None, text that cannot start a formula."""
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    elif isinstance(value, bool) or not isinstance(value, str):
        return value
    if value.startswith(FORMULA_START) or _starts_formula(value):
        return "'" + value
    return value


def _starts_formula(value):
    for char in value:
        if char in FORMULA_CHARS:
            return True
        if not (char.isspace() or unicodedata.category(char) in INVISIBLE):
            return False
    return False


def _json(records):
    yield "["
    first = True
    for record in records:
        yield ("\n" if first else ",\n") + json.dumps(record, ensure_ascii=False)
        first = False
    yield "\n]\n"


def _csv(records, columns):
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush():
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(columns)
    yield flush()
    for record in records:
        writer.writerow([safe_cell(record.get(name)) for name in columns])
        yield flush()


def write_export(site, what, fmt, since=None):
    """Text chunks of the export; concatenated they are the whole file."""
    if what not in ROWS:
        raise ValueError(f"unknown export {what!r}")
    records = rows(site, what, since)
    if fmt == "json":
        return _json(records)
    if fmt == "csv":
        return _csv(records, COLUMNS[what])
    raise ValueError(f"unknown format {fmt!r}")
