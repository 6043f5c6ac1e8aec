"""The one way an audit entry is written, for every kind of target.

Who acted (a user, the system, the command line), what they did (a stable action code
with a label in dashboard/labels.py), on what (the target's type, id and site), and
before/after/reason. Only models and the session are imported here, so the worker's jobs
(persist, fixed check) can audit without pulling in the services' notification code.
"""
import contextlib
from contextvars import ContextVar
from typing import NamedTuple

from .. import metrics
from ..extensions import db
from ..models import AuditEntry, BlockedCommenter, Comment, Page, ReportCluster, Site, TypoReport, User, Webhook
from . import queue_version  # noqa: F401 - every decision path imports this module: the count cache's hook


class Target(NamedTuple):
    """A target that is not a row (a job, a person erased) or one named by type and id only."""

    type: str
    id: int
    site_id: int | None = None


# What each model is called in AuditEntry.target_type (the dashboard labels these in TARGETS).
TARGET_TYPES = {
    TypoReport: "report", ReportCluster: "cluster", Comment: "comment", Page: "page", Site: "site", User: "user",
}


def target_of(target):
    """(target_type, target_id, site_id) of a model instance or a Target."""
    if isinstance(target, Target):
        return target
    if isinstance(target, Site):
        return Target("site", target.id, target.id)
    if isinstance(target, User):
        return Target("user", target.id, None)  # an account spans sites
    if isinstance(target, (Webhook, BlockedCommenter)):
        # Audited on their site: the row itself may be deleted by the change being audited.
        return Target("site", target.site_id or 0, target.site_id)
    return Target(TARGET_TYPES[type(target)], target.id, target.site_id)


def actor_of(actor):
    """(actor_id, actor_label): a User, None for the system, or a label such as "cli"."""
    if actor is None:
        return None, "system"
    if isinstance(actor, str):
        return None, actor
    return actor.id, actor.email


# How the actor acted when it was not the dashboard or the API (e.g. "e-mail": a link in a
# notification mail); recorded as `via` in the entries' `after`.
_VIA = ContextVar("moderation_audit_via", default=None)


@contextlib.contextmanager
def via(channel):
    """Audit entries written inside this block record `after["via"] = channel`."""
    token = _VIA.set(channel)
    try:
        yield
    finally:
        _VIA.reset(token)


def audit(actor, action, target, *, before=None, after=None, reason=None):
    """Add one audit entry to the session (the caller commits with the change it records)."""
    actor_id, actor_label = actor_of(actor)
    channel = _VIA.get()
    if channel:
        after = dict(after or {}, via=channel)
    where = target_of(target)
    entry = AuditEntry(
        actor_id=actor_id, actor_label=actor_label, action=action,
        target_type=where.type, target_id=where.id, site_id=where.site_id,
        before=before, after=after, reason=reason,
    )
    db.session.add(entry)
    metrics.audited(entry, actor, target)
    return entry
