"""The reader list is built once per version of an article and served from Redis after that."""
import time

import sqlalchemy as sa
from flask import jsonify

from moderation.extensions import db
from moderation.models import Comment, Page, Site
from moderation.models.sites import url_hash
from moderation.services import comments_feed

from support.net import free_port
from support.payloads import ARTICLE, new_client_id

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
    """The cached lists (not the marks of the cursors they hand out)."""
    return [k for k in app.broker.redis.keys(comments_feed.CACHE_PREFIX + "*") if not k.endswith(b":ok")]


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
    whole = client.get("/api/v1/comments", query_string=dict(QUERY, limit=10)).json  # not the page size
    assert cache_keys(app) == []
    app.config["COMMENTS_PAGE_SIZE"] = 2
    first = client.get("/api/v1/comments", query_string=QUERY).json
    second = client.get("/api/v1/comments", query_string=dict(QUERY, after=first["next"])).json
    assert len(cache_keys(app)) == 2
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


# ---------- bounded lists: replies paged per thread, bodies capped, junk not cached ----------
import random  # noqa: E402

LONG = "Длинный ответ о трамвайной линии. " * 147  # ~5,000 characters, the body limit


def seed_thread(app, site_id, replies, roots=1, body=LONG):
    """`roots` top-level comments, the first with `replies` replies; returns (root ids, reply ids)."""
    with app.app_context():
        page = db.session.execute(sa.select(Page).where(Page.url_hash == url_hash(ARTICLE))).scalar_one_or_none()
        if page is None:
            page = Page(site_id=site_id, url=ARTICLE, url_hash=url_hash(ARTICLE), title="A", comments_version=1)
            db.session.add(page)
            db.session.flush()

        def row(n, thread=None):
            return dict(client_id=new_client_id(), site_id=site_id, page_id=page.id, author=f"Reader {n}",
                        body_raw=body, body_html=f"<p>{body}</p>", status="approved", spam_reasons=[],
                        parent_id=thread, thread_id=thread)

        db.session.execute(sa.insert(Comment.__table__), [row(n) for n in range(roots)])
        root_ids = db.session.execute(sa.select(Comment.id).where(Comment.thread_id.is_(None))
                                      .order_by(Comment.id)).scalars().all()
        if replies:
            db.session.execute(sa.insert(Comment.__table__), [row(n, root_ids[0]) for n in range(replies)])
        reply_ids = db.session.execute(sa.select(Comment.id).where(Comment.thread_id == root_ids[0])
                                       .order_by(Comment.id)).scalars().all()
        db.session.commit()
        return root_ids, reply_ids


def walk(client, query, first):
    """Follow `next` from `first` (a response); returns (every comment seen, response sizes)."""
    seen, sizes, response = [], [], first
    while True:
        assert response.status_code == 200
        sizes.append(len(response.data))
        seen += response.json["comments"]
        if not response.json["next"]:
            return seen, sizes
        response = client.get("/api/v1/comments", query_string=dict(query, after=response.json["next"]))


def test_six_hundred_replies_are_paged_and_no_list_exceeds_256_kb(app, client, site):
    (root,), replies = seed_thread(app, site.id, 600)
    first = client.get("/api/v1/comments", query_string=dict(QUERY, limit=1))
    assert len(first.data) <= comments_feed.MAX_BYTES  # was 3.07 MB: every reply inline
    thread = first.json["comments"][0]
    assert thread["replies_total"] == 600 and len(thread["replies"]) == comments_feed.REPLIES_SHOWN
    assert [r["id"] for r in thread["replies"]] == replies[:comments_feed.REPLIES_SHOWN]
    query = dict(QUERY, thread=root)
    rest, sizes = walk(client, query, client.get("/api/v1/comments",
                                                 query_string=dict(query, after=thread["replies_next"])))
    assert [r["id"] for r in thread["replies"] + rest] == replies  # each once, in order, none lost
    assert all(r["parent"] == root for r in rest)
    assert max(sizes) <= comments_feed.MAX_BYTES and len(sizes) > 1  # ended early by bytes, not count
    assert client.get("/api/v1/comments", query_string=dict(query, limit=200)).json["total"] == 600


def test_many_long_threads_end_a_page_early_and_lose_no_comment(app, client, site):
    roots, _ = seed_thread(app, site.id, 0, roots=60)
    for n in range(1, 60):  # five long replies under every thread
        with app.app_context():
            db.session.execute(sa.insert(Comment.__table__), [dict(
                client_id=new_client_id(), site_id=site.id, page_id=1, author="R", body_raw=LONG,
                body_html=f"<p>{LONG}</p>", status="approved", spam_reasons=[], parent_id=roots[n],
                thread_id=roots[n]) for _ in range(5)])
            db.session.commit()
    seen, sizes = walk(client, dict(QUERY, limit=200),
                       client.get("/api/v1/comments", query_string=dict(QUERY, limit=200)))
    assert [c["id"] for c in seen] == roots
    assert max(sizes) <= comments_feed.MAX_BYTES and len(sizes) > 1
    assert all(c["replies_next"] is None for c in seen)  # the replies moved with their thread


def test_thread_pages_validate_and_answer_304(app, client, site):
    roots, replies = seed_thread(app, site.id, 8, roots=2)
    assert client.get("/api/v1/comments", query_string=dict(QUERY, thread="x")).status_code == 400
    assert client.get("/api/v1/comments", query_string=dict(QUERY, thread=replies[0])).status_code == 404
    assert client.get("/api/v1/comments", query_string=dict(QUERY, thread=99999)).status_code == 404
    empty = client.get("/api/v1/comments", query_string=dict(QUERY, thread=roots[1]))
    assert empty.json == {"comments": [], "total": 0, "next": None}
    page = client.get("/api/v1/comments", query_string=dict(QUERY, thread=roots[0], after=replies[4]))
    assert [r["id"] for r in page.json["comments"]] == replies[5:]
    again = client.get("/api/v1/comments", query_string=dict(QUERY, thread=roots[0], after=replies[4]),
                       headers={"If-None-Match": page.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_the_cursors_a_cached_page_hands_out_are_cached_and_nothing_else(app, client, site):
    roots, replies = seed_thread(app, site.id, 20, roots=5)
    app.config["COMMENTS_PAGE_SIZE"] = 2
    first = client.get("/api/v1/comments", query_string=QUERY).json
    assert len(cache_keys(app)) == 1
    client.get("/api/v1/comments", query_string=dict(QUERY, after=roots[0]))  # a real id, not a cursor
    client.get("/api/v1/comments", query_string=dict(QUERY, thread=roots[0]))  # no cursor at all
    client.get("/api/v1/comments", query_string=dict(QUERY, thread=roots[0], after=replies[0]))
    assert len(cache_keys(app)) == 1
    client.get("/api/v1/comments", query_string=dict(QUERY, after=first["next"]))
    replies_page = client.get("/api/v1/comments", query_string=dict(
        QUERY, thread=roots[0], after=first["comments"][0]["replies_next"])).json
    client.get("/api/v1/comments", query_string=dict(QUERY, thread=roots[0], after=replies_page["next"]))
    assert len(cache_keys(app)) == 4


def test_a_thousand_junk_list_queries_add_at_most_1_mb_to_redis(app, client, site):
    roots, replies = seed_thread(app, site.id, 600, roots=30)
    redis_client = app.broker.redis
    first = client.get("/api/v1/comments", query_string=QUERY)  # what readers poll: cached
    assert first.status_code == 200
    # The cursors the cached page handed out lead to pages that are kept too (the chain).
    handed_out = {first.json["next"]} | {c["replies_next"] for c in first.json["comments"]}
    ids = [i for i in roots + replies if i not in handed_out]
    replies = [i for i in replies if i not in handed_out]
    # The list cache's keys only: other tests' leftover threads may touch the shared Redis.
    def cache_keys():
        return set(redis_client.scan_iter(match=comments_feed.CACHE_PREFIX + "*", count=1000))

    keys_before = cache_keys()
    memory_before = redis_client.info("memory")["used_memory"]
    rng = random.Random(13)
    statuses = set()
    for n in range(1000):
        query = dict(QUERY)
        pick = n % 4
        if pick == 0:
            query["after"] = rng.choice(ids)
        elif pick == 1:
            query.update(after=rng.randrange(2**31), limit=rng.randrange(1, 201))
        elif pick == 2:
            query.update(thread=roots[0], after=rng.choice(replies))
        else:
            query.update(thread=rng.choice(roots + [rng.randrange(2**31)]), limit=rng.randrange(1, 201))
        statuses.add(client.get("/api/v1/comments", query_string=query).status_code)
    assert statuses <= {200, 404}
    grown = redis_client.info("memory")["used_memory"] - memory_before
    assert cache_keys() == keys_before  # was one new key (up to 3 MB) per query
    assert grown <= 1024 * 1024, grown
