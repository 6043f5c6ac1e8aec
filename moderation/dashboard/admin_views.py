"""Admin pages: sites (settings, allowed origins, limits, public key) and staff accounts.

Every view answers 403 unless the signed-in user is an admin (and 400 for a POST
without a CSRF token, before the view runs). Every change writes an AuditEntry;
site changes also clear the site registry, so the reader API sees them at once.
"""
import re
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user, login_user
from flask_login.config import COOKIE_NAME
from limits import parse_many

from .. import assets
from ..auth import PASSWORD_MAX as MAX_PASSWORD
from ..auth import PASSWORD_MIN as MIN_PASSWORD
from ..auth import create_user, generate_password
from ..extensions import db
from ..models import Site, User
from ..models.accounts import ROLES
from ..models.sites import LANGUAGES, MODES, new_site_key
from ..services.audit import audit
from ..site_registry import registry
from ..urls import origin_of
from ..schemas.limits import MAX_ID  # an INTEGER column: a bigger id would fail in the database
from . import bp
from .audit_views import utc
from .common import register_nav, requires
from .. import site_features
from ..schemas.limits import SORTS

register_nav("dashboard.admin_sites", lazy_gettext("Sites"), "admin")
register_nav("dashboard.admin_users", lazy_gettext("Users"), "admin")

SITE_FIELDS = ("name", "allowed_origins", "moderation_mode", "language",
               "rate_limit_reports", "rate_limit_comments", "flag_threshold")
MAX_FLAG_THRESHOLD = 10_000
_HOST = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)*(:\d+)?|\[[0-9a-f:.]+\](:\d+)?")


def _changes(before, after):
    """Only the fields that differ: (before, after)."""
    keys = [k for k in after if before.get(k) != after[k]]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


# -- sites --------------------------------------------------------------------------

def clean_origin(line):
    """`scheme://host[:port]` (normalized) or `scheme://*.domain`; None if `line` is neither."""
    scheme, _sep, rest = line.strip().partition("://")
    wildcard = rest.startswith("*.")
    candidate = f"{scheme}://{rest[2:]}" if wildcard else line.strip()
    try:
        parts = urlsplit(candidate)
        userinfo = parts.username or parts.password
    except ValueError:
        return None
    origin = origin_of(candidate)
    if origin is None or userinfo or parts.path not in ("", "/") or parts.query or parts.fragment:
        return None
    scheme, _sep, host = origin.partition("://")
    if not _HOST.fullmatch(host) or (wildcard and "." not in host.split(":")[0]):
        return None  # a wildcard needs a real domain: `*.kz` would be every .kz site
    return f"{scheme}://*.{host}" if wildcard else origin


def _limit_error(text):
    if len(text) > 100:
        return _("At most 100 characters.")
    try:
        items = parse_many(text)
    except ValueError:
        return _("Not a rate limit. Example: 5/minute;100/day")
    if any(item.amount < 1 for item in items):
        return _("Every limit must allow at least one request.")
    return None


def _parse_site(form):
    """(values, errors) from the site form."""
    values, errors = {}, {}
    values["name"] = form.get("name", "").strip()
    if not values["name"] or len(values["name"]) > 200:
        errors["name"] = _("A name of 1 to 200 characters is required.")
    origins, bad = [], []
    for line in form.get("allowed_origins", "").splitlines():
        if line.strip():
            origin = clean_origin(line)
            if origin is None:
                bad.append(line.strip())
            elif origin not in origins:
                origins.append(origin)
    if bad:
        errors["allowed_origins"] = _("Not an origin (https://host[:port] or https://*.domain): %(lines)s",
                                      lines=", ".join(bad))
    values["allowed_origins"] = origins
    for field, choices in (("moderation_mode", MODES), ("language", LANGUAGES)):
        values[field] = form.get(field, "")
        if values[field] not in choices:
            errors[field] = _("Choose one of: %(choices)s", choices=", ".join(choices))
    for field in ("rate_limit_reports", "rate_limit_comments"):
        values[field] = form.get(field, "").strip() or None
        error = _limit_error(values[field]) if values[field] else None
        if error:
            errors[field] = error
    threshold = form.get("flag_threshold", "").strip()
    values["flag_threshold"] = int(threshold) if threshold.isdecimal() else None
    if values["flag_threshold"] is None or not 1 <= values["flag_threshold"] <= MAX_FLAG_THRESHOLD:
        errors["flag_threshold"] = _("A whole number from 1 to %(max)d.", max=MAX_FLAG_THRESHOLD)
    return values, errors


def _parse_features(form):
    """The reactions/order/corrections settings (site_features.DEFAULTS) from the site form:
    (values, errors). Checkboxes: absent is off."""
    values = {"dislikes": bool(form.get("dislikes")), "default_sort": form.get("default_sort", ""),
              "correction_note_required": bool(form.get("correction_note_required"))}
    errors = {}
    if values["default_sort"] not in SORTS:
        errors["default_sort"] = _("Choose one of: %(choices)s", choices=", ".join(SORTS))
    return values, errors


def _site_state(site):
    state = {field: getattr(site, field) for field in SITE_FIELDS}
    state["allowed_origins"] = list(site.allowed_origins or [])
    state["key"] = site.key
    state.update(site_features.all_settings(site.settings))
    return state


def _site_form_values(site):
    """What the form shows for a stored site (strings, one origin per line)."""
    state = _site_state(site)
    state["allowed_origins"] = "\n".join(state["allowed_origins"])
    return {k: "" if v is None else str(v) for k, v in state.items()}


def _load_site(site_id):
    site = db.session.get(Site, site_id) if site_id <= MAX_ID else None
    if site is None:
        abort(404)
    return site


def _render_site_form(site, form, errors=None, status=200):
    snippet = None
    if site is not None:
        src = url_for("static", filename=assets.widget_file(site.language), _external=True)
        snippet = f'<script src="{src}" data-site="{site.key}" async></script>'
    return render_template("dashboard/admin_site_form.html", site=site, form=form, errors=errors or {},
                           snippet=snippet, modes=MODES, languages=LANGUAGES), status


@bp.get("/admin/sites")
@requires("admin")
def admin_sites():
    """Every site with its key and settings. 403 unless admin."""
    sites = db.session.execute(sa.select(Site).order_by(Site.name)).scalars().all()
    return render_template("dashboard/admin_sites.html", sites=sites)


@bp.route("/admin/sites/new", methods=["GET", "POST"])
@requires("admin")
def admin_site_new():
    """Create a site. 403 unless admin; 400 (the form with its errors) on bad fields."""
    if request.method == "GET":
        defaults = {"moderation_mode": "pre", "language": "ru", "flag_threshold": "3",
                    **{key: str(value) for key, value in site_features.DEFAULTS.items()}}
        return _render_site_form(None, defaults)
    values, errors = _parse_site(request.form)
    features, feature_errors = _parse_features(request.form)
    errors.update(feature_errors)
    if errors:
        return _render_site_form(None, request.form, errors, 400)
    site = Site(**values, settings=features)
    db.session.add(site)
    db.session.flush()
    audit(current_user, "site.create", site, after=_site_state(site))
    db.session.commit()
    registry().invalidate()
    flash(_("Site %(name)s created.", name=site.name))
    return redirect(url_for("dashboard.admin_site_edit", site_id=site.id))


@bp.route(f"/admin/sites/<int(max={MAX_ID}):site_id>", methods=["GET", "POST"])
@requires("admin")
def admin_site_edit(site_id):
    """Edit a site's settings. 403 unless admin, 404 unknown site, 400 (the form) on bad fields."""
    site = _load_site(site_id)
    if request.method == "GET":
        return _render_site_form(site, _site_form_values(site))
    values, errors = _parse_site(request.form)
    features, feature_errors = _parse_features(request.form)
    errors.update(feature_errors)
    if errors:
        return _render_site_form(site, request.form, errors, 400)
    before = _site_state(site)
    for field, value in values.items():
        setattr(site, field, value)
    site.settings = dict(site.settings or {}, **features)
    before, after = _changes(before, _site_state(site))
    if after:
        audit(current_user, "site.update", site, before=before, after=after)
        db.session.commit()
        registry().invalidate()
        flash(_("Saved."))
    else:
        flash(_("Nothing changed."))
    return redirect(url_for("dashboard.admin_site_edit", site_id=site.id))


@bp.post(f"/admin/sites/<int(max={MAX_ID}):site_id>/rotate-key")
@requires("admin")
def admin_site_rotate_key(site_id):
    """New public key; the old one stops working at once. 403 unless admin, 404 unknown site."""
    site = _load_site(site_id)
    old = site.key
    site.key = new_site_key()
    audit(current_user, "site.rotate_key", site, before={"key": old}, after={"key": site.key})
    db.session.commit()
    registry().invalidate()
    flash(_("New key issued. Update the embed snippet on every page of the site."))
    return redirect(url_for("dashboard.admin_site_edit", site_id=site.id))


# -- users ----------------------------------------------------------------------------

def _user_state(user):
    return {"email": user.email, "role": user.role, "active": bool(user.active),
            "sites": sorted(s.id for s in user.sites)}


def _parse_access(form, errors):
    """(role, [Site]) from the form; errors go into `errors`."""
    role = form.get("role", "")
    if role not in ROLES:
        errors["role"] = _("Choose one of: %(choices)s", choices=", ".join(ROLES))
    ids = {int(i) for i in form.getlist("sites") if i.isdecimal() and int(i) <= MAX_ID}
    sites = db.session.execute(sa.select(Site).where(Site.id.in_(ids))).scalars().all() if ids else []
    if len(sites) != len(ids) or len(ids) != len(form.getlist("sites")):
        errors["sites"] = _("Unknown site.")
    return role, sites


def _password_error(password):
    if password and not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        return _("A password of %(min)d to %(max)d characters.", min=MIN_PASSWORD, max=MAX_PASSWORD)
    return None


def _load_user(user_id):
    user = db.session.get(User, user_id) if user_id <= MAX_ID else None
    if user is None:
        abort(404)
    return user


def _render_user_form(user, form, errors=None, status=200):
    """`form`: the submitted form, or a dict for a fresh page (`sites` a list of ids)."""
    sites = db.session.execute(sa.select(Site).order_by(Site.name)).scalars().all()
    chosen = form.getlist("sites") if hasattr(form, "getlist") else form.get("sites", [])
    chosen = {int(i) for i in chosen if str(i).isdecimal()}
    return render_template("dashboard/admin_user_form.html", user=user, form=form, errors=errors or {},
                           sites=sites, chosen=chosen, roles=ROLES), status


def _user_form_values(user):
    state = _user_state(user)
    return dict(state, active="1" if state["active"] else "")


@bp.get("/admin/users")
@requires("admin")
def admin_users():
    """Every staff account. 403 unless admin."""
    users = db.session.execute(sa.select(User).order_by(User.email)).scalars().all()
    return render_template("dashboard/admin_users.html", users=users, utc=utc)


@bp.route("/admin/users/new", methods=["GET", "POST"])
@requires("admin")
def admin_user_new():
    """Create an account (typed or generated password, shown once). 403 unless admin;
    400 (the form with its errors) on bad fields or an e-mail already taken."""
    if request.method == "GET":
        return _render_user_form(None, {"role": "moderator"})
    errors = {}
    role, sites = _parse_access(request.form, errors)
    email = request.form.get("email", "").strip().lower()
    if db.session.execute(sa.select(User.id).where(User.email == email)).first():
        errors["email"] = _("An account with this e-mail already exists.")
    typed = request.form.get("password", "")
    if _password_error(typed):
        errors["password"] = _password_error(typed)
    if not errors:
        try:
            user, password = create_user(email, role, typed or None)
        except ValueError as exc:  # the remaining checks (e-mail format) live in create_user
            errors["email"] = str(exc)
    if errors:
        return _render_user_form(None, request.form, errors, 400)
    user.sites = sites
    audit(current_user, "user.create", user, after=_user_state(user))
    db.session.commit()
    if typed:
        flash(_("Account %(email)s created.", email=user.email))
    else:
        flash(_("Account %(email)s created. Password (shown once): %(password)s",
                email=user.email, password=password))
    return redirect(url_for("dashboard.admin_user_edit", user_id=user.id))


@bp.route(f"/admin/users/<int(max={MAX_ID}):user_id>", methods=["GET", "POST"])
@requires("admin")
def admin_user_edit(user_id):
    """Change role, sites, active. 403 unless admin, 404 unknown user, 400 (the form) on bad
    fields or when an admin would demote or deactivate themself."""
    user = _load_user(user_id)
    if request.method == "GET":
        return _render_user_form(user, _user_form_values(user))
    errors = {}
    role, sites = _parse_access(request.form, errors)
    active = bool(request.form.get("active"))
    if user.id == current_user.id and (role != "admin" or not active):
        errors["role"] = _("You cannot demote or deactivate yourself; ask another admin.")
    if errors:
        return _render_user_form(user, request.form, errors, 400)
    before = _user_state(user)
    user.role, user.sites, user.active = role, sites, active
    before, after = _changes(before, _user_state(user))
    if not after:
        flash(_("Nothing changed."))
        return redirect(url_for("dashboard.admin_user_edit", user_id=user.id))
    action = "user.deactivate" if before.get("active") and not active else "user.update"
    if action == "user.deactivate":
        user.end_sessions()  # a later reactivation must not revive them
    audit(current_user, action, user, before=before, after=after)
    db.session.commit()
    flash(_("Saved."))
    return redirect(url_for("dashboard.admin_user_edit", user_id=user.id))


@bp.post(f"/admin/users/<int(max={MAX_ID}):user_id>/password")
@requires("admin")
def admin_user_password(user_id):
    """Set a typed password or generate one (shown once). 403 unless admin, 404 unknown user,
    400 (the form) on a password of the wrong length."""
    user = _load_user(user_id)
    typed = request.form.get("password", "")
    if _password_error(typed):
        return _render_user_form(user, _user_form_values(user), {"password": _password_error(typed)}, 400)
    password = typed or generate_password()
    user.set_password(password)  # also ends the account's sessions
    audit(current_user, "user.reset_password", user, after={"password_reset": True})
    db.session.commit()
    if user.id == current_user.id:  # an admin changing their own: keep this browser signed in
        login_user(user, remember=current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME) in request.cookies)
    if typed:
        flash(_("Password changed."))
    else:
        flash(_("New password for %(email)s (shown once): %(password)s", email=user.email, password=password))
    return redirect(url_for("dashboard.admin_user_edit", user_id=user.id))
