"""Readers' opt-in follow-up: "tell me when it's fixed", "tell me about replies".

The reader API accepts an optional `notify_email` (a field of the submission models,
moderation/schemas/reader.py). The worker stores a subscription after the submission is
persisted and sends exactly one mail: a confirmation link. Nothing else is
mailed to the address until that link is opened, so the field cannot be used
to mail strangers more than once; every later mail has a one-click unsubscribe.
"""
import sqlalchemy as sa
from flask import current_app

from .. import tasks
from ..extensions import db
from ..models import Comment, Site, TypoReport
from ..models.notifications import ReaderSubscription
from ..privacy import hash_value
from ..redis_keys import CONFIRM_SENT_PREFIX
from .mail import mail_language

def subscribe_persisted(payloads):
    """Subscriptions for persisted submissions that asked for follow-up; queue confirmations.

    Idempotent: a replayed batch finds the subscription already there.
    """
    ids = {}
    for kind, model in (("report", TypoReport), ("comment", Comment)):
        wanted = [p["client_id"] for p in payloads if p.get("type") == kind]
        if wanted:
            # Keyed by site too: client_ids are unique per site, not globally.
            ids.update({(kind, site_id, cid): oid for site_id, cid, oid in db.session.execute(
                sa.select(model.site_id, model.client_id, model.id).where(model.client_id.in_(wanted))).all()})
    languages = dict(db.session.execute(sa.select(Site.id, Site.language)).all())
    created = []
    for payload in payloads:
        kind = payload.get("type")
        target = ids.get((kind, payload["site_id"], payload["client_id"]))
        if target is None:
            continue
        email = payload["notify_email"]
        exists = db.session.execute(sa.select(ReaderSubscription.id).where(
            ReaderSubscription.kind == kind, ReaderSubscription.target_id == target,
            ReaderSubscription.email == email)).first()
        if exists:
            continue
        sub = ReaderSubscription(kind=kind, target_id=target, site_id=payload["site_id"], email=email,
                                 locale=mail_language(payload.get("locale") or languages.get(payload["site_id"])))
        db.session.add(sub)
        created.append(sub)
    db.session.commit()
    for sub in created:
        try:
            if first_confirmation_today(sub.email):
                tasks.enqueue(tasks.READER_CONFIRMATION, sub.id, description=f"reader confirmation {sub.id}")
        except Exception:  # noqa: BLE001 - logged; the reader can ask again
            current_app.logger.exception("reader confirmation %s not queued", sub.id)
    return len(created)


CONFIRM_THROTTLE = 24 * 3600


def first_confirmation_today(email):
    """At most one confirmation mail per address per day, whoever types it in: the field
    cannot be used to flood a stranger's inbox. The one link confirms every subscription
    of that address on the site that waits at the moment it is opened."""
    key = CONFIRM_SENT_PREFIX + hash_value(email.strip().lower())
    return bool(current_app.broker.redis.set(key, "1", nx=True, ex=CONFIRM_THROTTLE))
