"""Shared dashboard plumbing: permissions, counts, claims, template helpers."""
import functools
import json

import sqlalchemy as sa
from flask import abort, current_app, request
from flask_babel import Babel
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..extensions import db
from ..models import Comment, ReportCluster, Site
from ..redis_keys import QUEUE_COUNTS_PREFIX, dashboard_claim_key
from ..schemas import limits
from ..services import queue_version
from ..services.common import COMMENT_QUEUES, REPORT_QUEUES

LANGUAGES = ("en", "ru", "kk")

# Words stored as data (roles, statuses, kinds, reason presets) that templates pass
# through _(): listed here so `pybabel extract` puts them in the catalog.
DATA_WORDS = (
    _l("admin"), _l("editor"), _l("moderator"),
    _l("pending"), _l("approved"), _l("rejected"), _l("spam"), _l("flagged"), _l("new"), _l("fixed"),
    _l("typo"), _l("fact"), _l("other"),
    _l("Off-topic"), _l("Insults or hate speech"), _l("Advertising or spam"), _l("Personal data"),
    _l("Duplicate"), _l("Not an error"), _l("House style"), _l("Already fixed"), _l("Quote: kept as said"),
    _l("abuse"), _l("offtopic"), _l("address"), _l("email"),
)
CLAIM_SECONDS = 300
# The queues with a navigation badge, by the scope that may see them (see queue_counts).
COUNT_SCOPES = ("comments", "reports")
babel = Babel()


def select_locale():
    if current_user.is_authenticated and current_user.locale in LANGUAGES:
        return current_user.locale
    return request.accept_languages.best_match(LANGUAGES) or "en"


def requires(scope):
    """403 unless the signed-in user's role covers `scope` (reports, comments, admin)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.can(scope):
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def visible_sites():
    """Sites the current user works on."""
    query = sa.select(Site).order_by(Site.name)
    allowed = current_user.site_ids()
    if allowed is not None:
        query = query.where(Site.id.in_(allowed))
    return db.session.execute(query).scalars().all()


# Decided items only grow: their tabs count up to this many and then say "999+" (templates and
# the dashboard script read COUNT_CAP), so a count costs the same with ten million approved.
COUNT_CAP = 999
# The statuses still to be worked, counted exactly (the undecided and those that need a look).
WORKING = {"comments": ("pending", "flagged", "spam"), "reports": ("new",)}


def _counts(model, prefix, statuses):
    """{prefix_status: n} for every status: the working ones exactly, the others up to
    COUNT_CAP + 1. One COUNT per status over the (status, id) index (measured on SQLite: a
    GROUP BY over the working statuses took 1.6 times as long)."""
    allowed = current_user.site_ids()
    counts = {}
    for status in statuses:
        exact = status in WORKING[prefix]
        query = sa.select(sa.func.count() if exact else model.id).where(model.status == status)
        if exact:
            query = query.select_from(model)
        if allowed is not None:
            query = query.where(model.site_id.in_(allowed))
        if not exact:
            query = sa.select(sa.func.count()).select_from(query.limit(COUNT_CAP + 1).subquery())
        counts[f"{prefix}_{status}"] = db.session.execute(query).scalar_one()
    return counts


def queue_counts():
    """Items per queue and status (navigation badges, queue tabs), cached a few seconds in Redis.

    COUNT over an index is fast, but every open dashboard polls it: the cache
    keeps a busy newsroom from counting 100k rows several times a second. The key carries
    the queue version (services/queue_version.py), which every decision bumps after its
    commit: the counts right after an action are always fresh.
    """
    allowed = current_user.site_ids()
    scopes = [scope for scope in COUNT_SCOPES if current_user.can(scope)]
    redis = current_app.broker.redis
    try:
        version = queue_version.current(redis)
    except Exception:  # noqa: BLE001 - no cache without Redis, never an error page
        version = None
    # The answer depends on which queues the user may see (role) and on which sites:
    # both are in the key, so a moderator never gets an editor's cached reports_new.
    key = QUEUE_COUNTS_PREFIX + "{}:{}:{}".format(
        version, "+".join(scopes) or "none", "all" if allowed is None else ",".join(map(str, sorted(allowed))))
    cached = None
    if version is not None:
        try:
            cached = redis.get(key)
        except Exception:  # noqa: BLE001 - a cache miss, never an error page
            cached = None
    if cached:
        return json.loads(cached)
    counts = {}
    if current_user.can("comments"):
        counts.update(_counts(Comment, "comments", COMMENT_QUEUES))
    if current_user.can("reports"):
        counts.update(_counts(ReportCluster, "reports", REPORT_QUEUES))
    if version is not None:
        try:
            redis.set(key, json.dumps(counts), ex=3)
        except Exception:  # noqa: BLE001
            pass
    return counts


def claim(kind, item_id):
    """Mark an item as being handled by the current user for a few minutes.

    Returns the e-mail of whoever else holds it, or None if it is ours now.
    """
    key = dashboard_claim_key(kind, item_id)
    redis = current_app.broker.redis
    me = current_user.email
    try:
        if redis.set(key, me, nx=True, ex=CLAIM_SECONDS):
            return None
        holder = redis.get(key)
        holder = holder.decode() if holder else None
        if holder == me:
            redis.expire(key, CLAIM_SECONDS)
            return None
        return holder
    except Exception:  # noqa: BLE001 - claims are advisory
        return None


def claims_for(kind, ids):
    """{item_id: holder e-mail} for the items someone else is handling."""
    if not ids:
        return {}
    redis = current_app.broker.redis
    try:
        values = redis.mget([dashboard_claim_key(kind, i) for i in ids])
    except Exception:  # noqa: BLE001
        return {}
    me = current_user.email
    return {i: v.decode() for i, v in zip(ids, values) if v and v.decode() != me}


# Extra navigation entries registered by dashboard modules: (endpoint, label, scope).
NAV = []


def register_nav(endpoint, label, scope):
    NAV.append((endpoint, label, scope))


def init_app(app):
    from .diffs import diff_html  # noqa: PLC0415

    babel.init_app(app, locale_selector=select_locale)
    from flask_babel import get_locale  # noqa: PLC0415

    app.jinja_env.globals["diff_html"] = diff_html
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["COUNT_CAP"] = COUNT_CAP
    app.jinja_env.globals["nav_extra"] = lambda: list(NAV)
    # The API contract's limits and enums (moderation/schemas/limits.py) for the forms' maxlength.
    app.jinja_env.globals["limits"] = limits
    from ..judgment.staff_names import IMITATES_STAFF  # noqa: PLC0415

    app.jinja_env.globals["IMITATES_STAFF"] = IMITATES_STAFF  # the marker on a comment item

    @app.context_processor
    def dashboard_globals():
        if not request.blueprint or not request.blueprint.startswith("dashboard"):
            return {}
        return {"LANGUAGES": LANGUAGES, "current_user": current_user}
