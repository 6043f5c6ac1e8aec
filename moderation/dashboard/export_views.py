"""Exports from the dashboard: a site's comments, error reports or audit log as a JSON or CSV download.

Admins and editors only (the "reports" scope; moderators see comments but do not take
data away in bulk), limited to the user's sites. Downloads are plain GETs: they change
nothing, so they need no CSRF token, and the browser saves them as files
(`Content-Disposition: attachment`). The body is streamed from `porting.export`, so a
large site is never held in memory.

GET /dashboard/export           the form (200)
GET /dashboard/export/download  the file (200); 400 with the form and its field errors when
                                a value is missing or wrong; 404 for a site the user cannot see;
                                403 for a moderator.
"""
from flask import Response, render_template, request, stream_with_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user
from werkzeug.utils import secure_filename

from ..models.base import utcnow
from ..porting.export import FORMATS, WHATS, parse_since, write_export
from . import bp
from .common import register_nav, requires, visible_sites

register_nav("dashboard.export", lazy_gettext("Export"), "reports")

MIMETYPES = {"json": "application/json", "csv": "text/csv"}


def _form(values, errors, status=200):
    return render_template(
        "dashboard/export.html", sites=visible_sites(), whats=WHATS, formats=FORMATS,
        values=values, errors=errors,
    ), status


@bp.get("/export")
@requires("reports")
def export():
    """The export form. 403 for a moderator."""
    return _form(request.args, {})


@bp.get("/export/download")
@requires("reports")
def export_download():
    """The export as an attachment. 400 (form with field errors), 403 (moderator), 404 (site not yours)."""
    args = request.args
    errors = {}
    sites = {s.key: s for s in visible_sites()}
    key = args.get("site", "").strip()
    if not key:
        errors["site"] = _("Choose a site.")
    what = args.get("what", "comments")
    if what not in WHATS:
        errors["what"] = _("Choose comments, reports or audit.")
    fmt = args.get("format", "json")
    if fmt not in FORMATS:
        errors["format"] = _("Choose JSON or CSV.")
    since = None
    try:
        since = parse_since(args.get("since", "").strip())
    except ValueError:
        errors["since"] = _("Not a date (YYYY-MM-DD).")
    if errors:
        return _form(args, errors, 400)
    site = sites.get(key)
    if site is None or not current_user.can_site(site.id):
        # Not found rather than forbidden: a site key someone else works on is not revealed.
        return _form(args, {"site": _("No such site among yours.")}, 404)
    stamp = utcnow().strftime("%Y%m%d-%H%M")
    filename = secure_filename(f"{site.key}-{what}-{stamp}.{fmt}") or f"export.{fmt}"
    body = stream_with_context(write_export(site, what, fmt, since))
    response = Response(body, mimetype=MIMETYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
