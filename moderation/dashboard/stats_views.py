"""GET /dashboard/stats: the last 30 days of both queues, for anyone who works on comments.

Every figure is limited to the signed-in user's sites; error-report figures are
shown only to roles that work on reports (a moderator sees comments only).
Counts, medians and the per-moderator tally are computed in SQL; the two
expressions whose spelling differs between SQLite and PostgreSQL (a timestamp's
UTC day, the seconds between two timestamps) live in `_day` and `_seconds`.
Python only lays out the bar charts, which the template draws as inline SVG.
"""
from datetime import datetime, time, timedelta, timezone

import sqlalchemy as sa
from flask import render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user

from ..extensions import db
from ..models import AuditEntry, Comment, ReportCluster
from ..models.base import as_utc, utcnow
from ..services.actions import ACTIONS
from . import bp
from .common import register_nav, requires

DAYS = 30
# Audit actions that are a decision on an item, from the registry (reopening undoes one; flags are readers').
COMMENT_DECISIONS = tuple(dict.fromkeys(a.audit for a in ACTIONS if a.target == "comment" and a.decides))
REPORT_DECISIONS = tuple(dict.fromkeys(a.audit for a in ACTIONS if a.target != "comment" and a.decides))
CHART_WIDTH = 600
CHART_HEIGHT = 120
ROW_HEIGHT = 22

register_nav("dashboard.stats", lazy_gettext("Stats"), "comments")


# -- SQL ---------------------------------------------------------------------------

def _postgres():
    return db.engine.dialect.name == "postgresql"


def _day(column):
    """The UTC calendar day of a timestamp (SQLite keeps UTC text, PostgreSQL a timestamptz)."""
    if _postgres():
        return sa.func.date(sa.func.timezone("UTC", column))
    return sa.func.date(column)


def _seconds(start, end):
    if _postgres():
        return sa.extract("epoch", end - start)
    return (sa.func.julianday(end) - sa.func.julianday(start)) * 86400.0


def _mine(query, model):
    allowed = current_user.site_ids()
    return query if allowed is None else query.where(model.site_id.in_(allowed))


def per_day(model, column, days):
    """[(day "YYYY-MM-DD", items received that day)] for `days`, zeros included."""
    day = _day(column)
    query = _mine(sa.select(day, sa.func.count()).where(column >= _start(days[0])), model).group_by(day)
    found = {str(value)[:10]: count for value, count in db.session.execute(query)}
    return [(label, found.get(label, 0)) for label in days]


def median_seconds(model, start, statuses, since):
    """Median time from arrival to decision of the items decided since `since` (None if none).

    Portable: count the rows, then read the middle one (or two) in duration order.
    """
    seconds = _seconds(start, model.decided_at)
    where = (model.decided_at >= since, model.status.in_(statuses))
    counting = _mine(sa.select(sa.func.count()).select_from(model).where(*where), model)
    count = db.session.execute(counting).scalar_one()
    if not count:
        return None
    query = _mine(sa.select(seconds).where(*where), model).order_by(seconds)
    middle = db.session.execute(query.offset((count - 1) // 2).limit(2 - count % 2)).scalars().all()
    return sum(middle) / len(middle)


def oldest_waiting(model, status, arrived):
    """(id, arrival time) of the first item of a queue, in queue order (id), or None."""
    query = _mine(sa.select(model.id, arrived).where(model.status == status), model)
    row = db.session.execute(query.order_by(model.id).limit(1)).first()
    return (row[0], as_utc(row[1])) if row else None


def decisions_per_moderator(actions, since):
    """[(actor label, {"comment": n, "cluster": n}, total)], busiest first."""
    query = _mine(
        sa.select(AuditEntry.actor_label, AuditEntry.target_type, sa.func.count())
        .where(AuditEntry.created_at >= since, AuditEntry.action.in_(actions)),
        AuditEntry,
    ).group_by(AuditEntry.actor_label, AuditEntry.target_type)
    tally = {}
    for label, target, count in db.session.execute(query):
        tally.setdefault(label, {"comment": 0, "cluster": 0})[target] = count
    rows = [(label, kinds, sum(kinds.values())) for label, kinds in tally.items()]
    return sorted(rows, key=lambda row: (-row[2], row[0]))


# -- presentation --------------------------------------------------------------------

def _start(day):
    return datetime.combine(datetime.strptime(day, "%Y-%m-%d").date(), time(), tzinfo=timezone.utc)


def last_days(today, n=DAYS):
    return [(today - timedelta(days=i)).isoformat() for i in range(n - 1, -1, -1)]


def columns(values, width=CHART_WIDTH, height=CHART_HEIGHT):
    """Geometry of a vertical bar chart: [(label, value)] -> bars the template draws."""
    top = max((value for _label, value in values), default=0) or 1
    slot = width / max(len(values), 1)
    bars = []
    for i, (label, value) in enumerate(values):
        h = round(value / top * height, 1)
        bars.append({"x": round(i * slot + slot * 0.1, 1), "y": round(height - h, 1),
                     "w": round(slot * 0.8, 1), "h": h, "label": label, "value": value,
                     # A label every 7th bar counted back from today: today is always labelled and
                     # no two labels sit side by side ("11-3012-01" when the first and last met).
                     "tick": (len(values) - 1 - i) % 7 == 0})
    peak = max((bar["value"] for bar in bars), default=0)
    return {"width": width, "height": height, "bars": bars, "peak": peak}


def rows(values, width=CHART_WIDTH, label_width=220):
    """Geometry of a horizontal bar chart (one row per label)."""
    top = max((value for _label, value in values), default=0) or 1
    span = width - label_width - 40
    bars = [{"y": i * ROW_HEIGHT, "w": round(value / top * span, 1), "label": label, "value": value}
            for i, (label, value) in enumerate(values)]
    return {"width": width, "height": max(len(bars), 1) * ROW_HEIGHT, "bars": bars,
            "label_width": label_width}


def duration(seconds):
    """A short, translated length of time: 45 s, 20 min, 3 h 5 min, 2 d 4 h."""
    if seconds is None:
        return None
    if seconds < 60:
        return _("%(n)d s", n=max(0, round(seconds)))
    minutes = round(seconds / 60)
    if minutes < 60:
        return _("%(n)d min", n=minutes)
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return _("%(h)d h %(m)d min", h=hours, m=minutes)
    return _("%(d)d d %(h)d h", d=hours // 24, h=hours % 24)


# -- view ------------------------------------------------------------------------------

@bp.get("/stats")
@requires("comments")
def stats():
    """Received per day, median time to decision, oldest waiting items, decisions per moderator.

    403 for roles that do not work on comments; 302 to sign-in when signed out.
    """
    now = utcnow()
    days = last_days(now.date())
    since = _start(days[0])
    reports = current_user.can("reports")
    actions = COMMENT_DECISIONS + (REPORT_DECISIONS if reports else ())
    oldest = {
        "pending": oldest_waiting(Comment, "pending", Comment.created_at),
        "flagged": oldest_waiting(Comment, "flagged", Comment.created_at),
    }
    comments_per_day = per_day(Comment, Comment.created_at, days)
    context = {
        "days": days, "reports": reports, "now": now, "duration": duration,
        "comments_per_day": comments_per_day, "comments_chart": columns(comments_per_day),
        "median_comments": median_seconds(Comment, Comment.created_at, ("approved", "rejected", "spam"), since),
        "oldest": oldest,
    }
    if reports:
        reports_per_day = per_day(ReportCluster, ReportCluster.first_reported_at, days)
        oldest["new"] = oldest_waiting(ReportCluster, "new", ReportCluster.first_reported_at)
        context.update(
            reports_per_day=reports_per_day, reports_chart=columns(reports_per_day),
            median_reports=median_seconds(
                ReportCluster, ReportCluster.first_reported_at, ("fixed", "rejected"), since),
        )
    moderators = decisions_per_moderator(actions, since)
    context.update(moderators=moderators, moderators_chart=rows([(m[0], m[2]) for m in moderators]))
    return render_template("dashboard/stats.html", **context)
