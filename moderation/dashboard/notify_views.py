"""Notification settings in the dashboard: each user's e-mail choice, admins' per-site webhooks.

Every view needs a signed-in user (blueprint rule) and a CSRF token on POST
(400 before the view runs). Webhook views answer 403 unless admin, 404 for an
unknown site or webhook, 400 (the form again, with field errors) on bad input,
including a URL whose host is not public (the delivery's own address checks).
A webhook's secret is shown in full only right after it is created or rotated.
"""
import re

import redis
import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user

from .. import tasks
from ..extensions import db
from ..models import Site
from ..models.base import utcnow
from ..models.notifications import (
    EMAIL_MODES,
    EVENTS,
    FORMATS,
    NotificationPreference,
    Webhook,
    WebhookDelivery,
    new_secret,
)
from ..notify.http import BLOCKED, OWN_HOST, UNRESOLVED, check_target, check_url
from ..notify.http import settings as webhook_settings
from ..services.audit import audit
from ..schemas.limits import MAX_ID
from . import bp
from .common import register_nav, requires

# Every role has "comments": the preferences page is for everyone.
register_nav("dashboard.notify_preferences", lazy_gettext("Notifications"), "comments")
register_nav("dashboard.notify_webhooks", lazy_gettext("Webhooks"), "admin")

EMAIL_MODE_LABELS = {
    "off": lazy_gettext("Off"),
    "immediate": lazy_gettext("At once: a mail for each batch of new error reports or comments awaiting moderation"),
    "hourly": lazy_gettext("Hourly digest"),
    "daily": lazy_gettext("Daily digest"),
}
CHAT_ID = re.compile(r"-?\d{1,20}|@[A-Za-z0-9_]{5,32}")
LOG_ROWS = 50


# -- everyone: e-mail preference ------------------------------------------------------------

@bp.route("/notifications", methods=["GET", "POST"])
def notify_preferences():
    """The signed-in user's e-mail notifications. 400 for an unknown mode."""
    pref = db.session.get(NotificationPreference, current_user.id)
    status = 200
    if request.method == "POST":
        mode = request.form.get("email_mode", "")
        if mode not in EMAIL_MODES:
            status = 400
            flash(_("Choose one of the options."), "error")
        else:
            if pref is None:
                pref = NotificationPreference(user_id=current_user.id)
                db.session.add(pref)
            if mode != pref.email_mode and mode in ("hourly", "daily"):
                pref.last_digest_at = utcnow()  # the first digest covers what comes next
            pref.email_mode = mode
            db.session.commit()
            flash(_("Saved."))
            return redirect(url_for("dashboard.notify_preferences"))
    return render_template("dashboard/notify_preferences.html", mode=pref.email_mode if pref else "off",
                           modes=EMAIL_MODES, labels=EMAIL_MODE_LABELS), status


# -- admins: webhooks ---------------------------------------------------------------------------

def _parse(form, hook=None):
    """(values, errors) for a webhook form."""
    values = {
        "url": form.get("url", "").strip(),
        "events": [e for e in form.getlist("events") if e in EVENTS],
        "format": form.get("format", "json"),
        "chat_id": form.get("chat_id", "").strip() or None,
        "active": bool(form.get("active")),
    }
    errors = {}
    if hook is not None and not values["url"]:
        values["url"] = hook.url  # the stored URL is shown masked; empty keeps it
    if len(values["url"]) > 2000 or check_url(values["url"]):
        errors["url"] = _("An http:// or https:// address of at most 2000 characters.")
    elif hook is None or values["url"] != hook.url:
        # The same address checks as every delivery (moderation.notify.http), said at once.
        _ip, problem = check_target(values["url"], **webhook_settings(current_app.config))
        if problem:
            errors["url"] = _url_problem(problem)
    if not values["events"]:
        errors["events"] = _("Choose at least one event.")
    if values["format"] not in FORMATS:
        errors["format"] = _("Choose a format.")
    if values["format"] == "telegram" and not (values["chat_id"] and CHAT_ID.fullmatch(values["chat_id"])):
        errors["chat_id"] = _("Telegram needs a chat id: a number, or @channelname.")
    if values["format"] != "telegram":
        values["chat_id"] = None
    return values, errors


def _url_problem(problem):
    if problem == BLOCKED:
        return _("This address is not public (loopback, a private network or similar): webhooks go to "
                 "public addresses only, unless MODERATION_WEBHOOK_ALLOWED_NETWORKS allows its network.")
    if problem == UNRESOLVED:
        return _("The host name does not resolve.")
    if problem == OWN_HOST:
        return _("This is the address of this service itself.")
    return _("An http:// or https:// address of at most 2000 characters.")


def _site(site_id):
    site = db.session.get(Site, site_id)
    if site is None:
        abort(404)
    return site


def _hook(webhook_id):
    hook = db.session.get(Webhook, webhook_id)
    if hook is None:
        abort(404)
    return hook


def _state(hook):
    # What the audit log keeps: never the secret, never the full URL (it may hold a token).
    return {"url": hook.masked_url(), "events": list(hook.events or []), "format": hook.format,
            "active": hook.active}


@bp.get("/admin/webhooks")
@requires("admin")
def notify_webhooks():
    """Every site with its webhooks."""
    sites = db.session.execute(sa.select(Site).order_by(Site.name)).scalars().all()
    hooks = db.session.execute(sa.select(Webhook).order_by(Webhook.id)).scalars().all()
    by_site = {}
    for hook in hooks:
        by_site.setdefault(hook.site_id, []).append(hook)
    return render_template("dashboard/notify_webhooks.html", sites=sites, by_site=by_site)


@bp.route(f"/admin/sites/<int(max={MAX_ID}):site_id>/webhooks/new", methods=["GET", "POST"])
@requires("admin")
def notify_webhook_new(site_id):
    """Add a webhook to a site; the page after saving shows the secret once."""
    site = _site(site_id)
    if request.method == "GET":
        return _form(site, None, {"events": list(EVENTS), "format": "json", "active": True})
    values, errors = _parse(request.form)
    if errors:
        return _form(site, None, values, errors, 400)
    hook = Webhook(site_id=site.id, secret=new_secret(), **values)
    db.session.add(hook)
    db.session.flush()
    audit(current_user, "webhook.create", hook, after=_state(hook))
    db.session.commit()
    flash(_("Webhook added. Copy the secret now: it is not shown again."))
    return _form(site, hook, values, new_secret=hook.secret)


@bp.route(f"/admin/webhooks/<int(max={MAX_ID}):webhook_id>", methods=["GET", "POST"])
@requires("admin")
def notify_webhook_edit(webhook_id):
    """Edit a webhook (empty URL keeps the stored one; "rotate" issues a new secret) and see its
    delivery log."""
    hook = _hook(webhook_id)
    if request.method == "GET":
        return _form(hook.site, hook, {"events": hook.events, "format": hook.format, "chat_id": hook.chat_id,
                                       "active": hook.active})
    values, errors = _parse(request.form, hook)
    if errors:
        return _form(hook.site, hook, values, errors, 400)
    before = _state(hook)
    for field, value in values.items():
        setattr(hook, field, value)
    fresh = None
    if request.form.get("rotate_secret"):
        hook.secret = fresh = new_secret()
    after = dict(_state(hook), secret_rotated=bool(fresh))
    audit(current_user, "webhook.update", hook, before=before, after=after)
    db.session.commit()
    if fresh:
        flash(_("New secret issued. Copy it now: it is not shown again."))
        return _form(hook.site, hook, values, new_secret=fresh)
    flash(_("Saved."))
    return redirect(url_for("dashboard.notify_webhook_edit", webhook_id=hook.id))


def _form(site, hook, values, errors=None, status=200, new_secret=None):
    log = []
    if hook is not None and hook.id:
        log = db.session.execute(
            sa.select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id)
            .order_by(WebhookDelivery.id.desc()).limit(LOG_ROWS)
        ).scalars().all()
    return render_template("dashboard/notify_webhook_form.html", site=site, hook=hook, values=values,
                           errors=errors or {}, events=EVENTS, formats=FORMATS, log=log,
                           new_secret=new_secret), status


@bp.post(f"/admin/webhooks/<int(max={MAX_ID}):webhook_id>/delete")
@requires("admin")
def notify_webhook_delete(webhook_id):
    hook = _hook(webhook_id)
    audit(current_user, "webhook.delete", hook, before=_state(hook))
    db.session.delete(hook)
    db.session.commit()
    flash(_("Webhook deleted."))
    return redirect(url_for("dashboard.notify_webhooks"))


@bp.post(f"/admin/webhooks/<int(max={MAX_ID}):webhook_id>/test")
@requires("admin")
def notify_webhook_test(webhook_id):
    """Queue a signed "ping"; its attempts appear in the delivery log. 503 if Redis is down."""
    hook = _hook(webhook_id)
    try:
        tasks.enqueue(tasks.WEBHOOK, hook.id, "ping", [], description=f"webhook {hook.id} test")
    except redis.RedisError:
        abort(503)
    flash(_("Test message queued; reload to see the delivery."))
    return redirect(url_for("dashboard.notify_webhook_edit", webhook_id=hook.id))
