"""Fast lookup of a site's public settings on the request path.

Every reader request names its site; a short per-process TTL cache (cachetools)
keeps that off the database. Admin changes reach every process within
SITE_CACHE_SECONDS; `invalidate()` clears this process at once.
"""
import threading
import time
from dataclasses import dataclass

import sqlalchemy as sa
from cachetools import TTLCache
from flask import current_app

from . import site_features
from .extensions import db
from .identity import settings as identity_settings
from .identity.sso import sso_keys
from .models import Site
from .urls import origin_allowed

_MISSING = object()
# A token refused with the cached SSO secrets is checked again with fresh ones at most this often.
KEYS_REFRESH_SECONDS = 1.0


@dataclass(frozen=True)
class SiteInfo:
    id: int
    key: str
    name: str
    allowed_origins: tuple
    moderation_mode: str
    language: str
    rate_limit_reports: str | None
    rate_limit_comments: str | None
    flagged_visible: bool = False
    # Reader identity (Site.settings, docs/configuration.md): the widget reads these from the list.
    sso_required: bool = False
    sso_login_url: str | None = None
    edit_minutes: int = identity_settings.DEFAULTS["edit_minutes"]
    # Reactions, order, corrections (site_features.py).
    dislikes: bool = site_features.DEFAULTS["dislikes"]
    default_sort: str = site_features.DEFAULTS["default_sort"]
    correction_note_required: bool = site_features.DEFAULTS["correction_note_required"]

    def allows_origin(self, origin):
        return origin_allowed(origin, self.allowed_origins)

    @classmethod
    def of(cls, site):
        return cls(
            id=site.id,
            key=site.key,
            name=site.name,
            allowed_origins=tuple(site.allowed_origins or ()),
            moderation_mode=site.moderation_mode,
            language=site.language,
            rate_limit_reports=site.rate_limit_reports,
            rate_limit_comments=site.rate_limit_comments,
            flagged_visible=bool((site.settings or {}).get("flagged_visible")),
            **identity_settings.widget_settings(site.settings),
            **site_features.all_settings(site.settings),
        )

    def widget_settings(self):
        """What the widget needs to know about the site (in the comment list answer)."""
        return {key: getattr(self, key)
                for key in identity_settings.WIDGET_SETTINGS + site_features.WIDGET_SETTINGS}


class SiteRegistry:
    def __init__(self, ttl):
        self._cache = TTLCache(maxsize=10_000, ttl=max(ttl, 0.001))
        self._lock = threading.Lock()

    def get(self, key):
        """SiteInfo for a public key, or None. Unknown keys are cached too (cheap 403s)."""
        with self._lock:
            hit = self._cache.get(("site", key), _MISSING)
        if hit is not _MISSING:
            return hit
        site = db.session.execute(sa.select(Site).where(Site.key == key)).scalar_one_or_none()
        info = SiteInfo.of(site) if site else None
        with self._lock:
            self._cache[("site", key)] = info
        return info

    def sso_keys(self, site_id, refresh=False):
        """The site's SSO secrets (identity.sso.SsoKeys, None while SSO is not set up), cached
        like the site row: verifying a token costs no query. `refresh=True` (a token that did
        not verify) re-reads them if the cached copy is older than KEYS_REFRESH_SECONDS, so a
        secret created or rotated in another process is accepted within a second, while a
        flood of forged tokens costs at most one query per second per site and process."""
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(("sso", site_id), _MISSING)
        if hit is not _MISSING and not (refresh and now - hit[1] > KEYS_REFRESH_SECONDS):
            return hit[0]
        keys = sso_keys(site_id)
        with self._lock:
            self._cache[("sso", site_id)] = (keys, now)
        return keys

    def any_allows_origin(self, origin):
        """For CORS preflight, which carries no body and so no site key."""
        with self._lock:
            origins = self._cache.get("origins", _MISSING)
        if origins is _MISSING:
            rows = db.session.execute(sa.select(Site.allowed_origins)).scalars().all()
            origins = tuple(o for row in rows for o in (row or ()))
            with self._lock:
                self._cache["origins"] = origins
        return origin_allowed(origin, origins)

    def invalidate(self):
        with self._lock:
            self._cache.clear()


def init_app(app):
    app.extensions["site_registry"] = SiteRegistry(app.config["SITE_CACHE_SECONDS"])


def registry():
    return current_app.extensions["site_registry"]
