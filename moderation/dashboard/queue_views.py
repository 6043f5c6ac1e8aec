"""The two queues: comments (Pending/Flagged/Approved/Rejected/Spam) and error reports
(New/Fixed/Rejected, one item per same-spot cluster). Actions go through the same
service layer as the moderation API, so they are checked and audited the same way.
"""
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import db
from ..judgment import surge
from ..models import AuditEntry, Comment, CommentFlag, Page, ReportCluster
from ..services import actions
from ..services import moderation as service
from ..services import reports as report_service
from ..services.common import site_filter
from ..services.audit import audit
from ..schemas.limits import MAX_ID
from . import bp
from .common import claim, claims_for, queue_counts, requires, visible_sites
from .diffs import diff_html

# The queues' actions come from the registry (services/actions.py): forms, bulk buttons, keys.
COMMENT_ACTIONS = actions.for_target("comment")
REPORT_ACTIONS = actions.for_target("cluster")  # the report queue shows one item per cluster
REJECT_PRESETS = {
    "comments": ["Off-topic", "Insults or hate speech", "Advertising or spam", "Personal data", "Duplicate"],
    "reports": ["Not an error", "House style", "Already fixed", "Quote: kept as said", "Duplicate"],
}


def _date(value, end=False):
    try:
        day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except (TypeError, ValueError):
        return None
    return day + timedelta(days=1) if end else day


def _filters():
    args = request.args
    return {
        "site_key": args.get("site") or None,
        "url": args.get("url", "").strip() or None,
        "search": args.get("q", "").strip() or None,
        "since": _date(args.get("since")),
        "until": _date(args.get("until"), end=True),
        "after": args.get("after", type=int),
    }


def _wants_json():
    return request.headers.get("X-Requested-With") == "fetch"


def _reason():
    preset = request.form.get("preset", "").strip()
    free = request.form.get("reason", "").strip()
    return free or preset or None


def _back(endpoint):
    target = request.form.get("next", "")
    return redirect(target if target.startswith("/dashboard") else url_for(endpoint))


def _perform(action, item_id):
    """`action` on one item with the posted form; an empty field counts as not sent
    (an empty correction: the most suggested one)."""
    values = {field: request.form.get(field) or None for field in action.fields}
    return action.perform(item_id, current_user, values, _reason() if action.reason else None)


def _run(queue_actions, kind, item_id):
    """One action on one item. JSON for the keyboard script, a redirect otherwise."""
    action = queue_actions.get(request.view_args["action"])
    if action is None:
        abort(404)
    try:
        _perform(action, item_id)
    except service.ServiceError as exc:
        db.session.rollback()
        if _wants_json():
            return jsonify({"ok": False, "message": exc.message, "fields": exc.fields}), exc.status
        if exc.status in (403, 404):
            abort(exc.status)
        flash(exc.message + (": " + "; ".join(exc.fields.values()) if exc.fields else ""), "error")
        return _back(f"dashboard.{kind}")
    if _wants_json():
        return jsonify({"ok": True, "counts": queue_counts()})
    flash(_("Done."))
    return _back(f"dashboard.{kind}")


@bp.get("/")
def home():
    return redirect(url_for("dashboard.comments" if current_user.can("comments") else "dashboard.reports"))


@bp.get("/counts.json")
def counts():
    """Badge counts for the navigation (polled by the dashboard script)."""
    return jsonify(queue_counts())


CLAIMABLE = {"comment": (Comment, "comments"), "cluster": (ReportCluster, "reports")}


@bp.post(f"/claim/<kind>/<int(max={MAX_ID}):item_id>")
def claim_item(kind, item_id):
    """Tell others this item is being handled (a few minutes). Returns who else holds it.

    403 for a role that may not work this queue, 404 for an item outside the user's sites
    (the answer names who holds the item: it must not leak across sites or queues).
    """
    if kind not in CLAIMABLE:
        abort(404)
    model, scope = CLAIMABLE[kind]
    if not current_user.can(scope):
        abort(403)
    item = db.session.get(model, item_id)
    if item is None or not current_user.can_site(item.site_id):
        abort(404)
    return jsonify({"holder": claim(kind, item_id)})


# -- comments ---------------------------------------------------------------------

def _comment_context(items):
    """What a comment card needs besides the comment (queue, live additions, conversation)."""
    parents = {}
    parent_ids = {c.parent_id for c in items if c.parent_id}
    if parent_ids:
        parents = {c.id: c for c in db.session.execute(sa.select(Comment).where(Comment.id.in_(parent_ids))).scalars()}
    return {
        "history": service.author_history(items), "parents": parents,
        "claims": claims_for("comment", [c.id for c in items]), "presets": REJECT_PRESETS["comments"],
        "flags": flag_counts([c.id for c in items]),
    }


@bp.get("/comments")
@requires("comments")
def comments():
    """A comment queue with filters; 400 on an unknown status."""
    status = request.args.get("status", "pending")
    filters = _filters()
    try:
        items, cursor = service.list_comments(current_user, status, limit=50, **filters)
    except service.Invalid:
        abort(400)
    return render_template(
        "dashboard/comments.html", items=items, status=status, cursor=cursor, values=request.args,
        sites=visible_sites(), counts=queue_counts(), newest=_newest_comment(status, filters, items, cursor),
        surges=surge.active_surges(current_user.site_ids(), datetime.now(timezone.utc)),
        **_comment_context(items),
    )


LIVE_LIMIT = 50  # items one poll renders; the bar says "50+" past that


def _newest_comment(status, filters, items, cursor):
    if not cursor:
        return items[-1].id if items else filters["after"] or 0
    query = site_filter(sa.select(sa.func.max(Comment.id)).where(Comment.status == status), Comment,
                        current_user, filters["site_key"])
    return db.session.execute(query).scalar() or cursor


def _queue_url(kind):
    """The queue page a live item's forms return to (not the JSON endpoint that rendered them)."""
    return url_for(f"dashboard.{kind}", **{k: v for k, v in request.args.items() if k != "after"})


@bp.get("/comments/live.json")
@requires("comments")
def comments_live():
    """The comments stored after `after` in the queue as filtered (the "N new" bar), rendered
    as the queue renders them, and the counts. Same rules as the queue: scope, sites, filters."""
    status = request.args.get("status", "pending")
    filters = _filters()
    if filters["after"] is None:
        abort(400)
    try:
        items, more = service.list_comments(current_user, status, limit=LIVE_LIMIT, **filters)
    except service.Invalid:
        abort(400)
    html = "".join(
        render_template("dashboard/_comment_item.html", c=c, status=status, bulk=True, back=_queue_url("comments"),
                        **_comment_context(items))
        for c in items)
    return jsonify({"count": len(items), "more": more is not None, "html": html,
                    "newest": items[-1].id if items else filters["after"], "counts": queue_counts()})


@bp.post(f"/pages/<int(max={MAX_ID}):page_id>/end-surge")
@requires("comments")
def end_surge(page_id):
    """Return an article from surge mode to its site's normal moderation. 404 outside the user's sites."""
    page = db.session.get(Page, page_id)
    if page is None or not current_user.can_site(page.site_id):
        abort(404)
    before = {"surge_until": page.surge_until.isoformat() if page.surge_until else None,
              "surge_reason": page.surge_reason}
    surge.end_surge(page)
    audit(current_user, "page.end_surge", page, before=before, after={"surge_until": None})
    db.session.commit()
    flash(_("Surge mode ended for this article."))
    return redirect(url_for("dashboard.comments"))


def flag_counts(comment_ids):
    """{comment_id: {"spam": n, ...}} of reader flags, shown before they reach the threshold."""
    if not comment_ids:
        return {}
    found = {}
    rows = db.session.execute(
        sa.select(CommentFlag.comment_id, CommentFlag.reason, sa.func.count())
        .where(CommentFlag.comment_id.in_(comment_ids))
        .group_by(CommentFlag.comment_id, CommentFlag.reason)
    )
    for comment_id, reason, count in rows:
        found.setdefault(comment_id, {})[reason] = count
    return found


@bp.get(f"/comments/<int(max={MAX_ID}):comment_id>")
@requires("comments")
def comment(comment_id):
    """One comment with its thread context and audit history; 404 outside the user's sites."""
    item = db.session.get(Comment, comment_id)
    if item is None or not current_user.can_site(item.site_id):
        abort(404)
    holder = claim("comment", comment_id)
    return render_template(
        "dashboard/comment.html", item=item, holder=holder, history=service.author_history([item]),
        audit=_history("comment", comment_id), presets=REJECT_PRESETS["comments"],
        flags=flag_counts([comment_id]),
    )


@bp.get(f"/comments/<int(max={MAX_ID}):comment_id>/conversation")
@requires("comments")
def conversation(comment_id):
    """The comment inside its thread on the article: the top-level comment and every reply,
    parents before their replies, each with its status and its actions. Same rules as the
    comment itself (404 outside the user's sites); the thread is on the comment's page, so
    on its site."""
    item = db.session.get(Comment, comment_id)
    if item is None or not current_user.can_site(item.site_id):
        abort(404)
    root_id = item.thread_id or item.id
    thread = db.session.execute(
        sa.select(Comment).where(sa.or_(Comment.id == root_id, Comment.thread_id == root_id),
                                 Comment.site_id == item.site_id)
        .options(selectinload(Comment.page), selectinload(Comment.site)).order_by(Comment.id)
    ).scalars().all()
    children = {}
    for c in thread:
        children.setdefault(c.parent_id if c.id != root_id else None, []).append(c)
    ordered = []  # depth-first, each reply under its parent, oldest first (a stack: any depth)
    stack = [(c, 0) for c in reversed(children.get(None, []))]
    while stack:
        c, depth = stack.pop()
        ordered.append((c, depth))
        stack.extend((reply, depth + 1) for reply in reversed(children.get(c.id, [])))
    context = _comment_context(thread)
    context["parents"] = {}  # the thread shows the parents themselves
    return render_template("dashboard/conversation.html", item=item, thread=ordered, page=item.page, **context)


@bp.post(f"/comments/<int(max={MAX_ID}):comment_id>/<action>")
@requires("comments")
def comment_action(comment_id, action):
    return _run(COMMENT_ACTIONS, "comments", comment_id)


@bp.post("/comments/bulk")
@requires("comments")
def comments_bulk():
    return _bulk(COMMENT_ACTIONS, "comments")


# -- error reports (clusters) --------------------------------------------------------

def text_fragment(cluster):
    """`#:~:text=prefix-,exact,-suffix`: browsers scroll to and highlight the spot."""
    def enc(text):
        return quote(text.strip(), safe="")

    parts = []
    prefix = " ".join(cluster.prefix.split()[-3:])
    suffix = " ".join(cluster.suffix.split()[:3])
    if prefix:
        parts.append(enc(prefix) + "-")
    parts.append(enc(cluster.exact))
    if suffix:
        parts.append("-" + enc(suffix))
    return cluster.page.url + "#:~:text=" + ",".join(parts)


def _list_clusters(status, filters, limit=50):
    return report_service.list_clusters(
        current_user, status, site_key=filters["site_key"], after=filters["after"], limit=limit,
        url=filters["url"], search=filters["search"], since=filters["since"], until=filters["until"],
        detected=request.args.get("detected") == "1",
    )


@bp.get("/reports")
@requires("reports")
def reports():
    """The error-report queue (one item per cluster); 400 on an unknown status."""
    status = request.args.get("status", "new")
    filters = _filters()
    try:
        items, cursor = _list_clusters(status, filters)
    except service.Invalid:
        abort(400)
    if cursor:
        query = site_filter(sa.select(sa.func.max(ReportCluster.id)).where(ReportCluster.status == status),
                            ReportCluster, current_user, filters["site_key"])
        newest = db.session.execute(query).scalar() or cursor
    else:
        newest = items[-1].id if items else filters["after"] or 0
    return render_template(
        "dashboard/reports.html", items=items, status=status, cursor=cursor, values=request.args,
        sites=visible_sites(), claims=claims_for("cluster", [c.id for c in items]), counts=queue_counts(),
        presets=REJECT_PRESETS["reports"], diff_html=diff_html, text_fragment=text_fragment, newest=newest,
    )


@bp.get("/reports/live.json")
@requires("reports")
def reports_live():
    """New same-spot clusters after `after` in the report queue as filtered (see comments_live)."""
    status = request.args.get("status", "new")
    filters = _filters()
    if filters["after"] is None:
        abort(400)
    try:
        items, more = _list_clusters(status, filters, limit=LIVE_LIMIT)
    except service.Invalid:
        abort(400)
    claims = claims_for("cluster", [c.id for c in items])
    html = "".join(
        render_template("dashboard/_report_item.html", r=r, status=status, bulk=True, claims=claims,
                        presets=REJECT_PRESETS["reports"], diff_html=diff_html, text_fragment=text_fragment,
                        back=_queue_url("reports"))
        for r in items)
    return jsonify({"count": len(items), "more": more is not None, "html": html,
                    "newest": items[-1].id if items else filters["after"], "counts": queue_counts()})


@bp.get(f"/reports/<int(max={MAX_ID}):cluster_id>")
@requires("reports")
def report(cluster_id):
    item = db.session.get(ReportCluster, cluster_id)
    if item is None or not current_user.can_site(item.site_id):
        abort(404)
    holder = claim("cluster", cluster_id)
    return render_template(
        "dashboard/report.html", item=item, holder=holder, audit=_history("cluster", cluster_id),
        presets=REJECT_PRESETS["reports"], diff_html=diff_html, text_fragment=text_fragment,
    )


@bp.post(f"/reports/<int(max={MAX_ID}):cluster_id>/<action>")
@requires("reports")
def report_action(cluster_id, action):
    return _run(REPORT_ACTIONS, "reports", cluster_id)


@bp.post("/reports/bulk")
@requires("reports")
def reports_bulk():
    return _bulk(REPORT_ACTIONS, "reports")


# -- shared ---------------------------------------------------------------------------

def _bulk(queue_actions, kind):
    action = queue_actions.get(request.form.get("action", ""))
    if action is None or not action.bulk:
        abort(400)
    ids = [int(i) for i in request.form.getlist("ids") if i.isdecimal() and int(i) <= service.MAX_ID]
    done = 0
    for item_id in ids:
        try:
            _perform(action, item_id)
            done += 1
        except service.ServiceError:
            db.session.rollback()
    flash(_("%(done)d of %(total)d done.", done=done, total=len(ids)))
    return _back(f"dashboard.{kind}")


def _history(target_type, target_id):
    return db.session.execute(
        sa.select(AuditEntry)
        .where(AuditEntry.target_type == target_type, AuditEntry.target_id == target_id)
        .order_by(AuditEntry.id.desc())
    ).scalars().all()
