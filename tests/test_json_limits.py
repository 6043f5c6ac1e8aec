"""Deeply nested JSON bodies: a 400 that says why on every kind of endpoint, never a 500."""
import json

import pytest
from flask import request

from moderation.json_limits import MAX_JSON_DEPTH, JSONTooDeep, json_depth, too_deep

DEEP = '{"site": "test-site", "x": ' + "[" * 1000 + "]" * 1000 + "}"  # ~2 KB, 1,001 levels
DEEP_OBJECTS = '{"a": ' * 1000 + "1" + "}" * 1000


@pytest.mark.parametrize("text, depth", [
    ("1", 0), ("{}", 1), ('{"a": [1, {"b": []}]}', 4),
    ('{"a": "[[[[[[[[{{{{{"}', 1),  # brackets inside strings do not nest
    ('{"a": "\\"[[[["}', 1),  # nor after an escaped quote
    ("[" * 50 + "]" * 50, 50),
])
def test_json_depth(text, depth):
    assert json_depth(text) == depth
    assert json_depth(text.encode()) == depth


def test_only_bodies_deeper_than_the_limit_are_refused():
    ok = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert not too_deep(ok)
    assert too_deep("[" + ok + "]")
    # Many brackets side by side are not depth.
    assert not too_deep(json.dumps({"a": [[1]] * 500}))


def _assert_clear_400(response):
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert body["error"] == "bad_request"
    assert "nested too deeply" in body["message"]


@pytest.mark.parametrize("path", ["/api/v1/reports", "/api/v1/comments", "/api/v1/comments/1/flags"])
@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECTS])
def test_reader_api_answers_400(client, site, path, body):
    _assert_clear_400(client.post(path, data=body, content_type="application/json"))


@pytest.mark.parametrize("path", [
    "/api/v1/moderation/comments/1/approve",
    "/api/v1/moderation/comments/1/fix",
    "/api/v1/moderation/reports/1/reject",
])
def test_moderation_api_answers_400(client, site, staff, path):
    response = client.post(path, data=DEEP, content_type="application/json",
                           headers=staff.headers("admin"))
    _assert_clear_400(response)


def test_every_request_of_the_app_parses_with_the_limit(app):
    """The dashboard, too: one request class for the whole app, not a check per view."""
    with app.test_request_context("/dashboard/comments/1/approve", method="POST", data=DEEP,
                                  content_type="application/json"):
        with pytest.raises(JSONTooDeep):
            request.get_json(silent=True)


def test_dashboard_json_action_with_a_deep_body_is_not_a_500(app, client, auth, site):
    auth.login(role="admin")
    token = auth.csrf("/dashboard/comments")
    response = client.post("/dashboard/comments/1/approve", data=DEEP, content_type="application/json",
                           headers={"X-Requested-With": "fetch", "X-CSRFToken": token})
    assert response.status_code < 500
