"""The reader panel: one person (not an address) — their recent comments across articles,
history, the "address shared by N readers this week" hint, and the moderators' actions on
them (ban, unban, trust, always pre-moderate), checked and audited by services.readers."""
import sqlalchemy as sa
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..extensions import db
from ..models import AuditEntry, CommentFlag, Reader
from ..services import reader_profile
from ..services import readers as service
from ..services.common import Invalid, ServiceError
from ..schemas.limits import MAX_ID
from . import bp
from .common import requires

# The ban form's choices: days, or "" for until lifted (the service's own default).
# The comment page lists this many of a comment's flags with their readers (the counts are complete).
FLAGS_SHOWN = 100
BAN_CHOICES = (("1", _l("1 day")), ("7", _l("7 days")), ("30", _l("30 days")), ("", _l("until lifted")))


# -- "click an author anywhere": what other pages need to link a reader to this panel ----------

@bp.app_template_global()
def reader_names(ids):
    """{reader id: name shown} for the readers among `ids` that exist, one query for those not
    looked up yet in this request (a queue page asks once per item). The name is the SSO
    username or the name the reader last typed; a reader without one is "reader #id". Only
    pages of the reader's own site call it (their items, or audit entries already limited to
    the user's sites), so a link never names another site's reader."""
    known = g.setdefault("_reader_names", {})
    wanted = {int(i) for i in ids if i is not None} - set(known)
    if wanted:
        rows = db.session.execute(sa.select(Reader.id, Reader.display_name).where(Reader.id.in_(wanted))).all()
        found = {row.id: row.display_name or _("reader #%(id)d", id=row.id) for row in rows}
        known.update({i: found.get(i) for i in wanted})
    return {int(i): known[int(i)] for i in ids if i is not None and known.get(int(i))}


@bp.app_template_global()
def comment_flaggers(comment_id):
    """The latest FLAGS_SHOWN flags on a comment, newest first; each names its reader
    (`reader_id`; None for flags from before readers, or whose reader was erased)."""
    return db.session.execute(
        sa.select(CommentFlag).where(CommentFlag.comment_id == comment_id)
        .order_by(CommentFlag.id.desc()).limit(FLAGS_SHOWN)
    ).scalars().all()


def _reader(reader_id):
    """The reader, if the signed-in user may moderate comments on its site; 404 otherwise."""
    row = db.session.get(Reader, reader_id)
    if row is None:
        abort(404)
    try:
        return service.load_reader(row.key, current_user)
    except ServiceError as exc:
        abort(exc.status)


@bp.get(f"/readers/<int(max={MAX_ID}):reader_id>")
@requires("comments")
def reader(reader_id):
    row = _reader(reader_id)
    audit = db.session.execute(
        sa.select(AuditEntry)
        .where(AuditEntry.target_type == service.TARGET_TYPE, AuditEntry.target_id == row.id)
        .order_by(AuditEntry.id.desc())
    ).scalars().all()
    return render_template(
        "dashboard/reader.html", reader=row, comments=reader_profile.recent_comments(row),
        history=service.reader_history([row.id]).get(row.id, {}), shared=reader_profile.address_shared(row),
        audit=audit, ban_choices=BAN_CHOICES, actions=reader_profile.BY_NAME,
    )


def _form_values(action):
    values = {}
    if "days" in action.fields:
        days = request.form.get("days", "")
        values["days"] = int(days) if days.isdecimal() else None
        if days and not days.isdecimal():
            raise Invalid("invalid fields", {"days": _("Choose how long the ban lasts.")})
    if "on" in action.fields:
        values["on"] = request.form.get("on", "1") != "0"
    return values


@bp.post(f"/readers/<int(max={MAX_ID}):reader_id>/<action>")
@requires("comments")
def reader_action(reader_id, action):
    chosen = reader_profile.BY_NAME.get(action)
    if chosen is None:
        abort(404)
    row = _reader(reader_id)
    try:
        chosen.perform(row.key, current_user, _form_values(chosen), request.form.get("reason") or None)
    except ServiceError as exc:
        db.session.rollback()
        if exc.status in (403, 404):
            abort(exc.status)
        flash(exc.message + (": " + "; ".join(exc.fields.values()) if exc.fields else ""), "error")
        return redirect(url_for("dashboard.reader", reader_id=reader_id))
    flash(_("Done."))
    return redirect(url_for("dashboard.reader", reader_id=reader_id))
