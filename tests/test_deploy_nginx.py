"""deploy/nginx.conf in Debian's real nginx, in front of the real app: the comment list is
micro-cached (one request reaches the app however many readers poll), POSTs and errors are
never cached, and a newly approved comment shows up once the list's s-maxage has passed.

`make test` installs nginx when run as root (like Chromium); elsewhere these tests skip.
"""
import collections
import json
import time
import urllib.parse

import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import Comment

from support.nginx import Nginx, nginx_binary
from support.payloads import ARTICLE, ORIGIN, comment_payload

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(nginx_binary() is None,
                       reason="Debian's nginx is not installed (apt-get install nginx; `make test` does it as root)"),
]

LIST = "/api/v1/comments?" + urllib.parse.urlencode({"site": "test-site", "url": ARTICLE})
FROM_SITE = {"Origin": ORIGIN}


@pytest.fixture
def origin_hits(app):
    """Requests that reached the app, by (method, path): counted in front of Flask."""
    hits = collections.Counter()
    inner = app.wsgi_app

    def counting(environ, start_response):
        hits[(environ["REQUEST_METHOD"], environ["PATH_INFO"])] += 1
        return inner(environ, start_response)

    app.wsgi_app = counting
    return hits


@pytest.fixture
def nginx(tmp_path, site, live_server):
    proxy = Nginx(tmp_path / "nginx", live_server.removeprefix("http://"))
    with proxy:
        yield proxy


def comments_in(body):
    return [entry["id"] for entry in json.loads(body)["comments"]]


def test_nginx_accepts_the_micro_cache_config(tmp_path):
    ok, output = Nginx(tmp_path, "127.0.0.1:9").check()
    assert ok, output
    assert "[warn]" not in output, output


def test_a_second_get_within_s_maxage_comes_from_the_cache(nginx, origin_hits):
    status, headers, body = nginx.request("GET", LIST, headers=FROM_SITE)
    assert status == 200 and headers["x-cache-status"] == "MISS"
    assert headers["access-control-allow-origin"] == ORIGIN
    status, again, body_again = nginx.request("GET", LIST, headers=FROM_SITE)
    assert status == 200 and again["x-cache-status"] == "HIT" and body_again == body
    assert origin_hits[("GET", "/api/v1/comments")] == 1

    # The browser's conditional poll is answered by nginx from the cached ETag.
    status, conditional, empty = nginx.request("GET", LIST, headers=dict(FROM_SITE, **{"If-None-Match": headers["etag"]}))
    assert status == 304 and empty == b"" and conditional["etag"] == headers["etag"]
    assert origin_hits[("GET", "/api/v1/comments")] == 1

    # Another Origin (here none) is another cache entry: its answer has no CORS header.
    status, no_origin, _ = nginx.request("GET", LIST)
    assert status == 200 and no_origin["x-cache-status"] == "MISS"
    assert "access-control-allow-origin" not in no_origin
    assert origin_hits[("GET", "/api/v1/comments")] == 2


def test_posts_status_lookups_and_errors_always_reach_the_app(nginx, origin_hits):
    payload = comment_payload()
    for _ in range(2):  # the same client_id twice: the widget retrying
        status, headers, _ = nginx.request("POST", "/api/v1/comments", body=json.dumps(payload),
                                           headers=dict(FROM_SITE, **{"Content-Type": "application/json"}))
        assert status == 202 and headers.get("x-cache-status") != "HIT"
    assert origin_hits[("POST", "/api/v1/comments")] == 2

    lookup = f"/api/v1/submissions/{payload['client_id']}?site=test-site"
    for _ in range(2):
        assert nginx.request("GET", lookup, headers=FROM_SITE)[0] == 200
    assert origin_hits[("GET", f"/api/v1/submissions/{payload['client_id']}")] == 2

    unknown = "/api/v1/comments?" + urllib.parse.urlencode({"site": "nope", "url": ARTICLE})
    for _ in range(2):
        status, headers, _ = nginx.request("GET", unknown, headers=FROM_SITE)
        assert status == 403 and headers["x-cache-status"] != "HIT"
    assert origin_hits[("GET", "/api/v1/comments")] == 2


def test_a_newly_approved_comment_appears_once_the_cached_list_expires(app, nginx, origin_hits, drain, staff):
    app.config.update(LIST_SHARED_MAX_AGE=2, LIST_STALE_WHILE_REVALIDATE=1)
    payload = comment_payload()
    status, _, _ = nginx.request("POST", "/api/v1/comments", body=json.dumps(payload),
                                 headers=dict(FROM_SITE, **{"Content-Type": "application/json"}))
    assert status == 202
    drain()  # stored, pending: readers do not see it
    with app.app_context():
        row_id = db.session.execute(
            sa.select(Comment.id).where(Comment.client_id == payload["client_id"])).scalar_one()
    status, headers, body = nginx.request("GET", LIST, headers=FROM_SITE)
    assert status == 200 and headers["x-cache-status"] == "MISS" and comments_in(body) == []
    approved = app.test_client().post(f"/api/v1/moderation/comments/{row_id}/approve", headers=staff.headers("editor"))
    assert approved.status_code == 200
    approved_at = time.monotonic()

    # Readers still get the cached list (no request reaches the app) ...
    status, headers, body = nginx.request("GET", LIST, headers=FROM_SITE)
    assert headers["x-cache-status"] == "HIT" and comments_in(body) == []
    # ... until s-maxage (2 s, rounded to nginx's whole seconds) and one background refresh.
    seen, statuses = None, []
    while time.monotonic() - approved_at < 8:
        status, headers, body = nginx.request("GET", LIST, headers=FROM_SITE)
        statuses.append(headers["x-cache-status"])
        if row_id in comments_in(body):
            seen = time.monotonic() - approved_at
            break
        time.sleep(0.1)
    assert seen is not None, statuses
    assert seen <= 2 + 1 + 1.5, (seen, statuses)  # s-maxage + nginx's second rounding + the refresh
    assert {"STALE", "UPDATING", "EXPIRED", "REVALIDATED"} & set(statuses), statuses
    # One request built the first list, at most two more refreshed it: not one per poll.
    assert origin_hits[("GET", "/api/v1/comments")] <= 3, (origin_hits, len(statuses))
