"""The published comment list of an article, as readers and the demo page see it."""
import json
import time
import zlib

import redis
import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import Comment, Page
from ..models.readers import Reader
from ..models.sites import url_hash
from ..redis_keys import FEED_CACHE_PREFIX as CACHE_PREFIX
from ..schemas.limits import DEFAULT_SORT, REPLIES_SHOWN
from .. import site_features
from ..identity import settings as identity_settings
from ..site_registry import SiteInfo
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


def widget_settings(site):
    """The site's settings the widget acts on (sign-in, edit window): sent with every list,
    so the widget needs no second request and shared caches keep them with the list."""
    if isinstance(site, SiteInfo):
        return site.widget_settings()
    settings = site.settings if site is not None else None
    return identity_settings.widget_settings(settings) | site_features.widget_settings(settings)


def _settings_tag(site):
    """Part of the ETag: a changed sign-in link or edit window is a changed list."""
    settings = widget_settings(site)
    if settings == widget_settings(None):
        return ""
    return "-s" + format(zlib.crc32(json.dumps(settings, sort_keys=True).encode("utf-8")), "08x")


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


def sort_of(site, sort=None):
    """The order asked for, else the site's default (site_features.default_sort)."""
    if sort:
        return sort
    if site is None:
        return DEFAULT_SORT
    if isinstance(site, SiteInfo):
        return site.default_sort
    return site_features.default_sort(site.settings)


def etag(page, after, limit, site=None, thread=None, sort=None):
    """Changes whenever a comment on the page is published, edited, withdrawn, featured or
    voted on (all bump the page's comments_version), when the site starts or stops showing
    flagged comments, and with the order (`sort`, default the site's)."""
    shown = "f" if "flagged" in visible_statuses(site) else ""
    of = f"-t{thread}" if thread else ""
    order = sort_of(site, sort)
    if order != DEFAULT_SORT and not thread:  # a thread's replies are always oldest first
        of += f"-o{order}"
    of += _settings_tag(site)
    if page is None:
        return f"c0-0-{after or 0}-{limit}{shown}{of}"
    return f"c{page.id}-{page.comments_version}-{after or 0}-{limit}{shown}{of}"


# Replies shown under each top-level comment of a list page (REPLIES_SHOWN, part of the API
# contract); the rest is paged per thread (`?thread=<id>&after=<replies_next>`): one thread's
# replies cannot grow a page.
# No list body is larger than this (bytes of JSON): a page ends early (its `next`, or
# a thread's `replies_next`, says where to go on) rather than grow past it. A page
# always holds at least one comment, so the bound holds for comments within the
# 5,000-character body limit (one is at most a few tens of KB).
MAX_BYTES = 256 * 1024
# Room for the envelope {"comments":[...],"total":n,"next":id} and the separators.
_ENVELOPE = 128


class UnknownThread(LookupError):
    """`thread` is not a published top-level comment of this article."""


def _size(data):
    return len(_dumps(data).encode("utf-8"))


def _fit(items, budget):
    """(how many of `items` fit in `budget` bytes, their bytes): at least one item."""
    used, count = 0, 0
    for item in items:
        size = _size(item) + 1  # the comma
        if count and used + size > budget:
            break
        used, count = used + size, count + 1
    return count, used


def _order(sort):
    """The ORDER BY of top-level comments: featured first, then the sort ("best": likes minus
    dislikes, most first, then oldest)."""
    if sort == "newest":
        return (Comment.featured.desc(), Comment.id.desc())
    if sort == "best":
        return (Comment.featured.desc(), (Comment.likes - Comment.dislikes).desc(), Comment.id)
    return (Comment.featured.desc(), Comment.id)


def _after(cursor, sort):
    """The WHERE of the rows after the `cursor` comment in `sort` (keyset: the cursor is the id
    of the last thread shown; its featured flag and score are read back, so a cursor stays an id)."""
    row = db.session.execute(
        sa.select(Comment.featured, Comment.likes, Comment.dislikes).where(Comment.id == cursor)).first()
    if row is None:  # gone meanwhile: by id alone
        return Comment.id < cursor if sort == "newest" else Comment.id > cursor
    featured = bool(row.featured)
    if sort == "newest":
        same = Comment.id < cursor
    elif sort == "best":
        score, mine = (row.likes or 0) - (row.dislikes or 0), Comment.likes - Comment.dislikes
        same = sa.or_(mine < score, sa.and_(mine == score, Comment.id > cursor))
    else:
        same = Comment.id > cursor
    if featured:  # the rest of the featured ones, then every other
        return sa.or_(sa.and_(Comment.featured.is_(True), same), Comment.featured.is_not(True))
    return sa.and_(Comment.featured.is_not(True), same)


def build(page, after=None, limit=50, site=None, thread=None, sort=None):
    """`{"comments": [thread...], "total": n, "next": cursor}`, in the order `sort` (oldest,
    newest, best; default the site's), featured threads first.

    A page holds up to `limit` top-level comments, each with its first published
    replies (`replies`, oldest first, each naming its `parent`; at most REPLIES_SHOWN),
    `replies_total` and `replies_next` (the cursor for the rest, None when all are
    shown). With `thread` (a top-level comment's id) the page holds that thread's
    replies after `after` instead. A page ends before MAX_BYTES. Raises UnknownThread.
    """
    if page is None:
        if thread:
            raise UnknownThread(thread)
        return {"comments": [], "total": 0, "next": None, "site": widget_settings(site)}
    visible = visible_statuses(site if site is not None else page.site)
    base = sa.select(Comment).where(Comment.page_id == page.id, Comment.status.in_(visible))
    if thread:
        return _replies_page(page, base, visible, thread, after, limit)
    order = sort_of(site if site is not None else page.site, sort)
    roots_q = base.where(Comment.thread_id.is_(None)).order_by(*_order(order)).limit(limit + 1)
    if after:
        roots_q = roots_q.where(_after(after, order))
    roots = db.session.execute(roots_q).scalars().all()
    more = len(roots) > limit
    roots = roots[:limit]
    shown = _first_replies(page, visible, [root.id for root in roots])
    verified = _sso_readers(roots + [reply for replies, _ in shown.values() for reply in replies])
    shown = {root: ([public(reply, verified) for reply in replies], count)
             for root, (replies, count) in shown.items()}
    budget = MAX_BYTES - _ENVELOPE
    threads = []
    for root in roots:
        replies, total = shown.get(root.id, ([], 0))
        entry = dict(public(root, verified), replies=[], replies_total=total, replies_next=None)
        room = budget - _size(entry) - 1
        if threads and room < 0:
            more = True  # this thread starts the next page
            break
        count, used = _fit(replies, room) if replies else (0, 0)
        if threads and (count < len(replies) or used > room):
            more = True  # a thread moves whole to the next page; only the first one is cut
            break
        entry["replies"] = replies[:count]
        if count < total:
            entry["replies_next"] = replies[count - 1]["id"] if count else None
        budget -= _size(entry) + 1
        threads.append(entry)
    total = db.session.execute(
        sa.select(sa.func.count()).select_from(Comment).where(
            Comment.page_id == page.id, Comment.status.in_(visible)
        )
    ).scalar_one()
    return {
        "comments": threads,
        "total": total,
        "next": threads[-1]["id"] if more and threads else None,
        "site": widget_settings(site if site is not None else page.site),
    }


def _sso_readers(comments):
    """The reader ids among `comments` that signed in through the site: one query per page."""
    ids = {comment.reader_id for comment in comments if comment.reader_id is not None}
    if not ids:
        return frozenset()
    return frozenset(db.session.execute(
        sa.select(Reader.id).where(Reader.id.in_(ids), Reader.kind == "sso")).scalars())


def public(comment, verified):
    """A comment as readers see it; `verified`: _sso_readers of its page."""
    return comment.public_dict(verified=comment.reader_id in verified)


def _first_replies(page, visible, root_ids):
    """{root id: ([first REPLIES_SHOWN replies], replies in the thread)}: one query,
    ranked on the (page, status, thread, id) index, so a long thread is not read whole."""
    if not root_ids:
        return {}
    ranked = sa.select(
        Comment.id,
        sa.func.row_number().over(partition_by=Comment.thread_id, order_by=Comment.id).label("rank"),
        sa.func.count().over(partition_by=Comment.thread_id).label("replies"),
    ).where(Comment.page_id == page.id, Comment.status.in_(visible), Comment.thread_id.in_(root_ids)).subquery()
    rows = db.session.execute(
        sa.select(Comment, ranked.c.replies).join(ranked, Comment.id == ranked.c.id)
        .where(ranked.c.rank <= REPLIES_SHOWN).order_by(Comment.id)
    ).all()
    found = {}
    for reply, count in rows:
        found.setdefault(reply.thread_id, ([], count))[0].append(reply)
    return found


def _replies_page(page, base, visible, thread, after, limit):
    root = db.session.execute(
        base.with_only_columns(Comment.id).where(Comment.id == thread, Comment.thread_id.is_(None))
    ).first()
    if root is None:
        raise UnknownThread(thread)
    query = base.where(Comment.thread_id == thread).order_by(Comment.id).limit(limit + 1)
    if after:
        query = query.where(Comment.id > after)
    rows = db.session.execute(query).scalars().all()
    verified = _sso_readers(rows)
    replies = [public(reply, verified) for reply in rows]
    count, _ = _fit(replies[:limit], MAX_BYTES - _ENVELOPE)
    total = db.session.execute(
        sa.select(sa.func.count()).select_from(Comment).where(
            Comment.page_id == page.id, Comment.status.in_(visible), Comment.thread_id == thread)
    ).scalar_one()
    return {
        "comments": replies[:count],
        "total": total,
        "next": replies[count - 1]["id"] if count < len(replies) else None,
    }


# Rendered lists in Redis, keyed by everything the ETag says plus the article's
# identity: a viral article's list is built once per change, not once per reader.
# No invalidation is needed: publishing, editing or withdrawing a comment bumps
# the page's comments_version, which is in the key; old versions expire.
#
# Only canonical variants are kept, so junk queries (any `after`, `limit`, `thread`)
# cannot fill Redis: the first page at the default page size, and the pages its
# cursors lead to. Caching a page marks the cursors it hands out (`next`, each
# thread's `replies_next`) with a small `:ok` key; a page whose cursor carries no
# mark is served from the database and not kept. So each version of an article
# holds at most one cached copy of each of its comments (every comment is on one
# page of the chain), each key at most MAX_BYTES, for CACHE_TTL seconds.
CACHE_TTL = 600
# After a Redis error the cache is skipped this long: a hung Redis must not add
# its socket timeout to every reader's list (the list itself needs only the DB).
CACHE_PAUSE = 30.0
_PAUSED = "comments_feed.cache_paused_until"  # per app, in app.extensions
_MARK = ":ok"


def _cache_key(page, tag):
    born = int(page.created_at.timestamp() * 1_000_000) if page.created_at else 0
    # url_hash and created_at: an id SQLite reuses after a delete is another article.
    return f"{CACHE_PREFIX}{page.site_id}:{page.url_hash}:{born}:{tag}"


def _marks(page, data, limit, site, thread, sort=None):
    """The cache keys of the pages `data` links to, each with the mark suffix."""
    keys = []
    if data["next"]:
        keys.append(_cache_key(page, etag(page, data["next"], limit, site, thread, sort)) + _MARK)
    if not thread:
        keys += [_cache_key(page, etag(page, entry["replies_next"], limit, site, entry["id"])) + _MARK
                 for entry in data["comments"] if entry.get("replies_next")]
    return keys


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


def build_json(page, after, limit, site, tag, thread=None, sort=None):
    """The list as a JSON string: from the cache when this version was built already
    (`tag`, the etag, names the order too). Raises UnknownThread."""
    if page is None or limit != current_app.config["COMMENTS_PAGE_SIZE"]:
        return _dumps(build(page, after, limit, site, thread, sort))  # not canonical: never cached
    client = _redis()
    key = _cache_key(page, tag)
    first = not after and not thread
    canonical = first
    if client is not None:
        try:
            if first:
                cached = client.get(key)
            else:
                with client.pipeline(transaction=False) as pipe:
                    cached, canonical = pipe.get(key).exists(key + _MARK).execute()
        except (redis.RedisError, OSError) as exc:
            _pause(exc)
            client, cached = None, None
        if cached is not None:
            return cached.decode("utf-8")
    data = build(page, after, limit, site, thread, sort)
    text = _dumps(data)
    if client is not None and canonical:
        try:
            with client.pipeline(transaction=False) as pipe:
                pipe.set(key, text.encode("utf-8"), ex=CACHE_TTL)
                for mark in _marks(page, data, limit, site, thread, sort):
                    pipe.set(mark, b"1", ex=CACHE_TTL)
                pipe.execute()
        except (redis.RedisError, OSError) as exc:
            _pause(exc)
    return text
