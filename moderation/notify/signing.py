"""Webhook signatures: HMAC-SHA256 over "<timestamp>.<body>" with the webhook's secret.

The timestamp is signed too, so a receiver that refuses old timestamps (the
replay window) cannot be fed a captured request later. docs/notifications.md
has the receiver's recipe; `verify` is the same recipe in Python.
"""
import hashlib
import hmac
import time

REPLAY_WINDOW = 300  # seconds; what we recommend receivers accept


def sign(secret, timestamp, body):
    """The X-Signature header value for `body` (bytes) sent at `timestamp` (int seconds)."""
    message = str(int(timestamp)).encode("ascii") + b"." + body
    return "sha256=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def headers(secret, body, now=None):
    timestamp = int(now if now is not None else time.time())
    return {"X-Timestamp": str(timestamp), "X-Signature": sign(secret, timestamp, body)}


def verify(secret, signature, timestamp, body, window=REPLAY_WINDOW, now=None):
    """True if `signature` matches and `timestamp` is within `window` seconds of now."""
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        return False
    now = time.time() if now is None else now
    if abs(now - sent) > window:
        return False
    return hmac.compare_digest(sign(secret, sent, body), signature or "")
