"""Public notification links: one-click unsubscribe (staff and readers), reader confirmation.

No login: the signed token in the URL is the authority. POST is exempt from
CSRF because mail clients send RFC 8058 one-click POSTs without a form token;
the token in the URL cannot be guessed, which is what CSRF protection would add.
"""
import sqlalchemy as sa
from flask import Blueprint, abort, render_template, request

from ..extensions import csrf, db
from ..models.base import utcnow
from ..models.notifications import NotificationPreference, ReaderSubscription
from .mail import mail_language, read_confirm_token, read_unsubscribe_token

bp = Blueprint("notify", __name__, url_prefix="/notify")


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"  # the token must not leak to other sites
    return response


bp.after_request(_no_store)


def _language():
    return mail_language(request.accept_languages.best_match(("en", "ru")) or "en")


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe(token):
    """GET: a page with one button (link scanners must not unsubscribe anyone);
    POST: unsubscribe at once (the button, or a mail client's one-click). 404 for a bad token."""
    parsed = read_unsubscribe_token(token)
    if parsed is None:
        abort(404)
    kind, object_id = parsed
    if request.method == "GET":
        return render_template("email/unsubscribe_page.html", lang=_language(), done=False, token=token)
    if kind == "staff":
        pref = db.session.get(NotificationPreference, object_id)
        if pref is None:
            pref = NotificationPreference(user_id=object_id)
            db.session.add(pref)
        pref.email_mode = "off"
    else:
        sub = db.session.get(ReaderSubscription, object_id)
        if sub is not None and sub.unsubscribed_at is None:
            sub.unsubscribed_at = utcnow()
    try:
        db.session.commit()
    except Exception:  # noqa: BLE001 - a deleted user: nothing left to unsubscribe
        db.session.rollback()
    return render_template("email/unsubscribe_page.html", lang=_language(), done=True, token=token)


@bp.route("/confirm/<token>", methods=["GET", "POST"])
@csrf.exempt
def confirm(token):
    """GET: a page with a confirm button; POST: confirm the reader's subscription.
    404 for a bad or expired (7 days) token."""
    sub_id = read_confirm_token(token)
    sub = db.session.get(ReaderSubscription, sub_id) if sub_id is not None else None
    if sub is None:
        abort(404)
    lang = mail_language(sub.locale)
    if request.method == "POST" and sub.unsubscribed_at is None and sub.confirmed_at is None:
        # Every subscription of this address on this site that waits now: confirmation mails
        # are throttled to one a day per address (notify.followup).
        now = utcnow()
        for waiting in db.session.execute(sa.select(ReaderSubscription).where(
                ReaderSubscription.site_id == sub.site_id, ReaderSubscription.email == sub.email,
                ReaderSubscription.confirmed_at.is_(None), ReaderSubscription.unsubscribed_at.is_(None))).scalars():
            waiting.confirmed_at = now
        db.session.commit()
    return render_template("email/confirm_page.html", lang=lang, sub=sub, token=token,
                           done=sub.confirmed_at is not None)


def init_app(app):
    app.register_blueprint(bp)
