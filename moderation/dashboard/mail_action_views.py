"""One-click decisions from staff notification e-mails: Approve / Reject / Spam a comment,
Reject an error report, without signing in.

The link (moderation/notify/links.py, kind "action") is the credential: signed, expiring
(MAIL_ACTION_HOURS), single-use and bound to the account it was mailed to. GET only shows
a confirm page (mail scanners and link previews follow links: they decide nothing); its
one button POSTs the form (CSRF token included) and the action runs through the action
registry as that account, audited with `via: e-mail`. The account's role and sites are
checked again at click time, by the services, as for any dashboard action.
"""
from flask import current_app, render_template, request
from flask_babel import force_locale
from flask_login import current_user

from ..extensions import db, limiter
from ..models import Comment, ReportCluster, User
from ..notify import links
from ..privacy import reporter_hash
from ..services import actions as registry
from ..services.audit import via
from ..services.common import ServiceError
from . import PUBLIC_ENDPOINTS, bp
from .common import LANGUAGES

MAIL_ACTIONS = links.MAIL_ACTIONS
MODELS = {"comment": Comment, "cluster": ReportCluster}

PUBLIC_ENDPOINTS.add("dashboard.mail_action")


def _address_key():
    return "mail-link:" + reporter_hash()


def _language(user):
    if user is not None and user.locale in LANGUAGES:
        return user.locale
    return request.accept_languages.best_match(LANGUAGES) or "en"


def _page(status, reader=None, **context):
    """The page in the language of `reader` (the link's account), else the browser's."""
    with force_locale(_language(reader)):
        return render_template("dashboard/mail_action.html", mail_link_hours=links.expiry_text("action"),
                               **context), status


def _decided_by(item):
    decider = getattr(item, "decided_by_id", None)
    user = db.session.get(User, decider) if decider else None
    return user.email if user else None


@bp.route("/mail/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["MAIL_LINK_LIMIT"], key_func=_address_key)
def mail_action(token):
    """GET: the confirm page of a mailed decision (decides nothing); POST: the decision.

    No sign-in: the token is the authority. 404 for a forged or mangled link or one whose
    account is gone or deactivated; 410 for an expired or already used one, or one mailed
    before the account's password changed; 403 when the account may no longer do this (role, sites) or another account is
    signed in in this browser; 409 when the item was decided meanwhile (nothing is done);
    400 without a valid CSRF token or for a reason over REASON_MAX (the form again); 429 with Retry-After (MAIL_LINK_LIMIT per address).
    """
    try:
        link = links.read("action", token)
    except links.LinkError as exc:
        status = 404 if exc.reason == "bad" else 410
        return _page(status, exc.user, state=exc.reason)
    user = link.user
    if current_user.is_authenticated and current_user.id != user.id:
        return _page(403, current_user, state="other_account")
    try:
        target, item_id, name = link.details
        if name not in MAIL_ACTIONS[target]:
            raise ValueError(name)
    except (ValueError, KeyError, TypeError):
        return _page(404, user, state="bad")
    action = registry.get(target, name)
    # A POST reads the item under a row lock (PostgreSQL; SQLite's write unit holds the
    # database lock already): a decision made meanwhile is seen, not overwritten.
    item = db.session.get(MODELS[target], item_id, with_for_update=request.method == "POST",
                          populate_existing=request.method == "POST")
    if item is None or not user.can_site(item.site_id):
        return _page(404, user, state="bad")
    if not user.can(action.scope):
        return _page(403, user, state="not_allowed")
    context = {"target": target, "item": item, "action": action, "user": user}
    undecided = registry.TARGETS[target].undecided
    if item.status != undecided:
        return _page(409, user, state="decided", decided_by=_decided_by(item), **context)
    if request.method == "GET":
        return _page(200, user, state="confirm", token=token, **context)
    try:
        link.spend()
        with via("e-mail"):
            action.perform(item.id, user, reason=request.form.get("reason") if action.reason else None)
        db.session.commit()
    except links.LinkError:
        db.session.rollback()
        return _page(410, user, state="used")
    except ServiceError as exc:
        db.session.rollback()
        if exc.status == 400:  # the reason: too long, or not text
            return _page(400, user, state="confirm", token=token, errors=exc.fields or {}, **context)
        return _page(exc.status if exc.status in (403, 404) else 409, user, state="failed", **context)
    return _page(200, user, state="done", **context)
