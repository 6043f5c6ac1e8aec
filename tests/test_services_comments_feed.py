"""The reader list is built once per version of an article and served from Redis after that."""
import time

import sqlalchemy as sa
from flask import jsonify

from conftest import free_port
from moderation.extensions import db
from moderation.models import Comment, Page, Site
from moderation.models.sites import url_hash
from moderation.services import comments_feed
from payloads import ARTICLE, new_client_id

QUERY = {"site": "test-site", "url": ARTICLE}


def seed(app, site_id, count=3):
    with app.app_context():
        page = Page(site_id=site_id, url=ARTICLE, url_hash=url_hash(ARTICLE), title="A", comments_version=1)
        db.session.add(page)
        db.session.flush()
        for n in range(count):
            db.session.add(Comment(client_id=new_client_id(), site_id=site_id, page_id=page.id, author=f"Reader {n}",
                                   body_raw=f"Comment {n}", body_html=f"<p>Comment {n}</p>", status="approved",
                                   spam_reasons=[]))
        db.session.commit()
        return page.id


def cache_keys(app):
    return app.broker.redis.keys(comments_feed.CACHE_PREFIX + "*")


def test_list_is_built_once_per_version_then_served_from_redis(app, client, site):
    page_id = seed(app, site.id)
    first = client.get("/api/v1/comments", query_string=QUERY)
    assert first.status_code == 200 and first.json["total"] == 3
    assert len(cache_keys(app)) == 1
    with app.app_context():  # behind the service's back: no version bump
        db.session.execute(sa.update(Comment).values(author="Changed"))
        db.session.commit()
    again = client.get("/api/v1/comments", query_string=QUERY)
    assert again.data == first.data  # the cached list
    with app.app_context():  # what publishing, editing or withdrawing a comment does
        db.session.get(Page, page_id).bump()
        db.session.commit()
    fresh = client.get("/api/v1/comments", query_string=QUERY)
    assert fresh.headers["ETag"] != first.headers["ETag"]
    assert {c["author"] for c in fresh.json["comments"]} == {"Changed"}
    assert len(cache_keys(app)) == 2
    assert all(0 < app.broker.redis.ttl(key) <= comments_feed.CACHE_TTL for key in cache_keys(app))


def test_each_page_of_results_is_cached_under_its_own_key(app, client, site):
    seed(app, site.id, count=5)
    whole = client.get("/api/v1/comments", query_string=QUERY).json
    first = client.get("/api/v1/comments", query_string=dict(QUERY, limit=2)).json
    second = client.get("/api/v1/comments", query_string=dict(QUERY, limit=2, after=first["next"])).json
    assert len(cache_keys(app)) == 3
    assert [c["id"] for c in first["comments"] + second["comments"]] == [c["id"] for c in whole["comments"]][:4]
    assert client.get("/api/v1/comments", query_string=dict(QUERY, limit=2)).json == first


def test_cached_body_is_what_jsonify_sends(app, client, site):
    page_id = seed(app, site.id)
    built = client.get("/api/v1/comments", query_string=QUERY)
    cached = client.get("/api/v1/comments", query_string=QUERY)
    assert cached.data == built.data
    assert cached.content_type == "application/json"
    with app.test_request_context():
        expected = jsonify(comments_feed.build(db.session.get(Page, page_id), None, 50,
                                               db.session.get(Site, site.id))).data
    assert built.data == expected


def test_list_is_served_with_redis_down_and_the_cache_skipped_for_a_while(make_app, app, site):
    seed(app, site.id)
    down = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    client = down.test_client()
    response = client.get("/api/v1/comments", query_string=QUERY)
    assert response.status_code == 200 and response.json["total"] == 3
    assert down.extensions[comments_feed._PAUSED] > time.monotonic()  # no socket timeout per reader
    assert client.get("/api/v1/comments", query_string=QUERY).json == response.json
