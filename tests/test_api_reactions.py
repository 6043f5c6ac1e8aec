"""Issue 18, the reader API: comment counts of article lists, votes (once per reader), the list's
order (oldest, newest, best; featured first) and what the list answer says of votes and the site."""
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import Comment, CommentVote
from moderation.schemas.limits import COUNTS_URLS_MAX

from support.accounts import set_site_settings
from support.payloads import ARTICLE, ORIGIN, comment_payload, new_client_id
from support.readers import post_as_browser

OTHER = ORIGIN + "/2026/11/bridge"


def publish(app, client, drain, staff, count=1, url=ARTICLE, **fields):
    """`count` approved comments on `url` (ids, oldest first)."""
    client_ids = []
    for _ in range(count):
        payload = comment_payload(url=url, **fields)
        assert client.post("/api/v1/comments", json=payload).status_code == 202
        client_ids.append(payload["client_id"])
    drain()
    with app.app_context():
        ids = db.session.execute(sa.select(Comment.id).where(Comment.client_id.in_(client_ids))
                                 .order_by(Comment.id)).scalars().all()
    for comment_id in ids:
        response = client.post(f"/api/v1/moderation/comments/{comment_id}/approve", headers=staff.headers())
        assert response.status_code == 200, response.json
    return ids


def vote(client, comment_id, value, address="10.0.0.1", site="test-site"):
    """One browser per address: it keeps the anonymous reader id it was issued."""
    return post_as_browser(client, f"/api/v1/comments/{comment_id}/votes",
                           {"site": site, "value": value, "client_id": new_client_id()}, address, site)


def listed(client, **params):
    response = client.get("/api/v1/comments", query_string=dict({"site": "test-site", "url": ARTICLE}, **params))
    assert response.status_code == 200, response.json
    return response


# -- counts ---------------------------------------------------------------------------------

def test_counts_are_published_comments_keyed_by_the_url_as_sent(app, client, site, drain, staff):
    publish(app, client, drain, staff, count=2)
    publish(app, client, drain, staff, count=1, url=OTHER)
    assert client.post("/api/v1/comments", json=comment_payload()).status_code == 202  # pending: not counted
    drain()
    sent = [ARTICLE + "?utm_source=x#comments", OTHER.replace("https://news", "HTTPS://NEWS"),
            ORIGIN + "/nobody-commented"]
    response = client.get("/api/v1/counts", query_string=[("site", "test-site")] + [("url", u) for u in sent])
    assert response.status_code == 200
    assert response.json == {"counts": {sent[0]: 2, sent[1]: 1, sent[2]: 0}}


def test_counts_are_cacheable_like_the_list(app, client, site, drain, staff):
    publish(app, client, drain, staff)
    query = {"site": "test-site", "url": ARTICLE}
    response = client.get("/api/v1/counts", query_string=query, headers={"Origin": ORIGIN})
    reference = listed(client)
    assert response.headers["Cache-Control"] == reference.headers["Cache-Control"]
    assert response.headers["Cache-Control"].startswith("public, max-age=0, s-maxage=")
    assert "origin" in response.headers["Vary"].lower()
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    etag = response.headers["ETag"]
    assert etag.startswith("W/")
    again = client.get("/api/v1/counts", query_string=query, headers={"If-None-Match": etag})
    assert again.status_code == 304
    publish(app, client, drain, staff)  # a new published comment: a new answer
    fresh = client.get("/api/v1/counts", query_string=query, headers={"If-None-Match": etag})
    assert fresh.status_code == 200 and fresh.json["counts"][ARTICLE] == 2


def test_bad_counts_queries_are_400_with_field_errors(client, site):
    response = client.get("/api/v1/counts", query_string={"site": "test-site"})
    assert response.status_code == 400 and "url" in response.json["fields"]
    too_many = [("site", "test-site")] + [("url", f"{ORIGIN}/a/{n}") for n in range(COUNTS_URLS_MAX + 1)]
    response = client.get("/api/v1/counts", query_string=too_many)
    assert response.status_code == 400
    assert response.json["fields"]["url"] == f"url must be at most {COUNTS_URLS_MAX} URLs"
    assert client.get("/api/v1/counts", query_string=too_many[:-1]).status_code == 200
    response = client.get("/api/v1/counts", query_string={"site": "test-site", "url": "ftp://x"})
    assert response.status_code == 400 and "url" in response.json["fields"]
    response = client.get("/api/v1/counts", query_string={"url": ARTICLE})
    assert response.status_code == 400 and "site" in response.json["fields"]
    response = client.get("/api/v1/counts", query_string={"site": "nope", "url": ARTICLE})
    assert response.status_code == 403 and response.json["error"] == "unknown_site"


# -- votes ----------------------------------------------------------------------------------

def test_a_vote_is_once_per_reader_and_a_second_replaces_the_first(app, client, site, drain, staff):
    set_site_settings(app, site.id, dislikes=True)
    (comment_id,) = publish(app, client, drain, staff)
    assert vote(client, comment_id, 1).status_code == 202
    assert vote(client, comment_id, 1).status_code == 202  # the same again: no-op
    assert vote(client, comment_id, 1, address="10.0.0.2").status_code == 202
    drain()
    item = listed(client).json["comments"][0]
    assert (item["likes"], item["dislikes"]) == (2, 0)
    assert vote(client, comment_id, -1).status_code == 202  # replaces the like
    drain()
    item = listed(client).json["comments"][0]
    assert (item["likes"], item["dislikes"]) == (1, 1)
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(CommentVote)).scalar_one() == 2


def test_votes_change_the_list_etag(app, client, site, drain, staff):
    (comment_id,) = publish(app, client, drain, staff)
    etag = listed(client).headers["ETag"]
    assert vote(client, comment_id, 1).status_code == 202
    drain()
    fresh = client.get("/api/v1/comments", query_string={"site": "test-site", "url": ARTICLE},
                       headers={"If-None-Match": etag})
    assert fresh.status_code == 200 and fresh.json["comments"][0]["likes"] == 1


def test_dislikes_are_refused_where_the_site_has_them_off(app, client, site, drain, staff):
    (comment_id,) = publish(app, client, drain, staff)
    response = vote(client, comment_id, -1)
    assert response.status_code == 400 and "value" in response.json["fields"]
    for bad in (0, 2, True, "1", None):
        response = client.post(f"/api/v1/comments/{comment_id}/votes",
                               json={"site": "test-site", "value": bad, "client_id": new_client_id()})
        assert response.status_code == 400 and "value" in response.json["fields"], bad
    assert listed(client).json["site"]["dislikes"] is False


def test_no_vote_on_unpublished_or_unknown_comments(app, client, site, drain):
    payload = comment_payload()
    assert client.post("/api/v1/comments", json=payload).status_code == 202
    drain()
    with app.app_context():
        pending_id = db.session.execute(sa.select(Comment.id)).scalar_one()
    assert vote(client, pending_id, 1).status_code == 404
    assert vote(client, 999999, 1).status_code == 404
    assert vote(client, pending_id, 1, site="nope").status_code == 403


def test_votes_count_against_the_readers_flag_limit(app, make_app, client, site, drain, staff):
    (comment_id,) = publish(app, client, drain, staff)
    limited = make_app(RATELIMIT_FLAGS="2/minute").test_client()  # the same database and Redis
    flag = limited.post(f"/api/v1/comments/{comment_id}/flags",
                        json={"site": "test-site", "client_id": new_client_id()}, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert flag.status_code == 202
    assert vote(limited, comment_id, 1, address="10.0.0.9").status_code == 202
    response = vote(limited, comment_id, 1, address="10.0.0.9")
    assert response.status_code == 429 and response.json["error"] == "rate_limited"
    assert int(response.headers["Retry-After"]) >= 1
    assert vote(limited, comment_id, 1, address="10.0.0.8").status_code == 202  # another reader


# -- order ----------------------------------------------------------------------------------

def ids(response):
    return [item["id"] for item in response.json["comments"]]


def test_each_order_with_featured_first(app, client, site, drain, staff):
    first, second, third = publish(app, client, drain, staff, count=3)
    for address in ("10.0.0.1", "10.0.0.2"):
        assert vote(client, second, 1, address=address).status_code == 202
    assert vote(client, third, 1).status_code == 202
    drain()
    assert ids(listed(client)) == [first, second, third]  # the default: oldest
    assert ids(listed(client, sort="oldest")) == [first, second, third]
    assert ids(listed(client, sort="newest")) == [third, second, first]
    assert ids(listed(client, sort="best")) == [second, third, first]
    with app.app_context():
        db.session.get(Comment, third).featured = True
        db.session.get(Comment, third).page.bump()
        db.session.commit()
    assert ids(listed(client)) == [third, first, second]
    assert ids(listed(client, sort="newest")) == [third, second, first]
    assert ids(listed(client, sort="best")) == [third, second, first]
    assert listed(client).json["comments"][0]["featured"] is True


def test_pages_follow_the_order(app, client, site, drain, staff):
    comments = publish(app, client, drain, staff, count=5)
    assert vote(client, comments[3], 1).status_code == 202
    drain()
    with app.app_context():
        db.session.get(Comment, comments[1]).featured = True
        db.session.get(Comment, comments[1]).page.bump()
        db.session.commit()
    for sort, expected in (("oldest", [1, 0, 2, 3, 4]), ("newest", [1, 4, 3, 2, 0]), ("best", [1, 3, 0, 2, 4])):
        seen, after = [], None
        while True:
            page = listed(client, sort=sort, limit=2, **({"after": after} if after else {}))
            seen += ids(page)
            after = page.json["next"]
            if after is None:
                break
        assert seen == [comments[i] for i in expected], sort


def test_the_site_default_order_and_the_etag_name_the_order(app, client, site, drain, staff):
    first, second = publish(app, client, drain, staff, count=2)
    oldest = listed(client)
    assert oldest.json["site"]["default_sort"] == "oldest"
    newest = listed(client, sort="newest")
    assert newest.headers["ETag"] != oldest.headers["ETag"]
    set_site_settings(app, site.id, default_sort="newest")
    answer = listed(client)
    assert ids(answer) == [second, first] and answer.json["site"]["default_sort"] == "newest"


def test_a_bad_order_is_400(client, site):
    response = client.get("/api/v1/comments", query_string={"site": "test-site", "url": ARTICLE, "sort": "top"})
    assert response.status_code == 400 and "sort" in response.json["fields"]
