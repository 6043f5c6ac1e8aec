"""One number that changes whenever a queue's content may have: the count cache's version.

The dashboard caches its per-status counts a few seconds (every open dashboard polls them).
Any commit that adds, removes or re-statuses a comment or an error-report cluster bumps this
version, so the next count is taken afresh instead of the cached one from before the action:
every path (dashboard, moderation API, worker jobs, erasure) is covered by the one session hook.
"""
import sqlalchemy as sa
from flask import current_app, has_app_context

from ..extensions import db
from ..models import Comment, ReportCluster
from ..redis_keys import QUEUE_VERSION

VERSION_KEY = QUEUE_VERSION
_QUEUED = (Comment, ReportCluster)
_TABLES = {model.__table__.name for model in _QUEUED}
_FLAG = "queue_changed"


def _status_changed(obj):
    return sa.inspect(obj).attrs.status.history.has_changes()


@sa.event.listens_for(db.session, "after_flush")
def _note_changes(session, flush_context):
    if session.info.get(_FLAG):
        return
    if any(isinstance(o, _QUEUED) for o in (*session.new, *session.deleted)) or any(
            isinstance(o, _QUEUED) and _status_changed(o) for o in session.dirty):
        session.info[_FLAG] = True


@sa.event.listens_for(db.session, "do_orm_execute")
def _note_statements(state):
    """Statements that skip the unit of work (the worker's one executemany INSERT of a batch)."""
    if state.is_insert or state.is_update or state.is_delete:
        if getattr(getattr(state.statement, "table", None), "name", None) in _TABLES:
            state.session.info[_FLAG] = True


@sa.event.listens_for(db.session, "after_commit")
def _bump_after_commit(session):
    if session.info.pop(_FLAG, False):
        bump()


@sa.event.listens_for(db.session, "after_rollback")
def _forget(session):
    session.info.pop(_FLAG, None)


def bump():
    if not has_app_context():
        return
    try:
        current_app.broker.redis.incr(VERSION_KEY)
    except Exception:  # noqa: BLE001 - counts then expire within seconds as before
        pass


def current(redis):
    """The version the cached counts are keyed by (0 before the first change)."""
    value = redis.get(VERSION_KEY)
    return int(value) if value else 0
