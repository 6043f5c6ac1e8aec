"""Per-site, per-reader rate limits on the reader API.

This module chooses the limit string (the site's own, else the service default)
and the key (site + salted address hash), which a decorator cannot know before the
body is parsed and the site resolved.

Counting happens in the broker's ingest script, in the same Redis round trip that
queues the submission (one round trip per POST instead of one per limit plus one):
`hit()` only works out the fixed windows and leaves them for `Broker.submit`, which
raises `Limited` when one is full. The windows use Flask-Limiter's storage keys
(``LIMITS:LIMITER/<scope>/<site>/<reader>/<amount>/<multiples>/<granularity>``) and
its fixed-window semantics (the window starts with its first hit), so
`limiter.reset()` clears them too. With another RATELIMIT_STRATEGY configured,
Flask-Limiter counts them itself, as before.
"""
import math
import time

from flask import current_app, g, has_request_context
from limits import parse_many
from limits.storage.redis import RedisStorage

from .extensions import limiter

_parsed = {}
_PENDING = "moderation_rate_windows"


class Limited(Exception):
    def __init__(self, retry_after):
        super().__init__("rate limited")
        self.retry_after = retry_after


def _items(limit_string):
    items = _parsed.get(limit_string)
    if items is None:
        items = _parsed[limit_string] = parse_many(limit_string)
    return items


def _limit_string(scope, site):
    if scope == "reports":
        return site.rate_limit_reports or current_app.config["RATELIMIT_REPORTS"]
    if scope == "comments":
        return site.rate_limit_comments or current_app.config["RATELIMIT_COMMENTS"]
    return current_app.config["RATELIMIT_FLAGS"]


def windows(scope, site, reader_hash):
    """[(redis key, amount, seconds)] for each fixed window this request counts against."""
    return [
        (f"{RedisStorage.PREFIX}:{item.key_for(scope, site.key, reader_hash)}", item.amount, item.get_expiry())
        for item in _items(_limit_string(scope, site))
    ]


def hit(scope, site, reader_hash):
    """Count one request against the site's limits for this reader.

    Normally the count is deferred to the ingest script (see the module docstring):
    the submission that follows is queued only if every window has room, else
    `Broker.submit` raises Limited. Otherwise Flask-Limiter counts here and this
    raises Limited with the seconds to wait; its storage errors let the request
    through (the enqueue right after answers 503 if Redis is really down, and a
    limiter must never cause a 500).
    """
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    if current_app.config.get("RATELIMIT_STRATEGY", "fixed-window") == "fixed-window":
        setattr(g, _PENDING, windows(scope, site, reader_hash))
        return
    strategy = limiter.limiter
    for item in _items(_limit_string(scope, site)):
        try:
            allowed = strategy.hit(item, scope, site.key, reader_hash)
            if not allowed:
                stats = strategy.get_window_stats(item, scope, site.key, reader_hash)
                raise Limited(max(1, math.ceil(stats.reset_time - time.time())))
        except Limited:
            raise
        except Exception:  # noqa: BLE001 - storage down: fail open, see docstring
            current_app.logger.warning("rate limit storage unavailable", exc_info=True)
            return


def take_pending():
    """The windows `hit()` left for this request's submission (each counted once)."""
    if not has_request_context():
        return []
    return g.pop(_PENDING, None) or []
