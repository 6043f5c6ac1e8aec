"""Errors of the reader API: always JSON, always the documented status, never a 500."""
import io
import json
import time

import pytest

from moderation.embedded_redis import EmbeddedRedis
from moderation.extensions import db
from moderation.models import Site

from moderation.config import Config

from support.net import free_port
from support.payloads import ARTICLE, comment_payload, new_client_id, report_payload

LIMIT = Config.MAX_CONTENT_LENGTH


def assert_error(response, status, error=None):
    """The documented shape: {"error": code, "message": text, "fields"?: {name: reason}}."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) <= {"error", "message", "fields"}
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["message"], str) and body["message"]
    if "fields" in body:
        assert isinstance(body["fields"], dict) and body["fields"]
    if error is not None:
        assert body["error"] == error
    return body


# -- body format -----------------------------------------------------------------------

@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_non_json_content_type_is_415(client, site, content_type):
    response = client.post(
        "/api/v1/comments", data=json.dumps(comment_payload()), content_type=content_type
    )
    assert_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize("body", ["[]", '"text"', "42", "null", '[{"site": "test-site"}]'])
def test_json_that_is_not_an_object_is_400(client, site, body):
    response = client.post("/api/v1/reports", data=body, content_type="application/json")
    assert_error(response, 400, "bad_request")


@pytest.mark.parametrize("body", ['{"site": "test-site",', "{'site': 1}", "", b"\xff\xfe{}"])
def test_malformed_json_is_400(client, site, body):
    response = client.post("/api/v1/comments", data=body, content_type="application/json")
    assert_error(response, 400, "bad_request")


def _oversized():
    body = json.dumps(comment_payload(body="x" * LIMIT)).encode()
    assert len(body) > LIMIT
    return body


def test_body_over_16kb_with_content_length_is_413(client, site):
    response = client.post("/api/v1/comments", data=_oversized(), content_type="application/json")
    body = assert_error(response, 413, "too_large")
    assert str(LIMIT) in body["message"]


def test_body_over_16kb_without_content_length_is_413(client, site):
    """A chunked upload (no Content-Length): the limit applies while reading."""
    response = client.post(
        "/api/v1/reports",
        input_stream=io.BytesIO(_oversized()),
        content_type="application/json",
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert_error(response, 413, "too_large")


def test_body_of_exactly_16kb_is_accepted(client, site):
    payload = comment_payload(padding="")  # an unknown field: ignored, but its bytes count
    payload["padding"] = "p" * (LIMIT - len(json.dumps(payload).encode()))
    body = json.dumps(payload).encode()
    assert len(body) == LIMIT
    response = client.post("/api/v1/comments", data=body, content_type="application/json")
    assert response.status_code == 202, response.json


# -- every error is JSON -----------------------------------------------------------------------

@pytest.mark.parametrize(
    "method, path, status",
    [
        ("GET", "/api/v1/nope", 404),
        ("POST", "/api/v1/nope", 404),
        ("GET", "/api/v1/moderation/nope", 404),
        ("GET", "/api/v1/reports", 405),
        ("DELETE", "/api/v1/comments", 405),
        ("PUT", "/api/v1/reports", 405),
        ("POST", "/api/v1/submissions/abcdefgh-1", 405),
        ("GET", "/api/v1/submissions/abcdefgh-1?site=test-site", 404),
        ("GET", "/api/v1/submissions/abcdefgh-1", 400),  # client_ids are per site: no site, no answer
        ("GET", "/api/v1/submissions/bad", 400),
        ("GET", "/api/v1/comments", 400),
    ],
)
def test_errors_are_json_everywhere(client, site, method, path, status):
    assert_error(client.open(path, method=method), status)


def test_405_names_the_allowed_methods(client, site):
    response = client.get("/api/v1/reports")
    assert response.status_code == 405
    assert "POST" in response.headers.get("Allow", "")


def test_validation_error_lists_every_bad_field(client, site):
    response = client.post("/api/v1/comments", json={"site": "test-site", "body": ""})
    body = assert_error(response, 400, "bad_request")
    assert set(body["fields"]) == {"url", "client_id", "author", "body"}


# A value of the wrong JSON type in any field is a 400 naming that field.
BAD_VALUES = (123, 1.5, True, ["x"], {"x": 1})
WRONG_TYPES = [
    ("/api/v1/comments", comment_payload, field, value)
    for field in ("site", "url", "client_id", "author", "body", "title", "email", "parent")
    for value in BAD_VALUES
    if not (field == "parent" and value == 123)  # a valid comment id
] + [
    ("/api/v1/reports", report_payload, field, value)
    for field in ("site", "url", "client_id", "exact", "prefix", "suffix", "suggestion", "comment",
                  "kind", "position")
    for value in BAD_VALUES
    if not (field == "position" and value == 123)  # a valid position
]


@pytest.mark.parametrize("path, make, field, value", WRONG_TYPES)
def test_wrong_types_are_400_never_500(client, site, path, make, field, value):
    response = client.post(path, json=make(**{field: value}))
    body = assert_error(response, 400, "bad_request")
    assert field in body["fields"]


# -- rate limits ------------------------------------------------------------------------------

def _set_site(app, key, **fields):
    with app.app_context():
        row = db.session.query(Site).filter_by(key=key).one()
        for name, value in fields.items():
            setattr(row, name, value)
        db.session.commit()


def _comment(client, addr="203.0.113.1", **overrides):
    return client.post(
        "/api/v1/comments", json=comment_payload(**overrides), environ_base={"REMOTE_ADDR": addr}
    )


def _report(client, addr="203.0.113.1", **overrides):
    return client.post(
        "/api/v1/reports", json=report_payload(**overrides), environ_base={"REMOTE_ADDR": addr}
    )


def test_over_the_limit_is_429_with_retry_after(make_app, site):
    client = make_app(RATELIMIT_COMMENTS="2/minute").test_client()
    assert _comment(client).status_code == 202
    assert _comment(client).status_code == 202
    response = _comment(client)
    assert_error(response, 429, "rate_limited")
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def test_limited_submission_is_not_queued(make_app, site):
    client = make_app(RATELIMIT_COMMENTS="1/minute").test_client()
    assert _comment(client).status_code == 202
    payload = comment_payload()
    response = client.post("/api/v1/comments", json=payload, environ_base={"REMOTE_ADDR": "203.0.113.1"})
    assert response.status_code == 429
    assert client.get(f"/api/v1/submissions/{payload['client_id']}", query_string={"site": "test-site"}).status_code == 404


def test_limits_are_per_address(make_app, site):
    client = make_app(RATELIMIT_COMMENTS="2/minute").test_client()
    for _ in range(2):
        assert _comment(client, addr="203.0.113.1").status_code == 202
    assert _comment(client, addr="203.0.113.1").status_code == 429
    assert _comment(client, addr="198.51.100.7").status_code == 202
    assert _comment(client, addr="2001:db8::1").status_code == 202


def test_limits_are_per_site(make_app, site, post_site):
    client = make_app(RATELIMIT_COMMENTS="2/minute").test_client()
    for _ in range(2):
        assert _comment(client, site="test-site").status_code == 202
    assert _comment(client, site="test-site").status_code == 429
    assert _comment(client, site="post-site").status_code == 202


def test_reports_and_comments_are_counted_separately(make_app, site):
    client = make_app(RATELIMIT_COMMENTS="1/minute", RATELIMIT_REPORTS="1/minute").test_client()
    assert _comment(client).status_code == 202
    assert _report(client).status_code == 202
    assert _comment(client).status_code == 429
    assert _report(client).status_code == 429


def test_site_override_of_report_limit(app, make_app, site, post_site):
    _set_site(app, "test-site", rate_limit_reports="1/minute")
    client = make_app().test_client()  # the service default stays 20/minute
    assert _report(client, site="test-site").status_code == 202
    response = _report(client, site="test-site")
    assert_error(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) >= 1
    # the other site keeps the default
    for _ in range(3):
        assert _report(client, site="post-site").status_code == 202


def test_site_override_can_raise_the_limit(app, make_app, site):
    _set_site(app, "test-site", rate_limit_comments="10/minute")
    client = make_app(RATELIMIT_COMMENTS="1/minute").test_client()
    for _ in range(4):
        assert _comment(client).status_code == 202


# -- Redis unavailable -------------------------------------------------------------------------

def _assert_unavailable(response, elapsed):
    assert_error(response, 503, "unavailable")
    assert int(response.headers["Retry-After"]) > 0
    assert elapsed < 1.0, f"answered in {elapsed:.2f} s"


@pytest.mark.parametrize("path, make", [("/api/v1/comments", comment_payload), ("/api/v1/reports", report_payload)])
def test_unreachable_redis_is_503_within_a_second(make_app, site, path, make):
    dead = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    client = dead.test_client()
    started = time.monotonic()
    response = client.post(path, json=make())
    _assert_unavailable(response, time.monotonic() - started)


def test_submission_status_with_unreachable_redis_is_503(make_app, site):
    client = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0").test_client()
    started = time.monotonic()
    response = client.get(f"/api/v1/submissions/{new_client_id()}", query_string={"site": "test-site"})
    _assert_unavailable(response, time.monotonic() - started)


def test_reading_comments_does_not_need_redis(make_app, site):
    client = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0").test_client()
    response = client.get("/api/v1/comments", query_string={"site": "test-site", "url": ARTICLE})
    assert response.status_code == 200
    assert response.json["total"] == 0


def test_redis_that_goes_away_is_503_within_a_second(make_app, site, tmp_path):
    server = EmbeddedRedis(tmp_path / "own-redis", port=free_port())
    server.start()
    try:
        client = make_app(REDIS_URL=server.url).test_client()
        assert client.post("/api/v1/comments", json=comment_payload()).status_code == 202
    finally:
        server.stop()
    started = time.monotonic()
    response = client.post("/api/v1/comments", json=comment_payload())
    _assert_unavailable(response, time.monotonic() - started)
    started = time.monotonic()
    response = client.post("/api/v1/reports", json=report_payload())
    _assert_unavailable(response, time.monotonic() - started)
