"""The published comment list of an article, as readers and the demo page see it."""
import time

import redis
import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import Comment, Page
from ..models.sites import url_hash
from ..urls import normalize_url

VISIBLE = ("approved",)
# Sites that keep flagged comments on the article until a moderator decides.
VISIBLE_WITH_FLAGGED = ("approved", "flagged")


def visible_statuses(site):
    """Statuses readers see on `site` (a Site or SiteInfo; None: the strict default)."""
    if site is None:
        return VISIBLE
    flagged = getattr(site, "flagged_visible", None)
    if flagged is None:  # a Site row: the setting lives in its settings
        flagged = bool((site.settings or {}).get("flagged_visible"))
    return VISIBLE_WITH_FLAGGED if flagged else VISIBLE


def find_page(site_id, url):
    normalized = normalize_url(url) or url
    return db.session.execute(
        sa.select(Page).where(Page.site_id == site_id, Page.url_hash == url_hash(normalized))
    ).scalar_one_or_none()


def is_published(site_id, comment_id, site=None):
    return db.session.execute(
        sa.select(Comment.id).where(
            Comment.id == comment_id, Comment.site_id == site_id, Comment.status.in_(visible_statuses(site))
        )
    ).first() is not None


def etag(page, after, limit, site=None):
    """Changes whenever a comment on the page is published, edited or withdrawn,
    and when the site starts or stops showing flagged comments."""
    shown = "f" if "flagged" in visible_statuses(site) else ""
    if page is None:
        return f"c0-0-{after or 0}-{limit}{shown}"
    return f"c{page.id}-{page.comments_version}-{after or 0}-{limit}{shown}"


def build(page, after=None, limit=50, site=None):
    """`{"comments": [thread...], "total": n, "next": cursor}`, oldest thread first.

    A page holds `limit` top-level comments, each with all its published replies
    (`replies`, oldest first, each naming its `parent`).
    """
    if page is None:
        return {"comments": [], "total": 0, "next": None}
    visible = visible_statuses(site if site is not None else page.site)
    base = sa.select(Comment).where(Comment.page_id == page.id, Comment.status.in_(visible))
    roots_q = base.where(Comment.thread_id.is_(None)).order_by(Comment.id).limit(limit + 1)
    if after:
        roots_q = roots_q.where(Comment.id > after)
    roots = db.session.execute(roots_q).scalars().all()
    more = len(roots) > limit
    roots = roots[:limit]
    threads = {root.id: dict(root.public_dict(), replies=[]) for root in roots}
    if threads:
        replies = db.session.execute(
            base.where(Comment.thread_id.in_(list(threads))).order_by(Comment.id)
        ).scalars()
        for reply in replies:
            threads[reply.thread_id]["replies"].append(reply.public_dict())
    total = db.session.execute(
        sa.select(sa.func.count()).select_from(Comment).where(
            Comment.page_id == page.id, Comment.status.in_(visible)
        )
    ).scalar_one()
    return {
        "comments": list(threads.values()),
        "total": total,
        "next": roots[-1].id if more else None,
    }


# Rendered lists in Redis, keyed by everything the ETag says plus the article's
# identity: a viral article's list is built once per change, not once per reader.
# No invalidation is needed: publishing, editing or withdrawing a comment bumps
# the page's comments_version, which is in the key; old versions expire.
CACHE_PREFIX = "moderation:feed:"
CACHE_TTL = 600
# After a Redis error the cache is skipped this long: a hung Redis must not add
# its socket timeout to every reader's list (the list itself needs only the DB).
CACHE_PAUSE = 30.0
_PAUSED = "comments_feed.cache_paused_until"  # per app, in app.extensions


def _cache_key(page, tag):
    born = int(page.created_at.timestamp() * 1_000_000) if page.created_at else 0
    # url_hash and created_at: an id SQLite reuses after a delete is another article.
    return f"{CACHE_PREFIX}{page.site_id}:{page.url_hash}:{born}:{tag}"


def _redis():
    if time.monotonic() < current_app.extensions.get(_PAUSED, 0.0):
        return None
    return current_app.broker.redis


def _pause(exc):
    current_app.extensions[_PAUSED] = time.monotonic() + CACHE_PAUSE
    current_app.logger.warning("comment list cache skipped for %.0f s: %s", CACHE_PAUSE, exc)


def _dumps(data):
    # What jsonify sends outside debug mode: compact separators.
    return current_app.json.dumps(data, separators=(",", ":"))


def build_json(page, after, limit, site, tag):
    """The list as a JSON string: from the cache when this version was built already."""
    if page is None:
        return _dumps(build(page, after, limit, site))
    client = _redis()
    key = _cache_key(page, tag)
    if client is not None:
        try:
            cached = client.get(key)
        except (redis.RedisError, OSError) as exc:
            _pause(exc)
            client, cached = None, None
        if cached is not None:
            return cached.decode("utf-8")
    text = _dumps(build(page, after, limit, site))
    if client is not None:
        try:
            client.set(key, text.encode("utf-8"), ex=CACHE_TTL)
        except (redis.RedisError, OSError) as exc:
            _pause(exc)
    return text
