"""Sign in and out. Failed sign-ins are throttled (login_throttle)."""
import math
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user, login_user, logout_user

from ..extensions import db
from ..models import User
from ..models.base import utcnow
from . import bp, login_throttle
from .common import LANGUAGES


def _safe_next(target):
    """Only our own dashboard paths: an open redirect would help phishing."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/dashboard"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
@login_throttle.throttled
def login():
    """Sign-in form. 401 on a wrong e-mail or password; 429 with Retry-After after too many
    failures (login_throttle)."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.home"))
    if request.method == "GET":
        return render_template("dashboard/login.html", next=request.args.get("next", ""))
    email = request.form.get("email", "").strip().lower()
    password = request.form.get("password", "")
    user = db.session.execute(sa.select(User).where(User.email == email)).scalar_one_or_none()
    if user is None or not user.is_active or not user.check_password(password):
        # One message for every failure: no hint which accounts exist.
        return render_template(
            "dashboard/login.html", error=_("Wrong e-mail or password."), email=email,
            next=request.form.get("next", ""),
        ), 401
    _fresh_session()
    login_user(user, remember=bool(request.form.get("remember")))
    user.last_login_at = utcnow()
    db.session.commit()
    response = redirect(_safe_next(request.form.get("next")) or url_for("dashboard.home"))
    return login_throttle.remember_device(response, user.email)


def _fresh_session():
    """Start the signed-in session empty: nothing planted in the visitor's session before
    sign-in survives it, least of all the CSRF secret (the next form gets a new token)."""
    session.clear()
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)


@bp.errorhandler(RateLimitExceeded)
def too_many_attempts(exc):
    seconds = login_throttle.retry_after()
    minutes = math.ceil(seconds / 60)
    response = current_app.make_response((
        render_template("dashboard/login.html", email=request.form.get("email", ""),
                        error=ngettext("Too many failed sign-ins. Wait %(num)d minute and try again.",
                                       "Too many failed sign-ins. Wait %(num)d minutes and try again.",
                                       minutes)),
        429,
    ))
    response.headers["Retry-After"] = str(seconds)
    return response


@bp.post("/logout")
def logout():
    """Sign out: ends every session and remember cookie of the account, on every device."""
    current_user.end_sessions()
    db.session.commit()
    logout_user()
    flash(_("Signed out."))
    return redirect(url_for("dashboard.login"))


@bp.post("/language")
def set_language():
    """Remember the dashboard language on the account."""
    locale = request.form.get("locale")
    current_user.locale = locale if locale in LANGUAGES else None
    db.session.commit()
    return redirect(_safe_next(request.form.get("next")) or url_for("dashboard.home"))
