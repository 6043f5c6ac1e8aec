"""Per-site, per-reader rate limits on the reader API.

Flask-Limiter owns the storage (Redis, configured in the factory) and the
strategy; this module only chooses the limit string (the site's own, else the
service default) and the key (site + salted address hash), which a decorator
cannot know before the body is parsed and the site resolved.
"""
import math
import time

from flask import current_app
from limits import parse_many

from .extensions import limiter

_parsed = {}


class Limited(Exception):
    def __init__(self, retry_after):
        super().__init__("rate limited")
        self.retry_after = retry_after


def _items(limit_string):
    items = _parsed.get(limit_string)
    if items is None:
        items = _parsed[limit_string] = parse_many(limit_string)
    return items


def hit(scope, site, reader_hash):
    """Count one request; raise Limited with seconds to wait when over any limit.

    Storage errors let the request through: the enqueue right after will
    answer 503 if Redis is really down, and a limiter must never cause a 500.
    """
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    if scope == "reports":
        limit_string = site.rate_limit_reports or current_app.config["RATELIMIT_REPORTS"]
    elif scope == "comments":
        limit_string = site.rate_limit_comments or current_app.config["RATELIMIT_COMMENTS"]
    else:
        limit_string = current_app.config["RATELIMIT_FLAGS"]
    strategy = limiter.limiter
    for item in _items(limit_string):
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
