"""Admin-only: a site's SSO secret (docs/identity.md), shown and created or rotated here as
`moderation sso-secret KEY [--rotate]` does. Audited as `site.sso_secret` with whether it was a
rotation — never the secret (every editor reads the audit log).

The same page switches the site's reader-identity settings (identity/settings.py: sso_required,
sso_login_url, edit_minutes, anonymous_address_hours), audited as `site.identity_settings`."""
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import db
from ..identity import settings as identity_settings
from ..identity import sso
from ..schemas.limits import URL_MAX
from ..services.audit import audit
from ..schemas.limits import MAX_ID
from ..site_registry import registry
from . import bp
from .admin_views import _load_site
from .common import requires

GRACE_HOURS = int(sso.ROTATION_GRACE.total_seconds() // 3600)


@bp.get(f"/admin/sites/<int(max={MAX_ID}):site_id>/sso")
@requires("admin")
def site_sso(site_id):
    """The secret (the page is no-store, like every dashboard page); a button creates it. Below
    it, the site's identity settings. 403 unless admin, 404 unknown site."""
    site = _load_site(site_id)
    return _render(site, _identity_values(site.settings))


def _render(site, values, errors=None, status=200):
    return render_template("dashboard/site_sso.html", site=site, keys=sso.sso_keys(site.id),
                           grace_hours=GRACE_HOURS, values=values, errors=errors or {},
                           edit_minutes_max=identity_settings.EDIT_MINUTES_MAX,
                           address_hours_max=identity_settings.ANONYMOUS_ADDRESS_HOURS_MAX), status


def _identity_values(settings):
    """The identity settings as the form shows them (strings; a missing URL is "")."""
    values = identity_settings.admin_settings(settings)
    return {"sso_required": values["sso_required"], "sso_login_url": values["sso_login_url"] or "",
            "edit_minutes": str(values["edit_minutes"]),
            "anonymous_address_hours": str(values["anonymous_address_hours"])}


def _whole(form, key, high, errors):
    """form[key] as a whole number 0..high, or None with errors[key] set."""
    try:
        number = int(form.get(key, "").strip())
        if not 0 <= number <= high:
            raise ValueError
        return number
    except ValueError:
        errors[key] = _("A whole number from %(low)d to %(high)d.", low=0, high=high)
        return None


def login_url_error(value):
    """Why `value` cannot be a site's sign-in page (None: it can). Readers are sent there by a
    link in the widget, so only an absolute http(s) URL with a host, no spaces or control
    characters (no `javascript:`), at most URL_MAX characters."""
    if len(value) > URL_MAX:
        return _("At most %(n)d characters.", n=URL_MAX)
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        parts = None
    if (parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname
            or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value)):
        return _("An address starting with https:// or http://.")
    return None


def _parse_identity(form):
    """({key: value} to store, {}) or (None, {field: error})."""
    errors = {}
    url = form.get("sso_login_url", "").strip()
    if url and (why := login_url_error(url)):
        errors["sso_login_url"] = why
    minutes = _whole(form, "edit_minutes", identity_settings.EDIT_MINUTES_MAX, errors)
    hours = _whole(form, "anonymous_address_hours", identity_settings.ANONYMOUS_ADDRESS_HOURS_MAX, errors)
    if errors:
        return None, errors
    return {"sso_required": bool(form.get("sso_required")), "sso_login_url": url or None,
            "edit_minutes": minutes, "anonymous_address_hours": hours}, {}


@bp.post(f"/admin/sites/<int(max={MAX_ID}):site_id>/sso/settings")
@requires("admin")
def site_identity_settings(site_id):
    """Save sso_required, sso_login_url, edit_minutes and anonymous_address_hours. 400 on bad input (the page with field
    errors, nothing saved) or without CSRF, 403 unless admin, 404 unknown site. The reader API
    of this process sees the change at once, other processes within SITE_CACHE_SECONDS."""
    site = _load_site(site_id)
    values, errors = _parse_identity(request.form)
    if values is None:
        shown = {"sso_required": bool(request.form.get("sso_required")),
                 "sso_login_url": request.form.get("sso_login_url", ""),
                 "edit_minutes": request.form.get("edit_minutes", ""),
                 "anonymous_address_hours": request.form.get("anonymous_address_hours", "")}
        return _render(site, shown, errors, 400)
    current = dict(site.settings or {})
    before = identity_settings.admin_settings(current)
    changed = {key: value for key, value in values.items() if before[key] != value}
    if not changed:
        flash(_("Nothing changed."))
        return redirect(url_for("dashboard.site_sso", site_id=site.id))
    new = dict(current, **values)
    if new["sso_login_url"] is None:
        del new["sso_login_url"]
    site.settings = new
    audit(current_user, "site.identity_settings", site, before={k: before[k] for k in changed}, after=changed)
    db.session.commit()
    registry().invalidate()
    flash(_("Saved."))
    return redirect(url_for("dashboard.site_sso", site_id=site.id))


@bp.post(f"/admin/sites/<int(max={MAX_ID}):site_id>/sso")
@requires("admin")
def site_sso_secret(site_id):
    """Create the secret, or replace it (the previous one verifies for ROTATION_GRACE more)."""
    site = _load_site(site_id)
    existed = sso.sso_keys(site.id) is not None
    if existed:
        sso.rotate_secret(site.id)
        flash(_("New secret issued. The previous one is accepted for %(hours)d more hours: deploy the new "
                "one to your CMS.", hours=GRACE_HOURS))
    else:
        sso.ensure_secret(site.id)
        flash(_("Secret created."))
    audit(current_user, "site.sso_secret", site, after={"rotated": existed})
    db.session.commit()
    return redirect(url_for("dashboard.site_sso", site_id=site.id))
