"""Sign in and out, and reset a forgotten password by e-mail. Failed sign-ins are
throttled (login_throttle); reset requests per address and per e-mail address."""
import math
from urllib.parse import urlsplit

import redis
import sqlalchemy as sa
from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user, login_user, logout_user

from .. import auth, tasks
from ..extensions import db, limiter
from ..models import User
from ..models.base import utcnow
from ..notify import links
from ..privacy import hash_email, reporter_hash
from ..services.audit import audit, via
from . import PUBLIC_ENDPOINTS, bp, login_throttle
from .common import LANGUAGES

PUBLIC_ENDPOINTS.update({"dashboard.forgot_password", "dashboard.reset_password"})


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
    if request.endpoint in ("dashboard.mail_action", "dashboard.forgot_password", "dashboard.reset_password"):
        if request.endpoint == "dashboard.forgot_password":
            page = render_template("dashboard/forgot_password.html", email=request.form.get("email", ""),
                                   error=ngettext("Too many requests. Wait %(num)d minute and try again.",
                                                  "Too many requests. Wait %(num)d minutes and try again.",
                                                  minutes))
        else:
            page = render_template("dashboard/mail_action.html", state="limited",
                                   mail_link_hours=links.expiry_text("action"))
        response = current_app.make_response((page, 429))
        response.headers["Retry-After"] = str(seconds)
        return response
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


# -- a forgotten password -------------------------------------------------------------------

def _reset_address_key():
    return "reset-address:" + reporter_hash()


def _reset_account_key():
    return "reset-account:" + hash_email(request.form.get("email", "").strip().lower())


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RESET_LIMIT_ADDRESS"], key_func=_reset_address_key, methods=["POST"])
@limiter.limit(lambda: current_app.config["RESET_LIMIT_ACCOUNT"], key_func=_reset_account_key, methods=["POST"])
def forgot_password():
    """Ask for a password-reset link. The answer is the same whether an account has that
    address or not (no account enumeration); only an active account is mailed (a job).
    400 with the field error for an address that is not one; 429 with Retry-After
    (RESET_LIMIT_ADDRESS per client address, RESET_LIMIT_ACCOUNT per e-mail address asked)."""
    if request.method == "GET":
        return render_template("dashboard/forgot_password.html", email="")
    email = request.form.get("email", "").strip().lower()
    if "@" not in email or len(email) > 254:
        return render_template("dashboard/forgot_password.html", email=email[:254],
                               error=_("Enter the e-mail address of your account.")), 400
    user = db.session.execute(sa.select(User).where(User.email == email)).scalar_one_or_none()
    if user is not None and user.is_active:
        try:
            tasks.enqueue(tasks.PASSWORD_RESET_MAIL, user.id, description=f"password reset mail {user.id}")
        except redis.RedisError as exc:
            # The same page all the same: a 503 here would tell that the account exists.
            current_app.logger.warning("password reset mail for user %s not queued (%s)", user.id, exc)
    db.session.rollback()
    return render_template("dashboard/forgot_password.html", email=email, sent=True,
                           minutes=links.expiry_text("reset"))


def _reset_page(status, reader=None, **context):
    """The page in the language of `reader` (the link's account), else the browser's."""
    locale = reader.locale if reader is not None and reader.locale in LANGUAGES else None
    locale = locale or request.accept_languages.best_match(LANGUAGES) or "en"
    with force_locale(locale):
        return render_template("dashboard/reset_password.html", password_min=auth.PASSWORD_MIN,
                               password_max=auth.PASSWORD_MAX, **context), status


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["MAIL_LINK_LIMIT"], key_func=lambda: "mail-link:" + reporter_hash())
def reset_password(token):
    """GET: the new-password form of a reset link; POST: set it, which ends every session of
    the account, audited (`user.reset_password` by the user, via e-mail). 404 for a forged or
    mangled link (or an account gone or deactivated); 410 for an expired or used one (also
    once the password changed since it was sent); 400 with field errors for a password of
    the wrong length or two that differ, or without a valid CSRF token; 429 with Retry-After."""
    try:
        link = links.read("reset", token)
    except links.LinkError as exc:
        return _reset_page(404 if exc.reason == "bad" else 410, exc.user, state=exc.reason)
    user = link.user
    if request.method == "GET":
        return _reset_page(200, user, state="form", token=token, user=user)
    password = request.form.get("password", "")
    errors = {}
    if not auth.PASSWORD_MIN <= len(password) <= auth.PASSWORD_MAX:
        errors["password"] = _("The password must be %(min)d to %(max)d characters long.",
                               min=auth.PASSWORD_MIN, max=auth.PASSWORD_MAX)
    elif request.form.get("password2", "") != password:
        errors["password2"] = _("The two passwords differ.")
    if errors:
        return _reset_page(400, user, state="form", token=token, user=user, errors=errors)
    try:
        link.spend()
    except links.LinkError:
        db.session.rollback()
        return _reset_page(410, user, state="used")
    user.set_password(password)  # also ends every session and remember cookie of the account
    with via("e-mail"):
        audit(user, "user.reset_password", user, after={"password_reset": True})
    db.session.commit()
    if current_user.is_authenticated and current_user.id == user.id:
        logout_user()  # this browser's session ended with the others: clear its cookie too
    # In the browser's language, as the sign-in page that shows it.
    flash(_("Your password was changed and every session of the account has ended. Sign in with the new password."))
    return redirect(url_for("dashboard.login"))
