"""The action registry (services/actions.py) is the one list of moderation actions.

The moderation API's routes, the dashboard's item forms, bulk buttons and keys, and the
audit labels are all checked against it here, both ways: a route, form, key or label for an
action not in the registry fails, and so does a registry action missing from any of them.
"""
import inspect
import pathlib
import re

import pytest
import sqlalchemy as sa

from moderation.auth import create_user
from moderation.dashboard import labels
from moderation.extensions import db
from moderation.models import AuditEntry, Comment, ReportCluster, TypoReport
from moderation.services import actions
from moderation.services.reader_profile import READER_ACTIONS
from moderation.services.actions import ACTIONS, TARGETS
from support.payloads import comment_payload, report_payload

ROOT = pathlib.Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates" / "dashboard"
# Item forms that are not moderation decisions (their own routes, their own audit codes).
OTHER_ITEM_FORMS = {"comment": {"block"}, "cluster": set()}
ITEM_TEMPLATES = {"comment": "_comment_item.html", "cluster": "_report_item.html"}


# -- the table itself ---------------------------------------------------------------------

def test_each_action_is_listed_once_on_a_known_target():
    keys = [(a.target, a.name) for a in ACTIONS]
    assert len(keys) == len(set(keys))
    assert {a.target for a in ACTIONS} == set(TARGETS)
    assert actions.get("comment", "approve").status == "approved"
    with pytest.raises(KeyError):
        actions.get("comment", "publish")


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: a.endpoint)
def test_each_action_has_a_service_function_taking_what_the_registry_says(action):
    """`perform` passes item id, actor, then `fields` in order, then `reason` if allowed."""
    params = list(inspect.signature(action.service()).parameters)
    assert params[:2] == [f"{action.target}_id", "actor"]
    assert params[2:] == list(action.fields) + (["reason"] if action.reason else [])
    assert set(action.required) <= set(action.fields)
    assert not action.reason_required or action.reason


def test_the_openapi_generator_can_read_every_action():
    """What h15schema's generator reads: path, target, name, reason, fields, required, scope."""
    for action in ACTIONS:
        assert action.path == f"/{TARGETS[action.target].collection}/{{{action.target}_id}}/{action.name}"
        assert action.scope in ("comments", "reports")
        assert isinstance(action.reason, bool) and isinstance(action.fields, tuple)


def test_every_audit_code_and_button_has_a_label():
    missing = [a.audit for a in ACTIONS if a.audit not in labels.ACTIONS]
    assert missing == []
    for action in ACTIONS:
        assert str(action.label)
        assert action.bulk_label is None or str(action.bulk_label)


def test_no_decision_label_without_a_registry_action():
    """Labelled comment/report codes are the registry's, or events no one decides (readers, the fixed check)."""
    decisions = {code for code in labels.ACTIONS if code.split(".")[0] in ("comment", "report")}
    assert decisions - {a.audit for a in ACTIONS} == {
        "comment.flagged", "comment.reader_edit", "comment.reader_delete", "comment.rescreen",
        "report.fixed_detected", "report.fixed_undetected"}


def test_decisions_are_what_the_stats_count():
    from moderation.dashboard import stats_views

    assert stats_views.COMMENT_DECISIONS == ("comment.approve", "comment.reject", "comment.spam", "comment.fix")
    assert stats_views.REPORT_DECISIONS == ("report.fix", "report.reject")


# -- what reads it ----------------------------------------------------------------------------

def test_the_moderation_api_has_one_route_per_action_and_no_other(app):
    routes = {
        rule.endpoint.removeprefix("moderation_api."): rule.rule.removeprefix("/api/v1/moderation")
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("moderation_api.") and "POST" in rule.methods
    }
    expected = {
        a.endpoint: f"/{TARGETS[a.target].collection}/<int(max=2147483647):{a.target}_id>/{a.name}"
        for a in ACTIONS
    }
    # Reader actions are listed apart (services/reader_profile.py says why), one route each too.
    expected |= {f"{a.name}_reader": f"/readers/<path:reader_key>/{a.name}" for a in READER_ACTIONS}
    # The corrections log is not a queue: its own two routes (api/moderation_corrections_views.py).
    expected |= {"write_correction": "/corrections",
                 "unpublish_correction": "/corrections/<int(max=2147483647):correction_id>/unpublish"}
    assert routes == expected


@pytest.mark.parametrize("target", sorted(ITEM_TEMPLATES))
def test_the_dashboard_item_forms_are_the_registry_actions(target):
    text = (TEMPLATES / ITEM_TEMPLATES[target]).read_text(encoding="utf-8")
    offered = set(re.findall(r'data-action="(\w+)"', text)) - OTHER_ITEM_FORMS[target]
    posted = set(re.findall(r"_action', \w+=\w+\.id, action='(\w+)'", text))
    registered = set(actions.for_target(target))
    assert offered == registered
    assert posted == registered


def test_api_only_targets_have_no_dashboard_queue():
    assert {t.name for t in TARGETS.values() if t.dashboard} == set(ITEM_TEMPLATES)


def test_the_keyboard_keys_are_the_registry_keys():
    """The item templates render each action's key from the registry (data-key, data-bulk-key);
    static/js/dashboard.js reads them there and writes no action key of its own."""
    script = (ROOT / "static" / "js" / "dashboard.js").read_text(encoding="utf-8")
    assert re.findall(r'(\w): function \(\) \{ act\("(\w+)"\); \}', script) == []
    registered = {a.key: a.name for a in ACTIONS if a.key and a.dashboard}
    for target, template in ITEM_TEMPLATES.items():
        text = (TEMPLATES / template).read_text(encoding="utf-8")
        keyed = {a.name for a in ACTIONS if a.target == target and a.key}
        rendered = set(re.findall(r'data-key="\{\{ act\.(\w+)\.key \}\}"', text))
        rendered |= {"reject"} if "reject_fields(act.reject" in text else set()
        assert rendered == keyed, target
    macros = (TEMPLATES / "_macros.html").read_text(encoding="utf-8")
    assert 'data-key="{{ action.key }}"' in macros and 'data-bulk-key="{{ a.bulk_key }}"' in macros
    help_box = re.search(r'<div id="help".*?</dl>', (TEMPLATES / "base.html").read_text(encoding="utf-8"), re.S)
    assert {key for key in registered if f"<kbd>{key}</kbd>" not in help_box.group(0)} == set()
    # One key means one action on every queue that has it.
    for key in registered:
        assert len({a.name for a in ACTIONS if a.key == key}) == 1


def _queue_page(client, auth, site, drain, path):
    for i, payload in enumerate((comment_payload(), report_payload())):
        kind = "reports" if "exact" in payload else "comments"
        assert client.post(f"/api/v1/{kind}", json=payload, environ_base={"REMOTE_ADDR": f"10.2.0.{i}"}).status_code == 202
    drain()
    auth.login(role="editor")
    return client.get(path).get_data(as_text=True)


@pytest.mark.parametrize("target, path, bulk_path", [
    ("comment", "/dashboard/comments", "/dashboard/comments/bulk"),
    ("cluster", "/dashboard/reports", "/dashboard/reports/bulk"),
])
def test_the_bulk_buttons_and_bulk_route_are_the_registry_bulk_actions(app, client, auth, site, drain,
                                                                       target, path, bulk_path):
    page = _queue_page(client, auth, site, drain, path)
    form = re.search(r'<form id="bulk".*?</form>', page, re.S).group(0)
    buttons = re.findall(r'<button name="action" value="(\w+)"', form)
    assert buttons == [a.name for a in actions.for_target(target).values() if a.bulk]
    token = auth.csrf("/dashboard/")
    for action in actions.for_target(target).values():
        response = client.post(bulk_path, data={"csrf_token": token, "action": action.name, "ids": []})
        assert response.status_code == (302 if action.bulk else 400), action.name
    assert client.post(bulk_path, data={"csrf_token": token, "action": "publish"}).status_code == 400


def test_a_dashboard_action_not_in_the_registry_is_404(app, client, auth, site, drain):
    _queue_page(client, auth, site, drain, "/dashboard/comments")
    with app.app_context():
        comment_id = db.session.execute(sa.select(Comment.id)).scalar_one()
        cluster_id = db.session.execute(sa.select(ReportCluster.id)).scalar_one()
    token = auth.csrf("/dashboard/")
    assert client.post(f"/dashboard/comments/{comment_id}/publish", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/dashboard/reports/{cluster_id}/approve", data={"csrf_token": token}).status_code == 404


# -- the services take their outcome from it --------------------------------------------------

VALUES = {"body": "Исправленный текст", "correction": "объявил", "publish": None, "note": None}


def test_each_action_leads_to_the_registry_status_and_audit_code(app, client, site, drain):
    for i, payload in enumerate((comment_payload(), report_payload())):
        kind = "reports" if "exact" in payload else "comments"
        assert client.post(f"/api/v1/{kind}", json=payload, environ_base={"REMOTE_ADDR": f"10.3.0.{i}"}).status_code == 202
    drain()
    with app.app_context():
        actor, _ = create_user("registry@news.example", "admin", "correct horse battery staple")
        db.session.commit()
        items = {
            "comment": (Comment, db.session.execute(sa.select(Comment.id)).scalar_one()),
            "cluster": (ReportCluster, db.session.execute(sa.select(ReportCluster.id)).scalar_one()),
            "report": (TypoReport, db.session.execute(sa.select(TypoReport.id)).scalar_one()),
        }
        for action in ACTIONS:  # registry order changes the status each time: each writes an entry
            model, item_id = items[action.target]
            values = {field: VALUES[field] for field in action.fields}
            action.perform(item_id, actor, values, "a reason" if action.reason else None)
            item = db.session.get(model, item_id)
            db.session.refresh(item)
            assert item.status == action.status, action.endpoint
            entry = db.session.execute(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).scalars().first()
            assert entry.action == action.audit, action.endpoint
            assert entry.reason == ("a reason" if action.reason else None), action.endpoint
