"""Signed, expiring, single-use e-mail links bound to one staff account.

Two kinds, one machinery:

* ``action``: the Approve / Reject / Spam links of a staff notification mail
  (MAIL_ACTION_HOURS, default 72 h), opened by moderation/dashboard/mail_action_views.py;
* ``reset``: the password-reset link (PASSWORD_RESET_MINUTES, default 60), opened by
  moderation/dashboard/auth_views.py.

A token is an itsdangerous timed signature (SECRET_KEY, one salt per kind) over
``[user id, account state, token id, *details]``:

* **signed and dated**: a changed byte is a bad signature; older than the kind's
  lifetime is expired;
* **bound to the recipient**: the account state is an HMAC of the account's password
  hash, so a password change or reset kills every link mailed before it. It is not the
  session version: that rises at every sign-out, which would kill a moderator's mailed
  links each time they sign out of the dashboard. Deactivation, a role or a site taken
  away are checked when the link is used (the services' own permission checks);
* **single-use**: the random token id is inserted into ``email_token_use`` (unique)
  when the link is spent (moderation/models/email_tokens.py says why a table).

The payload is signed, not encrypted: it holds ids and an HMAC, nothing secret.
"""
import hashlib
import hmac
import secrets
from datetime import timedelta, timezone

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import User
from ..models.base import utcnow
from ..models.email_tokens import EmailTokenUse
from .mail import external_url

KINDS = ("action", "reset")
# What a mailed decision link may do: decisions on an undecided item that need no more input.
MAIL_ACTIONS = {"comment": ("approve", "reject", "spam"), "cluster": ("reject",)}
TOKEN_ID_BYTES = 12  # 16 URL-safe characters


class LinkError(Exception):
    """Why a link cannot be used: `reason` is "bad" (forged, mangled, another kind, an
    account gone or deactivated), "expired", "used" or "stale" (the account's password
    changed since the link was sent)."""

    def __init__(self, reason, user=None):
        super().__init__(reason)
        self.reason = reason
        self.user = user


def lifetime(kind):
    """Seconds a link of this kind works."""
    cfg = current_app.config
    if kind == "action":
        return int(float(cfg["MAIL_ACTION_HOURS"]) * 3600)
    return int(float(cfg["PASSWORD_RESET_MINUTES"]) * 60)


def _serializer(kind):
    if kind not in KINDS:
        raise ValueError(f"unknown link kind {kind!r}")
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"mail-link-{kind}")


def account_state(user):
    """A short HMAC of the account's password hash: changes with every new password."""
    key = current_app.config["SECRET_KEY"].encode("utf-8")
    return hmac.new(key, b"mail-link-account:" + user.password_hash.encode("utf-8"), hashlib.sha256).hexdigest()[:16]


def issue(kind, user, *details):
    """A new token of `kind` for `user` (a User row); `details` are ints or short strings."""
    token_id = secrets.token_urlsafe(TOKEN_ID_BYTES)
    return _serializer(kind).dumps([int(user.id), account_state(user), token_id, *details])


class Link:
    """A verified token: its user, details, id and when it stops working."""

    def __init__(self, kind, user, token_id, details, expires_at):
        self.kind = kind
        self.user = user
        self.token_id = token_id
        self.details = details
        self.expires_at = expires_at

    def used(self):
        return db.session.execute(
            sa.select(EmailTokenUse.id).where(EmailTokenUse.token_id == self.token_id)).first() is not None

    def spend(self):
        """Record this link as used (in the caller's transaction, flushed now). Raises
        LinkError("used") when it already was, also when another request won the race."""
        db.session.execute(sa.delete(EmailTokenUse).where(EmailTokenUse.expires_at < utcnow()))
        try:
            with db.session.begin_nested():
                db.session.add(EmailTokenUse(token_id=self.token_id, purpose=self.kind, user_id=self.user.id,
                                             expires_at=self.expires_at))
        except IntegrityError as exc:
            raise LinkError("used", self.user) from exc


def read(kind, token):
    """The Link a token names. Raises LinkError (see its reasons)."""
    serializer = _serializer(kind)
    try:
        payload, signed_at = serializer.loads(token, max_age=lifetime(kind), return_timestamp=True)
    except SignatureExpired as exc:
        raise LinkError("expired", _user_of(serializer, exc.payload)) from exc
    except (BadSignature, ValueError, TypeError) as exc:
        raise LinkError("bad") from exc
    if not (isinstance(payload, list) and len(payload) >= 3 and isinstance(payload[0], int)
            and isinstance(payload[1], str) and isinstance(payload[2], str)):
        raise LinkError("bad")
    user = db.session.get(User, payload[0])
    if user is None or not user.is_active:
        raise LinkError("bad")
    signed_at = signed_at if signed_at.tzinfo else signed_at.replace(tzinfo=timezone.utc)
    link = Link(kind, user, payload[2], payload[3:], signed_at + timedelta(seconds=lifetime(kind)))
    if link.used():
        raise LinkError("used", user)
    if not hmac.compare_digest(account_state(user), payload[1]):
        raise LinkError("stale", user)
    return link


def _user_of(serializer, raw_payload):
    """The account an expired (but genuinely signed) token was sent to, for the page's
    language, or None."""
    try:
        payload = serializer.load_payload(raw_payload)
        user_id = payload[0] if isinstance(payload, list) and payload else None
        return db.session.get(User, user_id) if isinstance(user_id, int) else None
    except Exception:  # noqa: BLE001 - only the page's language is at stake
        return None


def expiry_text(kind):
    """The lifetime in hours (action) or minutes (reset), for the mail's wording."""
    seconds = lifetime(kind)
    return seconds // 3600 if kind == "action" else seconds // 60


def action_urls(user, target, item_id):
    """{action name: absolute URL} of the decision links for one item in a mail to `user`."""
    return {name: external_url("dashboard.mail_action", token=issue("action", user, target, int(item_id), name))
            for name in MAIL_ACTIONS[target]}


def reset_url(user):
    """The absolute URL of a new password-reset link for `user`."""
    return external_url("dashboard.reset_password", token=issue("reset", user))
