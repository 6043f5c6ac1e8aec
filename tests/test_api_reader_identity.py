"""The reader API decides who sends a submission before queueing it (docs/identity.md).

A bad SSO token is a 401 with nothing queued; a good one replaces the typed author; an
anonymous reader is issued a signed id on the first submission and sends it back later; a
forged anonymous id is no id.
"""
import pytest

from moderation.api import reader_views
from moderation.extensions import db
from moderation.identity import anonymous, sso

from support.accounts import set_site_settings
from support.payloads import comment_payload, report_payload
from support.sso import sso_token
from support.database import recorded_statements


@pytest.fixture
def queued(monkeypatch):
    """What the views hand the broker (the broker itself is tested elsewhere)."""
    items = []

    class Broker:
        @staticmethod
        def submit(payload):
            items.append(payload)
            return True

    monkeypatch.setattr(reader_views, "get_broker", lambda: Broker)
    return items


POSTS = [("/api/v1/comments", comment_payload), ("/api/v1/reports", report_payload)]


@pytest.mark.parametrize("path, make", POSTS)
@pytest.mark.parametrize("token", [
    "not-a-jwt",
    "",
    "eyJhbGciOiJub25lIn0.eyJ1c2VyIjp7fX0.",  # alg: none
])
def test_malformed_token_is_401_and_nothing_is_queued(client, site, secret, queued, path, make, token):
    response = client.post(path, json=make(sso=token))
    assert response.status_code == 401
    assert response.json["error"] == "invalid_sso" and response.json["message"]
    assert queued == []


@pytest.mark.parametrize("path, make", POSTS)
def test_forged_and_expired_tokens_are_401(client, site, secret, queued, path, make):
    forged = sso_token("not the site's secret at all, long enough for hs256")
    expired = sso_token(secret, iat=1_700_000_000, exp=1_700_003_600)
    for token, words in ((forged, "signature"), (expired, "expired")):
        response = client.post(path, json=make(sso=token))
        assert response.status_code == 401, response.json
        assert response.json["error"] == "invalid_sso" and words in response.json["message"]
    assert queued == []


def test_token_on_a_site_without_sso_is_401(client, site, queued):
    response = client.post("/api/v1/comments", json=comment_payload(sso=sso_token("x" * 32)))
    assert response.status_code == 401 and response.json["error"] == "invalid_sso"
    assert queued == []


def test_flag_with_a_bad_token_is_401(app, client, site, secret, queued, monkeypatch):
    monkeypatch.setattr(reader_views.comments_feed, "is_published", lambda *_args: True)
    response = client.post("/api/v1/comments/1/flags",
                           json={"site": "test-site", "client_id": "flag-0001", "sso": "garbage"})
    assert response.status_code == 401 and response.json["error"] == "invalid_sso"
    assert queued == []


def test_a_token_that_is_not_a_string_is_a_400(client, site, secret, queued):
    response = client.post("/api/v1/comments", json=comment_payload(sso=42))
    assert response.status_code == 400 and "sso" in response.json["fields"]
    assert queued == []


def test_valid_token_makes_the_username_the_author(client, site, secret, queued):
    response = client.post("/api/v1/comments", json=comment_payload(author="Someone Else", sso=sso_token(secret)))
    assert response.status_code == 202, response.json
    assert "reader" not in response.json  # a signed-in reader needs no anonymous id
    [payload] = queued
    assert payload["author"] == "Анна К."
    assert payload["identity"]["sso"]["reader_key"] == f"sso:{site.id}:u-42"
    assert payload["identity"]["anon_key"] is None
    # The token itself is never queued (it may have expired by the time the worker stores it).
    assert "sso" not in payload and "reader" not in payload


def test_sso_required_refuses_a_comment_without_a_token(app, client, site, secret, queued):
    set_site_settings(app, site.id, sso_required=True)
    response = client.post("/api/v1/comments", json=comment_payload())
    assert response.status_code == 401
    assert response.json["error"] == "sso_required" and response.json["message"]
    assert queued == []
    # An anonymous id is no substitute.
    _, anon = anonymous_token(app, site.id)
    assert client.post("/api/v1/comments", json=comment_payload(reader=anon)).status_code == 401
    assert queued == []
    # A signed-in reader is taken; error reports need no sign-in.
    assert client.post("/api/v1/comments", json=comment_payload(sso=sso_token(secret))).status_code == 202
    assert client.post("/api/v1/reports", json=report_payload()).status_code == 202
    assert len(queued) == 2


def anonymous_token(app, site_id):
    with app.test_request_context():
        return anonymous.issue(site_id)


@pytest.mark.parametrize("path, make", POSTS)
def test_anonymous_id_is_issued_then_accepted(app, client, site, queued, path, make):
    first = client.post(path, json=make())
    assert first.status_code == 202
    token = first.json["reader"]
    key = queued[0]["identity"]["anon_key"]
    assert key.startswith("anon:") and queued[0]["identity"]["sso"] is None
    with app.test_request_context():
        assert anonymous.verify(site.id, token) == key  # the token names the queued reader

    again = client.post(path, json=make(reader=token))
    assert again.status_code == 202 and "reader" not in again.json  # kept, not replaced
    assert queued[1]["identity"]["anon_key"] == key


@pytest.mark.parametrize("forged", [
    "1:AAAAAAAAAAAAAAAAAAAAAA.forgedsignature",
    "garbage",
    "x" * 5000,
    42,
    {"key": "anon:x"},
])
def test_forged_anonymous_id_is_treated_as_none(app, client, site, queued, forged):
    response = client.post("/api/v1/comments", json=comment_payload(reader=forged))
    assert response.status_code == 202, response.json
    fresh = response.json["reader"]  # a new id, as for a first-time reader
    assert fresh != forged
    with app.test_request_context():
        assert anonymous.verify(site.id, fresh) == queued[0]["identity"]["anon_key"]


def test_anonymous_id_of_another_site_is_no_id(app, client, site, post_site, queued):
    _, other = anonymous_token(app, post_site.id)
    response = client.post("/api/v1/comments", json=comment_payload(reader=other))
    assert response.status_code == 202 and response.json["reader"] != other


def test_a_retry_is_not_issued_a_second_id(app, client, site):
    payload = comment_payload()
    first = client.post("/api/v1/comments", json=payload)
    retry = client.post("/api/v1/comments", json=payload)
    assert first.status_code == retry.status_code == 202
    assert "reader" in first.json and "reader" not in retry.json  # the queued one is the first's


def test_a_secret_created_after_the_site_was_cached_is_used_at_once(app, client, site, queued, monkeypatch):
    from moderation import site_registry

    monkeypatch.setattr(site_registry, "KEYS_REFRESH_SECONDS", 0)
    assert client.post("/api/v1/comments", json=comment_payload(sso=sso_token("x" * 32))).status_code == 401
    with app.app_context():  # `moderation sso-secret` in another process
        secret = sso.ensure_secret(site.id)
        db.session.commit()
    response = client.post("/api/v1/comments", json=comment_payload(sso=sso_token(secret)))
    assert response.status_code == 202, response.json


def test_verifying_a_token_costs_no_query(app, client, site, secret, queued):
    token = sso_token(secret)
    assert client.post("/api/v1/comments", json=comment_payload(sso=token)).status_code == 202  # warms the cache
    with recorded_statements(app) as seen:
        assert client.post("/api/v1/comments", json=comment_payload(sso=token)).status_code == 202
    assert seen == []
