"""Which reader answers shared caches (deploy/nginx.conf's micro-cache, a CDN) may keep.

The public comment list is the same for every reader: shared caches keep it
MODERATION_LIST_SHARED_MAX_AGE seconds, browsers revalidate every poll (ETag, 304), and
Vary names Origin because the CORS headers follow it. Everything else a reader GETs
(status lookups) is personal, and no error is ever shared.
"""
import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import Comment

from support.payloads import ARTICLE, ORIGIN, comment_payload

LIST = "/api/v1/comments"
QUERY = {"site": "test-site", "url": ARTICLE}
NOT_SHARED = "private, no-store"


def directives(response):
    return [part.strip() for part in response.headers.get("Cache-Control", "").split(",") if part.strip()]


def vary(response):
    return {part.strip().lower() for part in response.headers.get("Vary", "").split(",") if part.strip()}


def assert_not_shared(response):
    found = set(directives(response))
    assert "no-store" in found and "private" in found, response.headers.get("Cache-Control")
    assert "public" not in found and not any(d.startswith("s-maxage") for d in found)


@pytest.fixture
def published(app, client, site, drain, staff):
    """One approved comment on ARTICLE; returns its client_id."""
    payload = comment_payload()
    assert client.post("/api/v1/comments", json=payload).status_code == 202
    drain()
    with app.app_context():
        row_id = db.session.execute(
            sa.select(Comment.id).where(Comment.client_id == payload["client_id"])).scalar_one()
    response = client.post(f"/api/v1/moderation/comments/{row_id}/approve", headers=staff.headers("editor"))
    assert response.status_code == 200, response.json
    return payload["client_id"]


@pytest.mark.parametrize("origin", [None, ORIGIN])
@pytest.mark.parametrize("params", [{}, {"limit": 10}, {"after": 1}])
def test_the_public_list_is_shared_cacheable_for_seconds(app, client, published, origin, params):
    headers = {"Origin": origin} if origin else {}
    response = client.get(LIST, query_string=dict(QUERY, **params), headers=headers)
    assert response.status_code == 200
    config = app.config
    assert directives(response) == [
        "public", "max-age=0", f"s-maxage={config['LIST_SHARED_MAX_AGE']}",
        f"stale-while-revalidate={config['LIST_STALE_WHILE_REVALIDATE']}"]
    # With or without an Origin: the answer differs by Origin (Access-Control-Allow-Origin),
    # so a cache must key on it even for the request that sent none.
    assert "origin" in vary(response)
    assert "cookie" not in vary(response) and "Set-Cookie" not in response.headers
    if origin:
        assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    else:
        assert "Access-Control-Allow-Origin" not in response.headers


def test_the_settings_set_the_directives(make_app, site):
    app = make_app(LIST_SHARED_MAX_AGE=3, LIST_STALE_WHILE_REVALIDATE=7)
    response = app.test_client().get(LIST, query_string=QUERY)
    assert directives(response) == ["public", "max-age=0", "s-maxage=3", "stale-while-revalidate=7"]


def test_shared_max_age_zero_turns_shared_caching_off(make_app, site):
    app = make_app(LIST_SHARED_MAX_AGE=0)
    response = app.test_client().get(LIST, query_string=QUERY)
    assert directives(response) == ["no-cache"]
    assert "origin" in vary(response)


def test_a_304_still_answers_the_browsers_etag_with_the_same_cache_headers(client, published):
    first = client.get(LIST, query_string=QUERY, headers={"Origin": ORIGIN})
    etag = first.headers["ETag"]
    again = client.get(LIST, query_string=QUERY, headers={"Origin": ORIGIN, "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    assert again.headers["Cache-Control"] == first.headers["Cache-Control"]
    assert "origin" in vary(again)


def test_the_status_lookup_is_personal(client, published):
    """Knowing a client_id is what lets a reader see where their submission stands."""
    response = client.get(f"/api/v1/submissions/{published}", query_string={"site": "test-site"},
                          headers={"Origin": ORIGIN})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == NOT_SHARED


@pytest.mark.parametrize("query, status", [
    ({"site": "test-site"}, 400),                                  # no url
    ({"site": "nope", "url": ARTICLE}, 403),                       # unknown site
    ({"site": "test-site", "url": ARTICLE, "thread": 999999}, 404),  # unknown thread
])
def test_list_errors_are_never_shared(client, site, query, status):
    response = client.get(LIST, query_string=query, headers={"Origin": ORIGIN})
    assert response.status_code == status
    assert_not_shared(response)


def test_a_refused_origin_is_not_shared(client, site):
    response = client.get(LIST, query_string=QUERY, headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert_not_shared(response)


def test_unknown_status_and_post_answers_are_not_shared(client, site):
    missing = client.get("/api/v1/submissions/00000000-0000-4000-8000-000000000000",
                         query_string={"site": "test-site"})
    assert missing.status_code == 404
    assert_not_shared(missing)
    posted = client.post("/api/v1/comments", json=comment_payload())
    assert posted.status_code == 202
    assert_not_shared(posted)


def test_a_503_is_not_shared(make_app, site):
    """Redis down: the status lookup answers 503, which no cache may keep."""
    app = make_app(REDIS_URL="redis://127.0.0.1:1", REDIS_SOCKET_TIMEOUT=0.2)
    response = app.test_client().get("/api/v1/submissions/00000000-0000-4000-8000-000000000000",
                                     query_string={"site": "test-site"})
    assert response.status_code == 503
    assert_not_shared(response)
