"""Translated labels for codes stored as data: audit actions, item statuses, audit fields, actors.

The audit trail keeps stable codes (`comment.approve`, `pending`); the dashboard shows
words in the reader's language. Each table is the one place a code gets its label: the
audit log, an item's history and the stats read them through `action_label` and
friends (template globals). A code without a label (an action added elsewhere and not
here yet) is shown as it is stored, never hidden; tests/test_translations.py fails
while an action written in moderation/ has no label here.
"""
from flask_babel import lazy_gettext as _l

from ..models.accounts import ROLES
from ..models.content import COMMENT_STATUSES, REPORT_STATUSES
from ..services import actions as registry

# Every audit action the code writes, in the order the audit log's filter offers them
# (tests/test_services_actions.py checks the registry's audit codes are all here).
ACTIONS = {
    "comment.approve": _l("Comment approved"),
    "comment.reject": _l("Comment rejected"),
    "comment.fix": _l("Comment edited and approved"),
    "comment.spam": _l("Comment marked as spam"),
    "comment.reopen": _l("Comment reopened"),
    "comment.feature": _l("Comment featured"),
    "comment.unfeature": _l("Comment no longer featured"),
    "comment.flagged": _l("Comment flagged by readers"),
    "comment.reader_edit": _l("Comment edited by its author"),
    "comment.reader_delete": _l("Comment deleted by its author"),
    "comment.rescreen": _l("Edited comment screened again"),
    "commenter.block": _l("Commenter blocked"),
    "commenter.unblock": _l("Commenter unblocked"),
    "reader.ban": _l("Reader banned"),
    "reader.unban": _l("Reader unbanned"),
    "reader.trust": _l("Reader trust changed"),
    "reader.premoderate": _l("Reader pre-moderation changed"),
    "report.fix": _l("Error report fixed"),
    "report.reject": _l("Error report rejected"),
    "report.reopen": _l("Error report reopened"),
    "report.fixed_detected": _l("Fix seen on the page"),
    "report.fixed_undetected": _l("Quote back on the page"),
    "correction.publish": _l("Correction published"),
    "correction.unpublish": _l("Correction unpublished"),
    "page.end_surge": _l("Surge mode ended"),
    "site.create": _l("Site created"),
    "site.update": _l("Site changed"),
    "site.rotate_key": _l("Site key replaced"),
    "site.screening": _l("Screening rules changed"),
    "site.retention": _l("Retention period changed"),
    "site.spam_model": _l("Spam model auto-spam switched"),
    "site.sso_secret": _l("Sign-in secret created or replaced"),
    "webhook.create": _l("Webhook added"),
    "webhook.update": _l("Webhook changed"),
    "webhook.delete": _l("Webhook deleted"),
    "user.create": _l("User created"),
    "user.update": _l("User changed"),
    "user.deactivate": _l("User deactivated"),
    "user.reset_password": _l("Password reset"),
    "job.retry": _l("Failed job retried"),
    "person.erase": _l("Personal data erased"),
}

# Spelled out once so `pybabel extract` sees them; keyed by the statuses the models define,
# so a new status without a label fails at import instead of showing a raw code.
_STATUS_WORDS = {
    "pending": _l("pending"), "approved": _l("approved"), "rejected": _l("rejected"), "spam": _l("spam"),
    "flagged": _l("flagged"), "new": _l("new"), "fixed": _l("fixed"),
}
STATUSES = {status: _STATUS_WORDS[status] for status in dict.fromkeys(COMMENT_STATUSES + REPORT_STATUSES)}

_ROLE_WORDS = {"admin": _l("admin"), "editor": _l("editor"), "moderator": _l("moderator")}
ROLE_LABELS = {role: _ROLE_WORDS[role] for role in ROLES}

# What an audit entry's before/after keys mean (others are shown as stored).
FIELDS = {
    "status": _l("status"), "body": _l("text"), "correction": _l("correction"), "reason": _l("reason"),
    "fixed_detected_at": _l("fix seen at"), "surge_until": _l("surge until"), "surge_reason": _l("surge reason"),
    "blocked": _l("blocked"), "name": _l("name"), "allowed_origins": _l("allowed origins"),
    "moderation_mode": _l("moderation"), "language": _l("language"), "key": _l("public key"),
    "rate_limit_reports": _l("error reports per minute"), "rate_limit_comments": _l("comments per minute"),
    "flag_threshold": _l("flags to review"), "retention_days": _l("retention (days)"),
    "email": _l("e-mail"), "role": _l("role"), "active": _l("active"), "sites": _l("sites"),
    "password_reset": _l("password reset"), "url": _l("address"), "events": _l("events"),
    "format": _l("format"), "job_id": _l("job"), "description": _l("description"),
    "banned_until": _l("banned until"), "trusted": _l("trusted"), "premoderate": _l("always pre-moderated"),
    "rotated": _l("replaced"),
}

# What an audit entry points at (target_type).
TARGETS = {
    "comment": _l("comment"), "cluster": _l("error report"), "report": _l("error report"), "site": _l("site"),
    "user": _l("user"), "page": _l("article"), "job": _l("job"), "person": _l("person"),
    "reader": _l("reader"),
}

# Who acted when no signed-in user did.
ACTORS = {"system": _l("system"), "cli": _l("command line")}


def action_label(code):
    return ACTIONS.get(code, code)


def status_label(code):
    return STATUSES.get(code, code)


def field_label(key):
    return FIELDS.get(key, key)


def target_label(kind):
    return TARGETS.get(kind, kind)


def actor_label(label):
    return ACTORS.get(label, label)


def value_label(key, value):
    """A stored before/after value in words where it is a code: a status, a role, yes/no."""
    # str(): a lazy string is iterable, and the audit template joins iterables (lists) with commas.
    if key == "status" and isinstance(value, str):
        return str(status_label(value))
    if key == "role" and isinstance(value, str):
        return str(ROLE_LABELS.get(value, value))
    if isinstance(value, bool):
        return str(_l("yes") if value else _l("no"))
    return value


def init_app(app):
    app.jinja_env.globals.update(
        action_label=action_label, status_label=status_label, field_label=field_label,
        target_label=target_label, actor_label=actor_label, value_label=value_label,
        # The queues' buttons, bulk buttons and keys (labels included) come from the action registry.
        queue_actions=registry.for_target,
    )
