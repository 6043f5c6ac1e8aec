"""The public reader API: submitting reports and comments, reading comments, tracking status."""
import json

import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import Comment, TypoReport

from support.payloads import ARTICLE, ORIGIN, comment_payload, new_client_id, report_payload

OTHER_ARTICLE = ORIGIN + "/2026/11/bridge"


def rows(app, model, client_id):
    """Plain (id, status, parent_id) tuples of the rows with this client_id."""
    with app.app_context():
        found = db.session.execute(sa.select(model).where(model.client_id == client_id)).scalars()
        return [(r.id, r.status, getattr(r, "parent_id", None)) for r in found]


def comment_id(app, client_id):
    [(row_id, _, _)] = rows(app, Comment, client_id)
    return row_id


def status(client, client_id, site="test-site"):
    response = client.get(f"/api/v1/submissions/{client_id}", query_string={"site": site})
    assert response.status_code == 200, response.json
    assert response.json["id"] == client_id
    return response.json["status"]


def listing(client, site="test-site", url=ARTICLE, **params):
    response = client.get("/api/v1/comments", query_string=dict(site=site, url=url, **params))
    assert response.status_code == 200, response.json
    return response.json


def post_as_browser(client, path, payload):
    """JSON as a browser's JSON.stringify sends it: UTF-8, non-ASCII not escaped."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return client.post(path, data=body, content_type="application/json")


@pytest.fixture
def approve(client, staff):
    headers = staff.headers("editor")

    def run(app, client_id):
        response = client.post(
            f"/api/v1/moderation/comments/{comment_id(app, client_id)}/approve", headers=headers
        )
        assert response.status_code == 200, response.json

    return run


@pytest.fixture
def publish(app, client, drain, approve):
    """Submit a comment on the pre-moderated site, persist it, approve it; returns its row id."""

    def run(**overrides):
        payload = comment_payload(**overrides)
        assert client.post("/api/v1/comments", json=payload).status_code == 202
        drain()
        approve(app, payload["client_id"])
        return comment_id(app, payload["client_id"])

    return run


@pytest.fixture
def relaxed_limits(app):
    """Tests that submit many comments from one address are not about rate limits."""
    app.config["RATELIMIT_COMMENTS"] = "1000/minute"


# -- POST success and idempotency --------------------------------------------------

@pytest.mark.parametrize(
    "path, make", [("/api/v1/reports", report_payload), ("/api/v1/comments", comment_payload)]
)
def test_submission_is_accepted_and_queued(client, site, path, make):
    payload = make()
    response = client.post(path, json=payload)
    assert response.status_code == 202
    # and a new anonymous reader id to keep (docs/identity.md; tests/test_api_reader_identity.py)
    assert response.json == {"id": payload["client_id"], "status": "queued", "reader": response.json["reader"]}


@pytest.mark.parametrize(
    "path, make, model",
    [("/api/v1/reports", report_payload, TypoReport), ("/api/v1/comments", comment_payload, Comment)],
)
def test_same_client_id_twice_is_one_row(app, client, site, drain, path, make, model):
    payload = make()
    first = client.post(path, json=payload)
    retry = client.post(path, json=payload)
    assert first.status_code == retry.status_code == 202
    assert retry.json == {"id": payload["client_id"], "status": "queued"}
    drain()
    assert len(rows(app, model, payload["client_id"])) == 1


def test_retry_after_persisting_is_still_one_row(app, client, site, drain):
    payload = comment_payload()
    assert client.post("/api/v1/comments", json=payload).status_code == 202
    drain()
    assert client.post("/api/v1/comments", json=payload).status_code == 202
    drain()
    assert len(rows(app, Comment, payload["client_id"])) == 1


def test_unknown_fields_are_ignored(app, client, site, drain):
    payload = comment_payload(widget_version="9.9", rating=5, nested={"a": [1, 2]})
    response = client.post("/api/v1/comments", json=payload)
    assert response.status_code == 202, response.json
    drain()
    assert rows(app, Comment, payload["client_id"])[0][1] == "pending"


# -- POST validation ----------------------------------------------------------------

def _without(make, field):
    payload = make()
    del payload[field]
    return payload


REPORT_ERRORS = [
    (_without(report_payload, "exact"), "exact"),
    (report_payload(exact=""), "exact"),
    (report_payload(exact="я" * 301), "exact"),
    (report_payload(prefix="п" * 65), "prefix"),
    (report_payload(suffix="с" * 65), "suffix"),
    (report_payload(comment="к" * 1001), "comment"),
    (report_payload(kind="opinion"), "kind"),
    (report_payload(client_id="short"), "client_id"),
    (_without(report_payload, "url"), "url"),
    (report_payload(url="ftp://news.example/a"), "url"),
    (_without(report_payload, "site"), "site"),
]

COMMENT_ERRORS = [
    (comment_payload(author=""), "author"),
    (comment_payload(author="а" * 81), "author"),
    (_without(comment_payload, "author"), "author"),
    (comment_payload(body=""), "body"),
    (comment_payload(body="b" * 5001), "body"),
    (comment_payload(email="anna-at-mail"), "email"),
    (comment_payload(parent="first"), "parent"),
    (comment_payload(parent=0), "parent"),
    (comment_payload(client_id="not a uuid!"), "client_id"),
    (_without(comment_payload, "client_id"), "client_id"),
    (comment_payload(url="not a url"), "url"),
    (comment_payload(url="javascript:alert(1)"), "url"),
]


@pytest.mark.parametrize(
    "path, payload, field",
    [("/api/v1/reports", p, f) for p, f in REPORT_ERRORS]
    + [("/api/v1/comments", p, f) for p, f in COMMENT_ERRORS],
)
def test_invalid_field_is_named(client, site, path, payload, field):
    response = client.post(path, json=payload)
    assert response.status_code == 400
    assert response.json["error"] == "bad_request"
    assert set(response.json["fields"]) == {field}
    assert isinstance(response.json["fields"][field], str)


def test_limits_are_inclusive_over_http(client, site):
    report = report_payload(exact="я" * 300, prefix="п" * 64, suffix="с" * 64, comment="к" * 1000)
    assert post_as_browser(client, "/api/v1/reports", report).status_code == 202
    comment = comment_payload(author="а" * 80, body="б" * 5000)
    assert post_as_browser(client, "/api/v1/comments", comment).status_code == 202


@pytest.mark.parametrize(
    "url",
    [
        "https://elsewhere.example/2026/11/tram-line",
        "https://news.example.evil.com/2026/11/tram-line",
        "http://news.example/2026/11/tram-line",
    ],
)
@pytest.mark.parametrize("path, make", [("/api/v1/reports", report_payload), ("/api/v1/comments", comment_payload)])
def test_url_must_be_on_the_sites_origins(client, site, path, make, url):
    response = client.post(path, json=make(url=url))
    assert response.status_code == 400
    assert set(response.json["fields"]) == {"url"}


@pytest.mark.parametrize("path, make", [("/api/v1/reports", report_payload), ("/api/v1/comments", comment_payload)])
def test_unknown_site_is_forbidden(client, site, path, make):
    response = client.post(path, json=make(site="no-such-site"))
    assert response.status_code == 403
    assert response.json["error"] == "unknown_site"


def test_invalid_submission_is_not_queued(client, site):
    payload = comment_payload(body="")
    assert client.post("/api/v1/comments", json=payload).status_code == 400
    assert client.get(f"/api/v1/submissions/{payload['client_id']}", query_string={"site": "test-site"}).status_code == 404


# -- honeypot -------------------------------------------------------------------------

def test_honeypot_is_accepted_then_filed_as_spam(app, client, site, drain):
    payload = comment_payload(hp="http://cheap-pills.example")
    response = client.post("/api/v1/comments", json=payload)
    assert response.status_code == 202
    assert response.json == {"id": payload["client_id"], "status": "queued", "reader": response.json["reader"]}
    drain()
    assert [s for _, s, _ in rows(app, Comment, payload["client_id"])] == ["spam"]
    assert status(client, payload["client_id"]) == "pending"  # the bot learns nothing
    assert listing(client)["total"] == 0


def test_honeypot_on_post_moderated_site_is_not_published(app, client, post_site, drain):
    payload = comment_payload(site="post-site", hp="x")
    assert client.post("/api/v1/comments", json=payload).status_code == 202
    drain()
    assert [s for _, s, _ in rows(app, Comment, payload["client_id"])] == ["spam"]
    assert listing(client, site="post-site")["total"] == 0


# -- GET /api/v1/submissions/<client_id> ------------------------------------------------

def test_comment_status_follows_the_submission(app, client, site, drain, approve):
    payload = comment_payload()
    client.post("/api/v1/comments", json=payload)
    assert status(client, payload["client_id"]) == "queued"
    drain()
    assert status(client, payload["client_id"]) == "pending"
    approve(app, payload["client_id"])
    assert status(client, payload["client_id"]) == "published"


def test_report_status_follows_the_submission(client, site, drain):
    payload = report_payload()
    client.post("/api/v1/reports", json=payload)
    assert status(client, payload["client_id"]) == "queued"
    drain()
    assert status(client, payload["client_id"]) == "pending"


def test_unknown_submission_is_404(client, site):
    response = client.get(f"/api/v1/submissions/{new_client_id()}", query_string={"site": "test-site"})
    assert response.status_code == 404
    assert response.json["error"] == "not_found"


@pytest.mark.parametrize("bad", ["short", "has%20space1", "-leading-dash", "x" * 65])
def test_malformed_submission_id_is_400(client, bad):
    response = client.get(f"/api/v1/submissions/{bad}", query_string={"site": "test-site"})
    assert response.status_code == 400
    assert set(response.json["fields"]) == {"client_id"}


def test_post_moderated_comment_is_published_after_drain(app, client, post_site, drain):
    payload = comment_payload(site="post-site", body="Сразу видно")
    assert client.post("/api/v1/comments", json=payload).status_code == 202
    assert status(client, payload["client_id"], "post-site") == "queued"
    assert listing(client, site="post-site")["total"] == 0
    drain()
    assert status(client, payload["client_id"], "post-site") == "published"
    listed = listing(client, site="post-site")
    assert listed["total"] == 1
    assert listed["comments"][0]["body_html"] == "<p>Сразу видно</p>"


# -- GET /api/v1/comments ---------------------------------------------------------------

def test_empty_article_lists_nothing(client, site):
    assert listing(client) == {"comments": [], "total": 0, "next": None,
                               "site": {"sso_required": False, "sso_login_url": None, "edit_minutes": 10,
                                        "dislikes": False, "default_sort": "oldest"}}


def test_published_comment_shows_only_public_fields(client, site, publish):
    row_id = publish(author="Анна", email="anna@mail.example", body="**Да** <b>x</b>\n\nhttps://example.org")
    [comment] = listing(client)["comments"]
    assert set(comment) == {"id", "parent", "author", "body_html", "created_at", "edited_at", "verified",
                            "deleted", "likes", "dislikes", "featured", "replies", "replies_total", "replies_next"}
    assert (comment["verified"], comment["deleted"], comment["edited_at"]) == (False, False, None)
    assert comment["id"] == row_id
    assert comment["author"] == "Анна"
    assert comment["parent"] is None
    # Typed tags are shown as text (escaped); the comment markup (**bold**) and links are rendered.
    assert comment["body_html"].startswith(
        "<p><strong>Да</strong> &lt;b&gt;x&lt;/b&gt;</p><p><a href=\"https://example.org\"")
    assert "anna@mail.example" not in str(listing(client))


def test_comments_are_listed_per_article(client, site, publish):
    publish(url=ARTICLE)
    publish(url=OTHER_ARTICLE)
    assert listing(client, url=ARTICLE)["total"] == 1
    assert listing(client, url=OTHER_ARTICLE)["total"] == 1
    # the same article under a tracking URL is the same page
    assert listing(client, url=ARTICLE + "?utm_source=tg#comments")["total"] == 1


def test_replies_are_threaded_under_their_root(app, client, site, drain, approve, publish):
    root = publish(body="Корень")
    reply = comment_payload(body="Ответ", parent=root)
    client.post("/api/v1/comments", json=reply)
    drain()
    # a pending reply is not shown yet
    assert listing(client)["comments"][0]["replies"] == []
    approve(app, reply["client_id"])
    reply_id = comment_id(app, reply["client_id"])
    nested = publish(body="Ответ на ответ", parent=reply_id)

    listed = listing(client)
    assert listed["total"] == 3
    [thread] = listed["comments"]
    assert thread["id"] == root
    assert [(r["id"], r["parent"]) for r in thread["replies"]] == [(reply_id, root), (nested, reply_id)]
    assert all("replies" not in r for r in thread["replies"])


def test_reply_to_a_comment_on_another_article_becomes_top_level(client, site, publish):
    elsewhere = publish(url=OTHER_ARTICLE)
    mine = publish(url=ARTICLE, parent=elsewhere)
    [comment] = listing(client, url=ARTICLE)["comments"]
    assert (comment["id"], comment["parent"]) == (mine, None)


def test_pagination_by_top_level_comments(client, post_site, drain, relaxed_limits):
    for n in range(5):
        # Distinct readers: five comments a minute from one address are held (screening).
        client.post("/api/v1/comments", json=comment_payload(site="post-site", body=f"#{n}"),
                    environ_base={"REMOTE_ADDR": f"10.5.0.{n}"})
    drain()

    seen, after, pages = [], None, 0
    while True:
        params = {"limit": 2} if after is None else {"limit": 2, "after": after}
        page = listing(client, site="post-site", **params)
        pages += 1
        assert page["total"] == 5
        assert len(page["comments"]) <= 2
        seen += [c["body_html"] for c in page["comments"]]
        after = page["next"]
        if after is None:
            break
        assert after == page["comments"][-1]["id"]
    assert pages == 3
    assert seen == [f"<p>#{n}</p>" for n in range(5)]


def test_last_full_page_has_no_next(client, post_site, drain):
    for n in range(2):
        client.post("/api/v1/comments", json=comment_payload(site="post-site", body=f"#{n}"))
    drain()
    page = listing(client, site="post-site", limit=2)
    assert len(page["comments"]) == 2
    assert page["next"] is None


@pytest.mark.parametrize(
    "params, field",
    [
        ({"site": "test-site"}, "url"),
        ({"url": ARTICLE}, "site"),
        ({"site": "test-site", "url": "ftp://news.example/a"}, "url"),
        ({"site": "test-site", "url": ARTICLE, "limit": 201}, "limit"),
        ({"site": "test-site", "url": ARTICLE, "after": "abc"}, "after"),
        ({"site": "test-site", "url": ARTICLE, "after": -1}, "after"),
    ],
)
def test_list_parameters_are_validated(client, site, params, field):
    response = client.get("/api/v1/comments", query_string=params)
    assert response.status_code == 400
    assert set(response.json["fields"]) == {field}


def test_list_for_unknown_site_is_forbidden(client, site):
    response = client.get("/api/v1/comments", query_string={"site": "nope", "url": ARTICLE})
    assert response.status_code == 403


def test_etag_revalidation(app, client, site, drain, approve, publish):
    publish()
    query = {"site": "test-site", "url": ARTICLE}
    first = client.get("/api/v1/comments", query_string=query)
    etag = first.headers["ETag"]
    assert etag
    # Browsers revalidate every poll; shared caches keep it briefly (tests/test_api_cache_headers.py).
    assert first.headers["Cache-Control"].startswith("public, max-age=0, s-maxage=")

    cached = client.get("/api/v1/comments", query_string=query, headers={"If-None-Match": etag})
    assert cached.status_code == 304
    assert cached.data == b""
    assert cached.headers["ETag"] == etag

    # a new comment that is still pending changes nothing readers see
    pending = comment_payload()
    client.post("/api/v1/comments", json=pending)
    drain()
    still = client.get("/api/v1/comments", query_string=query, headers={"If-None-Match": etag})
    assert still.status_code == 304

    approve(app, pending["client_id"])
    fresh = client.get("/api/v1/comments", query_string=query, headers={"If-None-Match": etag})
    assert fresh.status_code == 200
    assert fresh.headers["ETag"] != etag
    assert fresh.json["total"] == 2


def test_etag_differs_per_page_of_results(client, site, publish):
    publish()
    query = {"site": "test-site", "url": ARTICLE}
    full = client.get("/api/v1/comments", query_string=query).headers["ETag"]
    paged = client.get("/api/v1/comments", query_string=dict(query, limit=1))
    assert paged.headers["ETag"] != full
    again = client.get("/api/v1/comments", query_string=dict(query, limit=1), headers={"If-None-Match": full})
    assert again.status_code == 200


# -- client_ids are unique per site, not globally ------------------------------------------

def test_the_same_client_id_on_two_sites_is_two_submissions_each_stored(app, client, site, post_site, drain):
    shared = new_client_id()
    for kind, payload in (("comments", comment_payload), ("reports", report_payload)):
        ids = new_client_id() if kind == "reports" else shared
        for key in ("test-site", "post-site"):
            assert client.post(f"/api/v1/{kind}", json=payload(site=key, client_id=ids)).status_code == 202
        assert client.post(f"/api/v1/{kind}", json=payload(site="post-site", client_id=ids)).status_code == 202
        assert app.broker.inbox_length() == 2  # the retry on one site is still one submission
        assert status(client, ids, "test-site") == status(client, ids, "post-site") == "queued"
        drain()
        model = Comment if kind == "comments" else TypoReport
        with app.app_context():
            stored = db.session.execute(sa.select(model.site_id).where(model.client_id == ids)).scalars().all()
        assert sorted(stored) == sorted([site.id, post_site.id])  # was one row: the other dropped after a 202
    # Each site answers for its own: pending (pre-moderated) here, published there.
    assert status(client, shared, "test-site") == "pending"
    assert status(client, shared, "post-site") == "published"


def test_a_status_lookup_needs_the_site_and_sees_only_that_site(client, site, post_site, drain):
    payload = comment_payload(site="post-site")
    client.post("/api/v1/comments", json=payload)
    drain()
    response = client.get(f"/api/v1/submissions/{payload['client_id']}")
    assert response.status_code == 400 and set(response.json["fields"]) == {"site"}
    assert client.get(f"/api/v1/submissions/{payload['client_id']}",
                      query_string={"site": "test-site"}).status_code == 404
    assert status(client, payload["client_id"], "post-site") == "published"
    assert client.get(f"/api/v1/submissions/{payload['client_id']}",
                      query_string={"site": "nope"}).status_code == 403


def test_the_same_flag_client_id_on_two_sites_flags_both(app, client, site, post_site, drain, publish):
    from moderation.models import CommentFlag  # noqa: PLC0415

    here = publish()
    there = comment_payload(site="post-site")
    client.post("/api/v1/comments", json=there)
    drain()
    there_id = comment_id(app, there["client_id"])
    flag = new_client_id()
    for key, target in (("test-site", here), ("post-site", there_id)):
        response = client.post(f"/api/v1/comments/{target}/flags",
                               json={"site": key, "reason": "spam", "client_id": flag})
        assert response.status_code == 202
    drain()
    with app.app_context():
        flagged = db.session.execute(sa.select(CommentFlag.comment_id).where(CommentFlag.client_id == flag))
        assert sorted(flagged.scalars()) == sorted([here, there_id])


def test_readers_cannot_send_the_ids_imports_use():
    from moderation.validators import internal_client_id, validate_client_id  # noqa: PLC0415

    for parts in (("import", "disqus", "123456789"), ("import", "isso", "x" * 80)):
        made = internal_client_id(*parts)
        assert len(made) <= 64 and validate_client_id(made)[0] is False
