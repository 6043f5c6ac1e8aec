"""Helpers every service shares: its errors, permission and site checks, reason cleaning, paging.

services/moderation.py and services/reports.py both build on these; neither reaches into
the other's private helpers.
"""
from ..extensions import db
from ..models import Site
from ..sanitizer import strip_controls
from ..schemas.limits import COMMENT_QUEUES, MAX_ID, MAX_PAGE, REASON_MAX, REPORT_QUEUES  # noqa: F401 - services import them from here
from .audit import TARGET_TYPES


class ServiceError(Exception):
    status = 400

    def __init__(self, message, fields=None):
        super().__init__(message)
        self.message = message
        self.fields = fields


class NotFound(ServiceError):
    status = 404


class PermissionDenied(ServiceError):
    status = 403


class Invalid(ServiceError):
    status = 400


def require(actor, scope):
    if actor is None or not actor.is_active or not actor.can(scope):
        raise PermissionDenied(f"your role may not work on {scope}")


def load(model, item_id, actor, scope):
    require(actor, scope)
    item = db.session.get(model, item_id)
    if item is None or not actor.can_site(item.site_id):
        # Same answer for "missing" and "not yours": ids are not a discovery oracle.
        raise NotFound(f"no such {TARGET_TYPES[model]}")
    return item


def clean_reason(reason):
    if reason is None:
        return None
    if not isinstance(reason, str):
        raise Invalid("invalid fields", {"reason": "reason must be a string"})
    # Same rules as readers' text: NFC, no control characters (PostgreSQL refuses NUL: a 500).
    reason = strip_controls(reason).strip()
    if len(reason) > REASON_MAX:
        raise Invalid("invalid fields", {"reason": f"reason must be at most {REASON_MAX} characters"})
    return reason or None


def site_filter(query, model, actor, site_key):
    allowed = actor.site_ids()
    if allowed is not None:
        query = query.where(model.site_id.in_(allowed))
    if site_key:
        query = query.join(Site, Site.id == model.site_id).where(Site.key == site_key)
    return query


def paginate(query, model, after, limit):
    limit = max(1, min(int(limit or 50), MAX_PAGE))
    if after is not None and not 0 <= after <= MAX_ID:
        raise Invalid("invalid fields", {"after": "after must be an item id"})
    if after:
        query = query.where(model.id > after)
    rows = db.session.execute(query.order_by(model.id).limit(limit + 1)).scalars().all()
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)
