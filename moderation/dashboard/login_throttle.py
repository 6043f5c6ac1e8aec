"""Throttling of failed dashboard sign-ins (Flask-Limiter decorators on the login view).

Only failures count (``deduct_when``). Three limits, each a list of windows so the
wait grows with the guesses (config.py, docs/security.md):

* ``LOGIN_LIMIT_CLIENT``: one client guessing one account. A client is the account
  plus the address hash, or, for a browser that has signed in to this account
  before, its *device cookie* (a signed, dated mark set at each successful sign-in).
* ``LOGIN_LIMIT_ACCOUNT``: every client without that account's device cookie
  together (guessing spread over many addresses).
* ``LOGIN_LIMIT_ADDRESS``: one address, any accounts (spraying one password).

A browser with the account's device cookie is held only by its own limit: however
many guesses arrive from elsewhere, the owner's usual browser still signs in
(the "device cookies" defence of the OWASP guidance on account lockout).

Every window is checked (RATELIMIT_FAIL_ON_FIRST_BREACH off), so Retry-After is the
end of the longest breached one, not of the first.

While the limiter's Redis is unreachable Flask-Limiter counts in this process's
memory (RATELIMIT_IN_MEMORY_FALLBACK_ENABLED) instead of letting every guess
through, and goes back to Redis once it answers again.
"""
import hashlib
import hmac
import math
import time

from flask import current_app, g, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..extensions import limiter
from ..privacy import hash_email, reporter_hash
from . import bp

DEVICE_COOKIE = "login_device"
_DEVICE_SALT = "moderation-login-device"


def _email():
    return request.form.get("email", "").strip().lower()


def _serializer():
    return URLSafeTimedSerializer(current_app.secret_key, salt=_DEVICE_SALT)


def _device_seconds():
    return current_app.config["LOGIN_DEVICE_DAYS"] * 86400


def device():
    """A digest of this browser's device cookie if it was set for the account being
    tried (and is not older than LOGIN_DEVICE_DAYS), else None."""
    if "login_device" not in g:
        g.login_device = None
        value = request.cookies.get(DEVICE_COOKIE)
        if value:
            try:
                account = _serializer().loads(value, max_age=_device_seconds())
            except BadSignature:
                account = None
            if isinstance(account, str) and hmac.compare_digest(account, hash_email(_email())):
                g.login_device = hashlib.sha256(value.encode()).hexdigest()[:32]
    return g.login_device


def _address():
    # Once per request: each window of each limit asks for its key, and with Redis
    # unreachable every hash would wait for its own timeout (moderation.privacy).
    if "login_address" not in g:
        g.login_address = reporter_hash()
    return g.login_address


def _trusted():
    return device() is not None


def _client_key():
    known = device()
    if known:
        return "login-device:" + known
    return f"login-client:{hash_email(_email())}:{_address()}"


def _account_key():
    return "login-account:" + hash_email(_email())


def _address_key():
    return "login-address:" + _address()


def _failed(response):
    return response.status_code == 401


def throttled(view):
    """The login view's limits (see the module docstring); POSTs only."""
    for setting, key_func, exempt_when in (
        ("LOGIN_LIMIT_CLIENT", _client_key, None),
        ("LOGIN_LIMIT_ACCOUNT", _account_key, _trusted),
        ("LOGIN_LIMIT_ADDRESS", _address_key, _trusted),
    ):
        view = limiter.limit(
            lambda setting=setting: current_app.config[setting], key_func=key_func,
            methods=["POST"], deduct_when=_failed, exempt_when=exempt_when,
        )(view)
    return view


def retry_after(default=60):
    """Seconds until every breached window of this request has ended (all windows are
    evaluated: RATELIMIT_FAIL_ON_FIRST_BREACH is off)."""
    now = time.time()
    try:
        # `limits` rounds a window's end up to the next whole second, so a fresh one-minute
        # window could read as 61 s ("wait 2 minutes"); no wait is longer than its window.
        waits = [min(limit.reset_at - now, limit.limit.get_expiry())
                 for limit in limiter.current_limits if limit.breached]
    except Exception:  # noqa: BLE001 - storage gone between check and answer
        waits = []
    return max(1, math.ceil(max(waits))) if waits else default


def remember_device(response, email):
    """Mark this browser as one that signed in to `email` (not a credential: it only
    keeps this browser out of the limits others can fill)."""
    response.set_cookie(
        DEVICE_COOKIE, _serializer().dumps(hash_email(email)), max_age=_device_seconds(),
        path=bp.url_prefix, secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True,
        samesite="Lax",
    )
    return response
