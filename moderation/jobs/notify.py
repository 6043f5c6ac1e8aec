"""Notification jobs: fan an event out to webhooks and mail, deliver each with retries.

Every job takes ids, reads the current state when it runs, and is retried by RQ
with the backoff in NOTIFY_RETRY_INTERVALS. One delivery = one job, so a dead
receiver or SMTP server only retries its own work.
"""
import json
import time
import uuid
from collections import defaultdict
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from rq import get_current_job

from .. import metrics, tasks
from ..extensions import db
from ..models import Comment, ReportCluster, Site, TypoReport, User
from ..models.base import as_utc, utcnow
from ..models.notifications import NotificationPreference, ReaderSubscription, Webhook, WebhookDelivery
from ..notify import links, mail, payloads, recipients
from ..notify.http import Blocked, DeliveryError, post
from ..notify.http import settings as webhook_settings
from ..notify.signing import headers as signed_headers
from . import in_app_context

MAIL_LISTED = 20  # items of each kind an immediate mail lists, and that carry decision links in any mail
DIGEST_PERIODS = {"hourly": timedelta(hours=1), "daily": timedelta(days=1)}
USER_AGENT = "moderation-webhooks/1"


class DeliveryFailed(Exception):
    """The receiver did not accept the webhook; RQ retries the job."""


# -- fan-out --------------------------------------------------------------------------------

@in_app_context
def dispatch(event, ids):
    """Queue the deliveries an event needs: webhooks of its sites, staff and reader mail."""
    items = payloads.load(event, ids)
    by_site = defaultdict(list)
    for site_id, object_id, _data in items:
        by_site[site_id].append(object_id)
    hooks = db.session.execute(
        sa.select(Webhook).where(Webhook.site_id.in_(list(by_site)), Webhook.active.is_(True)).order_by(Webhook.id)
    ).scalars().all() if by_site else []
    plan = []
    for hook in hooks:
        if event not in (hook.events or []):
            continue
        site_ids = by_site[hook.site_id]
        if hook.format == "json":
            # One object per request: what a CMS integration wants to handle.
            plan.extend((hook.id, [object_id]) for object_id in site_ids)
        else:
            # One chat message per batch: a spam wave must not post 500 messages.
            plan.append((hook.id, site_ids))
    staff = []
    if event in recipients.SCOPE:
        objects = recipients.waiting(event, ids)
        for user, _pref in recipients.staff_with_mode(["immediate"]):
            mine = recipients.visible(user, recipients.SCOPE[event], objects)
            if mine:
                staff.append((user.id, [obj.id for obj in mine]))
    follow_kind = {"cluster.fixed": "report", "comment.approved": "comment"}.get(event)
    readers = follow_kind is not None and db.session.execute(
        sa.select(ReaderSubscription.id).where(ReaderSubscription.kind == follow_kind,
                                               ReaderSubscription.confirmed_at.is_not(None)).limit(1)
    ).first() is not None
    db.session.rollback()
    for hook_id, object_ids in plan:
        tasks.enqueue(tasks.WEBHOOK, hook_id, event, object_ids, description=f"webhook {hook_id} {event}")
    for user_id, object_ids in staff:
        tasks.enqueue(tasks.STAFF_MAIL, user_id, event, object_ids, description=f"mail user {user_id} {event}")
    if readers:  # no confirmed reader anywhere: no job
        tasks.enqueue(tasks.READER_FOLLOWUP, event, list(ids), description=f"reader follow-up {event}")
    return {"webhooks": len(plan), "staff": len(staff), "readers": readers}


# -- webhooks ---------------------------------------------------------------------------------

def _body(hook, site, event, delivery_id, object_ids):
    if event == "ping":
        items = [{"message": payloads.LINES[payloads.language(site)]["ping"]}]
    else:
        items = [data for site_id, _id, data in payloads.load(event, object_ids) if site_id == hook.site_id]
        if not items:
            return None  # deleted meanwhile: nothing to tell
    if hook.format == "slack":
        return payloads.slack(event, site, [] if event == "ping" else items)
    if hook.format == "telegram":
        return payloads.telegram(event, site, [] if event == "ping" else items, hook.chat_id)
    return payloads.envelope(event, delivery_id, site, items[0])


@in_app_context
def deliver_webhook(webhook_id, event, object_ids):
    """POST one signed event to one webhook and log the attempt.

    2xx: done. 408, 429, 5xx, 3xx (redirects are not followed) and network
    errors raise DeliveryFailed so RQ retries with backoff; other 4xx are the
    receiver refusing the request, logged and not retried. A URL refused by the
    address checks (moderation.notify.http) is logged and not retried either.
    """
    hook = db.session.get(Webhook, webhook_id)
    if hook is None or not hook.active:
        return "webhook gone"
    job = get_current_job()
    delivery_id = job.id if job is not None else uuid.uuid4().hex
    body = _body(hook, hook.site, event, delivery_id, object_ids)
    if body is None:
        db.session.rollback()
        return "nothing to send"
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    request_headers = {
        "Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT,
        "X-Webhook-Event": event, "X-Webhook-Delivery": delivery_id,
        **signed_headers(hook.secret, data),
    }
    url = hook.url
    attempt = db.session.execute(
        sa.select(sa.func.count()).select_from(WebhookDelivery).where(WebhookDelivery.delivery_id == delivery_id)
    ).scalar_one() + 1
    db.session.rollback()  # no database transaction held during the HTTP call
    cfg = current_app.config
    status, error, blocked = None, None, False
    started = time.monotonic()
    try:
        status, _answer = post(url, data, request_headers, timeout=cfg["WEBHOOK_TIMEOUT"],
                               max_response=cfg["WEBHOOK_MAX_RESPONSE"], **webhook_settings(cfg))
        if not 200 <= status < 300:
            error = f"HTTP {status}"
    except Blocked as exc:  # refused before connecting: the admin must change the URL
        error, blocked = str(exc), True
    except DeliveryError as exc:
        error = str(exc)
    duration = int((time.monotonic() - started) * 1000)
    metrics.webhook_attempt(status, error, blocked)
    db.session.add(WebhookDelivery(webhook_id=webhook_id, delivery_id=delivery_id, event=event,
                                   attempt=attempt, status_code=status, error=(error or None) and error[:500],
                                   duration_ms=duration))
    db.session.commit()
    if blocked:
        return error
    if error and (status is None or status in (408, 429) or status >= 500 or 300 <= status < 400):
        raise DeliveryFailed(f"webhook {webhook_id} {event}: {error}")
    return status


# -- staff e-mail -----------------------------------------------------------------------------

def _staff_unsubscribe(user):
    return mail.external_url("notify.unsubscribe", token=mail.unsubscribe_token("staff", user.id))


def _dashboard_links():
    return {"reports_url": mail.external_url("dashboard.reports"),
            "comments_url": mail.external_url("dashboard.comments"),
            "preferences_url": mail.external_url("dashboard.notify_preferences")}


def _decision_links(user, clusters, comments):
    """One-click decisions (moderation/notify/links.py), signed for this user, for the first
    MAIL_LISTED items of each kind a mail lists: {"decide": {(target, id): {action: url}}, "hours"}."""
    decide = {(target, item.id): links.action_urls(user, target, item.id)
              for target, items in (("cluster", clusters), ("comment", comments)) for item in items[:MAIL_LISTED]}
    return {"decide": decide, "hours": links.expiry_text("action")}


@in_app_context
def send_staff_mail(user_id, event, object_ids):
    """An immediate mail about new clusters or pending comments; skipped if the user opted out
    or everything was handled meanwhile."""
    user = db.session.get(User, user_id)
    pref = db.session.get(NotificationPreference, user_id)
    if user is None or not user.is_active or pref is None or pref.email_mode != "immediate":
        return "opted out"
    objects = recipients.visible(user, recipients.SCOPE[event], recipients.waiting(event, object_ids))
    if not objects:
        return "nothing waiting"
    clusters = objects if event == "cluster.created" else []
    comments = objects if event == "comment.pending" else []
    sent = mail.deliver(user.email, "staff_new", user.locale, unsubscribe_url=_staff_unsubscribe(user),
                        clusters=clusters, comments=comments, listed=MAIL_LISTED,
                        **_decision_links(user, clusters, comments), **_dashboard_links())
    db.session.rollback()
    return "sent" if sent else "mail disabled"


@in_app_context
def send_digests():
    """Hourly and daily digests that are due. A user whose mail fails keeps the old
    `last_digest_at`, so the next check (DIGEST_CHECK_SECONDS) tries again."""
    now = utcnow()
    sent = 0
    for user, pref in recipients.staff_with_mode(list(DIGEST_PERIODS)):
        since = as_utc(pref.last_digest_at)
        if since is None:  # the window starts now; nothing is owed from before the choice
            pref.last_digest_at = now
            db.session.commit()
            continue
        if now - since < DIGEST_PERIODS[pref.email_mode]:
            continue
        clusters, comments = recipients.arrived_since(user, since, now)
        if clusters or comments:
            try:
                mail.deliver(user.email, "staff_digest", user.locale, unsubscribe_url=_staff_unsubscribe(user),
                             clusters=clusters, comments=comments, since=since, period=pref.email_mode,
                             **_decision_links(user, clusters, comments), **_dashboard_links())
                sent += 1
            except Exception:  # noqa: BLE001 - one bad address or a blip must not stop the others
                current_app.logger.exception("digest for user %s not sent", user.id)
                db.session.rollback()
                continue
        pref.last_digest_at = now
        db.session.commit()
    return sent


# -- password reset -----------------------------------------------------------------------------

@in_app_context
def send_password_reset(user_id):
    """The mail with a password-reset link (moderation/notify/links.py, kind "reset"), made
    now, for an account that is still active."""
    user = db.session.get(User, user_id)
    if user is None or not user.is_active:
        return "no such active account"
    sent = mail.deliver(user.email, "password_reset", user.locale, reset_url=links.reset_url(user),
                        minutes=links.expiry_text("reset"), login_url=mail.external_url("dashboard.login"))
    db.session.rollback()
    return "sent" if sent else "mail disabled"


# -- readers ------------------------------------------------------------------------------------

def _reader_unsubscribe(sub):
    return mail.external_url("notify.unsubscribe", token=mail.unsubscribe_token("reader", sub.id))


@in_app_context
def send_reader_confirmation(subscription_id):
    """The only mail an unconfirmed address ever gets: "click to confirm"."""
    sub = db.session.get(ReaderSubscription, subscription_id)
    if sub is None or sub.confirmed_at is not None or sub.unsubscribed_at is not None:
        return "nothing to confirm"
    site = db.session.get(Site, sub.site_id)
    sent = mail.deliver(sub.email, f"reader_confirm_{sub.kind}", sub.locale,
                        unsubscribe_url=_reader_unsubscribe(sub), site=site,
                        confirm_url=mail.external_url("notify.confirm", token=mail.confirm_token(sub.id)))
    db.session.rollback()
    return "sent" if sent else "mail disabled"


def _active_subscriptions(kind, target_ids):
    if not target_ids:
        return []
    return db.session.execute(
        sa.select(ReaderSubscription).where(
            ReaderSubscription.kind == kind, ReaderSubscription.target_id.in_(list(target_ids)),
            ReaderSubscription.confirmed_at.is_not(None), ReaderSubscription.unsubscribed_at.is_(None),
        ).order_by(ReaderSubscription.id)
    ).scalars().all()


@in_app_context
def notify_readers(event, ids):
    """Queue one mail per confirmed subscriber: their report's spot was fixed, or an
    approved reply to their comment appeared. Unapproved replies never mail anyone."""
    queued = 0
    if event == "cluster.fixed":
        for cluster in db.session.execute(sa.select(ReportCluster).where(
                ReportCluster.id.in_(list(ids)), ReportCluster.status == "fixed")).scalars():
            report_ids = db.session.execute(
                sa.select(TypoReport.id).where(TypoReport.cluster_id == cluster.id)).scalars().all()
            for sub in _active_subscriptions("report", report_ids):
                tasks.enqueue(tasks.READER_MAIL, sub.id, event, cluster.id, description=f"reader mail {sub.id}")
                queued += 1
    elif event == "comment.approved":
        replies = db.session.execute(sa.select(Comment).where(
            Comment.id.in_(list(ids)), Comment.status == "approved", Comment.parent_id.is_not(None))).scalars().all()
        for reply in replies:
            for sub in _active_subscriptions("comment", [reply.parent_id]):
                if reply.email and reply.email.lower() == sub.email.lower():
                    continue  # answering oneself is no news
                tasks.enqueue(tasks.READER_MAIL, sub.id, event, reply.id, description=f"reader mail {sub.id}")
                queued += 1
    db.session.rollback()
    return queued


@in_app_context
def send_reader_mail(subscription_id, event, object_id):
    """Re-checks everything when it runs: confirmed, subscribed, and (replies) still approved."""
    sub = db.session.get(ReaderSubscription, subscription_id)
    if sub is None or sub.confirmed_at is None or sub.unsubscribed_at is not None:
        return "not subscribed"
    site = db.session.get(Site, sub.site_id)
    if event == "cluster.fixed":
        cluster = db.session.get(ReportCluster, object_id)
        if cluster is None or cluster.status != "fixed":
            return "no longer fixed"
        context = {"cluster": cluster, "url": cluster.page.url}
        name = "reader_fixed"
    else:
        reply = db.session.get(Comment, object_id)
        if reply is None or reply.status != "approved":
            return "not approved"
        context = {"reply": reply, "url": reply.page.url}
        name = "reader_reply"
    sent = mail.deliver(sub.email, name, sub.locale, unsubscribe_url=_reader_unsubscribe(sub), site=site, **context)
    db.session.rollback()
    return "sent" if sent else "mail disabled"
