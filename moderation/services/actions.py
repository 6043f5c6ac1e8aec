"""The moderation actions, each written once: what it acts on, what it leads to, what it takes,
who may do it, how it is audited and labelled.

Read by the services (resulting status and audit code), the moderation API (one route per
action), the dashboard (single-item forms, bulk buttons, keyboard keys) and the OpenAPI
generator. Adding an action here and its service function (`<name>_<target>` in `module`)
is all it takes; tests/test_services_actions.py fails when a route, a form, a key or a label
exists for an action not listed here, or the other way round.
"""
import importlib
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Target:
    """What an action works on."""

    name: str  # "comment", "cluster" (a same-spot group of reports), "report" (one reader's report)
    collection: str  # the API path segment: /comments/<id>/approve
    scope: str  # the role permission (User.can) needed
    module: str  # services module holding the `<action>_<target>` functions
    dashboard: str | None  # the dashboard queue endpoint (its item forms post here), None: API only
    undecided: str  # the status of an item nobody has decided yet


TARGETS = {
    t.name: t for t in (
        Target("comment", "comments", "comments", "moderation", "comments", "pending"),
        Target("cluster", "clusters", "reports", "reports", "reports", "new"),
        # One reader's report: the API decides it through its cluster; the dashboard shows clusters only.
        Target("report", "reports", "reports", "reports", None, "new"),
    )
}


@dataclass(frozen=True)
class Action:
    target: str  # a TARGETS key
    name: str  # the verb in URLs and forms
    status: str  # the item's status afterwards
    audit: str  # AuditEntry.action (labelled in dashboard/labels.py)
    label: str  # the dashboard button (a lazy msgid)
    reason: bool = True  # a free-text `reason` may be sent (never required today)
    reason_required: bool = False
    fields: tuple = ()  # other body fields, in the service function's argument order
    required: tuple = ()  # those of `fields` that must be sent
    bulk_label: str | None = None  # offered as a bulk action on the queue page (None: not)
    key: str | None = None  # keyboard key on the dashboard (static/js/dashboard.js binds it)
    decision: bool = True  # False: a mark on the item (featured), not a decision on it


    @property
    def bulk_key(self):
        """The key for the bulk action on the selection: Shift + the item's key (e.key is "A")."""
        return self.key.upper() if self.bulk and self.key else None

    @property
    def scope(self):
        return TARGETS[self.target].scope

    @property
    def path(self):
        """The moderation API path, OpenAPI style."""
        return f"/{TARGETS[self.target].collection}/{{{self.target}_id}}/{self.name}"

    @property
    def endpoint(self):
        """The moderation API view's name (moderation_api.<endpoint>)."""
        return f"{self.name}_{self.target}"

    @property
    def dashboard(self):
        return TARGETS[self.target].dashboard is not None

    @property
    def decides(self):
        """A decision on the item (the stats count these); reopening undoes one."""
        return self.decision and self.status != TARGETS[self.target].undecided

    @property
    def bulk(self):
        return self.bulk_label is not None

    def service(self):
        module = importlib.import_module(f"{__package__}.{TARGETS[self.target].module}")
        return getattr(module, self.endpoint)

    def perform(self, item_id, actor, values=None, reason=None):
        """Run the action through its service function; `values` holds `fields` (missing: None)."""
        values = values or {}
        args = [values.get(field) for field in self.fields]
        if self.reason:
            return self.service()(item_id, actor, *args, reason=reason)
        return self.service()(item_id, actor, *args)


ACTIONS = (
    Action("comment", "approve", "approved", "comment.approve", _l("Approve"), reason=False,
           bulk_label=_l("Approve selected"), key="a"),
    Action("comment", "reject", "rejected", "comment.reject", _l("Reject"),
           bulk_label=_l("Reject selected"), key="r"),
    Action("comment", "spam", "spam", "comment.spam", _l("Spam"), bulk_label=_l("Spam selected"), key="s"),
    Action("comment", "fix", "approved", "comment.fix", _l("Fix"), fields=("body",), required=("body",), key="f"),
    # Published comments only; the status stays. Unfeature has no key: "p" toggles on the item.
    Action("comment", "feature", "approved", "comment.feature", _l("Feature"), key="p", decision=False),
    Action("comment", "unfeature", "approved", "comment.unfeature", _l("Unfeature"), decision=False),
    # Not a bulk action: the comment queues never offered it (the server took it all the same).
    Action("comment", "reopen", "pending", "comment.reopen", _l("Reopen")),
    # publish, note: also a published correction (services/corrections.py), only when asked.
    Action("cluster", "fix", "fixed", "report.fix", _l("Fix"), fields=("correction", "publish", "note"), key="f"),
    Action("cluster", "reject", "rejected", "report.reject", _l("Reject"),
           bulk_label=_l("Reject selected"), key="r"),
    Action("cluster", "reopen", "new", "report.reopen", _l("Reopen"), bulk_label=_l("Reopen selected")),
    Action("report", "fix", "fixed", "report.fix", _l("Fix"), fields=("correction", "publish", "note")),
    Action("report", "reject", "rejected", "report.reject", _l("Reject")),
)

_BY_KEY = {(a.target, a.name): a for a in ACTIONS}


def get(target, name):
    """The action `name` on `target`; KeyError if there is none."""
    return _BY_KEY[(target, name)]


def for_target(target):
    """{name: Action} for one target, in registry order (templates: `actions('comment').reject`)."""
    return {a.name: a for a in ACTIONS if a.target == target}
