"""The moderators' dashboard: server-rendered pages, progressive-enhancement keyboard script.

Every route requires a signed-in, active account (enforced for the whole blueprint,
so a new route cannot forget it) and every POST carries a CSRF token (Flask-WTF).
"""
from flask import Blueprint, current_app, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import escape
from sqlalchemy.exc import OperationalError

from ..extensions import login_manager

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

# Staff sign in here and nowhere else, so Flask-Login is set up on this blueprint:
# its `init_app` registers its one hook (the remember cookie's after_request) and the
# `current_user` template variable, which a Blueprint takes like an app, scoped to its
# own requests. App-wide, that hook read the session on every answer, and Flask added
# `Vary: Cookie` to every reader API answer (the public comment list included).
# Once, here: a blueprint takes no new hooks after its first registration.
login_manager.init_app(bp)
login_manager.blueprint_login_views = {bp.name: "dashboard.login"}

# Endpoints reachable without signing in.
PUBLIC_ENDPOINTS = {"dashboard.login"}


@bp.before_request
def require_login():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return redirect(url_for("dashboard.login", next=request.full_path.rstrip("?")))
    return None


@bp.after_request
def no_store(response):
    # Moderation pages show readers' e-mails and unpublished text: never cache them.
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


@bp.errorhandler(OperationalError)
def database_unavailable(exc):
    """503 + Retry-After, never a 500: the unit of work (moderation/db_retry.py) already
    waited DB_RETRY_BUDGET seconds for the database. No template: its navigation would
    ask the same database again."""
    current_app.logger.warning("dashboard: database unavailable: %s", exc)
    message = _("The database is busy or unavailable. Nothing was changed; try again in a moment.")
    if request.headers.get("X-Requested-With") == "fetch":
        response = jsonify({"ok": False, "message": message})
    else:
        response = current_app.make_response(f"<!doctype html><title>503</title><p>{escape(message)}</p>")
    response.status_code = 503
    response.headers["Retry-After"] = str(current_app.config["RETRY_AFTER_UNAVAILABLE"])
    return response


from . import (  # noqa: E402,F401  (routes register on import)
    admin_views,
    audit_views,
    auth_views,
    common,
    corrections_views,
    export_views,
    health_views,
    labels,
    notify_views,
    privacy_views,
    queue_views,
    reader_panel_views,
    rules_views,
    sso_views,
    stats_views,
)


def init_app(app):
    common.init_app(app)
    labels.init_app(app)
    app.register_blueprint(bp)
