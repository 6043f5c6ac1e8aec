"""The audit log: every decision and admin change, newest first.

Every signed-in role may read it, limited to the entries of the user's sites
(entries without a site, such as account changes, only for users of all sites).
"""
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from flask import render_template, request
from flask_babel import lazy_gettext
from flask_login import current_user

from ..extensions import db
from ..models import AuditEntry
from ..models.base import as_utc
from ..schemas.limits import MAX_ID
from . import bp, labels
from .common import register_nav, visible_sites

register_nav("dashboard.audit", lazy_gettext("Audit log"), "comments")

PAGE_SIZE = 100
# Offered in the action filter, with their labels; any other value is matched as typed.
ACTIONS = labels.ACTIONS


def utc(value):
    """A stored time in UTC (SQLite hands back naive UTC, PostgreSQL the session's zone)."""
    return as_utc(value).astimezone(timezone.utc)


def _day(value, end=False):
    """Start of a `YYYY-MM-DD` day in UTC (of the next day if `end`); None if not a date."""
    try:
        day = datetime.strptime(value or "", "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except ValueError:
        return None
    return day + timedelta(days=1) if end else day


def _query(args):
    query = sa.select(AuditEntry)
    allowed = current_user.site_ids()
    if allowed is not None:
        query = query.where(AuditEntry.site_id.in_(allowed))
    if args.get("user", "").strip():
        query = query.where(AuditEntry.actor_label == args["user"].strip().lower())
    if args.get("action", "").strip():
        query = query.where(AuditEntry.action == args["action"].strip())
    since, until = _day(args.get("since")), _day(args.get("until"), end=True)
    if since:
        query = query.where(AuditEntry.created_at >= since)
    if until:
        query = query.where(AuditEntry.created_at < until)
    before = args.get("before", type=int)
    # Past the INTEGER range every id qualifies: no bound (and none PostgreSQL would refuse).
    if before and before <= MAX_ID:
        query = query.where(AuditEntry.id < before)
    return query.order_by(AuditEntry.id.desc()).limit(PAGE_SIZE + 1)


@bp.get("/audit")
def audit():
    """Filtered audit entries, 100 a page (`before=<id>` for the next). Never raises:
    a filter value that is not a date or a number is ignored."""
    entries = db.session.execute(_query(request.args)).scalars().all()
    cursor = entries[PAGE_SIZE - 1].id if len(entries) > PAGE_SIZE else None
    return render_template(
        "dashboard/audit.html", entries=entries[:PAGE_SIZE], cursor=cursor, values=request.args,
        actions=ACTIONS, site_names={s.id: s.name for s in visible_sites()}, utc=utc,
    )
