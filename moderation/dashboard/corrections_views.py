"""The corrections log in the dashboard (admin, editor): the newest corrections of the user's
sites, a form to write one by hand, and Unpublish. The service (services/corrections.py) checks
and audits; every POST carries a CSRF token, like every dashboard form."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user

from ..extensions import db
from ..services import corrections
from ..services.common import ServiceError
from . import bp
from .common import register_nav, requires, visible_sites

register_nav("dashboard.corrections_log", lazy_gettext("Corrections"), "reports")


def _page(form=None, errors=None, status=200):
    rows = corrections.list_for_editors(current_user)
    return render_template("dashboard/corrections.html", rows=rows, sites=visible_sites(),
                           form=form or {}, errors=errors or {}), status


@bp.get("/corrections")
@requires("reports")
def corrections_log():
    """The newest corrections (published or not) and the form. 403 for a role without reports."""
    return _page()


@bp.post("/corrections")
@requires("reports")
def correction_write():
    """Publish a correction written by hand. 302; 400 (the form with its errors); 403."""
    form = request.form
    try:
        corrections.write(current_user, form.get("site"), form.get("url"), form.get("text"), form.get("note"))
    except ServiceError as exc:
        db.session.rollback()
        return _page(form, exc.fields or {"text": exc.message}, 400)
    flash(_("The correction is published."))
    return redirect(url_for("dashboard.corrections_log"))


@bp.post("/corrections/<int(max=2147483647):correction_id>/unpublish")
@requires("reports")
def correction_unpublish(correction_id):
    """Take a correction off the public log and the feed. 302; 403; 404 outside the user's sites."""
    try:
        corrections.unpublish(correction_id, current_user, request.form.get("reason") or None)
    except ServiceError as exc:
        db.session.rollback()
        if exc.status == 404:
            return _page(status=404)
        flash(exc.message, "error")
    else:
        flash(_("The correction is unpublished."))
    return redirect(url_for("dashboard.corrections_log"))
