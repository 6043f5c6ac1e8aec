"""Surge mode (screening step 8): an article flooded with comments or spam is pre-moderated
by itself, the dashboard shows it, and it switches back after a quiet period."""
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import Comment, Page, Site

from support.payloads import ARTICLE, comment_payload

OTHER_ARTICLE = ARTICLE + "-other"


def post(client, n, url=ARTICLE, body=None, prefix="s"):
    """n comments from n different readers (no velocity hold), queued but not yet drained."""
    ids = []
    for i in range(n):
        payload = comment_payload(site="post-site", url=url, body=body or f"Comment {prefix}{i} about the tram line")
        response = client.post("/api/v1/comments", json=payload, environ_base={"REMOTE_ADDR": f"10.9.{i // 200}.{i % 200 + 1}"})
        assert response.status_code == 202, response.json
        ids.append(payload["client_id"])
    return ids


def statuses(app, client_ids):
    with app.app_context():
        rows = db.session.execute(
            sa.select(Comment.client_id, Comment.status, Comment.spam_reasons).where(Comment.client_id.in_(client_ids))
        ).all()
    by_id = {row.client_id: (row.status, list(row.spam_reasons or [])) for row in rows}
    return [by_id[cid] for cid in client_ids]


def configure(app, site_id, **settings):
    with app.app_context():
        site = db.session.get(Site, site_id)
        site.settings = dict(site.settings or {}, **settings)
        db.session.commit()


def page_of(app, url=ARTICLE):
    with app.app_context():
        page = db.session.execute(sa.select(Page).where(Page.url == url)).scalar_one()
        db.session.expunge(page)
        return page


def test_a_burst_of_comments_switches_the_article_to_pre_moderation(app, client, post_site, drain):
    configure(app, post_site.id, surge_comments=5, surge_window_minutes=10, surge_quiet_minutes=30)
    ids = post(client, 7)
    post(client, 2, url=OTHER_ARTICLE, prefix="o")
    drain()
    result = statuses(app, ids)
    # The first four are published as usual on this post-moderated site; the fifth trips the surge.
    assert [s for s, _ in result[:4]] == ["approved"] * 4
    assert [s for s, _ in result[4:]] == ["pending"] * 3
    assert result[4][1] == ["surge: 5 comments on this article within 10 min (pre-moderated for now)"]
    page = page_of(app)
    assert page.surge_until is not None and page.surge_reason == "surge: 7 comments on this article within 10 min"
    # Only that article: the other one stays post-moderated.
    assert page_of(app, OTHER_ARTICLE).surge_until is None


def test_surge_ends_after_the_quiet_period(app, client, post_site, drain):
    configure(app, post_site.id, surge_comments=3, surge_quiet_minutes=30)
    post(client, 3)
    drain()
    with app.app_context():
        page = db.session.execute(sa.select(Page).where(Page.url == ARTICLE)).scalar_one()
        # Quiet for longer than the period: the comments are old and the surge is over.
        past = datetime.now(timezone.utc) - timedelta(minutes=45)
        page.surge_until = past + timedelta(minutes=30)
        db.session.execute(sa.update(Comment).values(created_at=past))
        db.session.commit()
    later = post(client, 1, prefix="late")
    drain()
    assert statuses(app, later) == [("approved", [])]


def test_a_wave_of_spam_switches_the_article_even_at_a_low_rate(app, client, post_site, drain):
    configure(app, post_site.id, surge_comments=1000, surge_min_comments=4, surge_spam_share=0.5)
    spam = post(client, 3, body="Лучшее КАЗИНО онлайн, заходите")  # banned word: spam
    drain()
    assert [s for s, _ in statuses(app, spam)] == ["spam"] * 3
    ham = post(client, 1, prefix="after")
    drain()
    status, reasons = statuses(app, ham)[0]
    assert status == "pending"
    assert reasons == ["surge: 3 of 4 comments on this article within 10 min were spam or rejected (pre-moderated for now)"]


def test_surge_off_when_the_setting_is_zero(app, client, post_site, drain):
    configure(app, post_site.id, surge_comments=0)
    ids = post(client, 12)
    drain()
    assert {s for s, _ in statuses(app, ids)} == {"approved"}
    assert page_of(app).surge_until is None


def test_dashboard_shows_the_surge_and_an_editor_can_end_it(app, client, post_site, drain, auth):
    configure(app, post_site.id, surge_comments=2)
    post(client, 2)
    drain()
    page = page_of(app)
    auth.login(role="editor")
    html = client.get("/dashboard/comments").get_data(as_text=True)
    assert "Surge mode:" in html and "surge: 2 comments on this article" in html
    path = f"/dashboard/pages/{page.id}/end-surge"
    assert client.post(path).status_code == 400  # no CSRF token
    response = client.post(path, data={"csrf_token": auth.csrf("/dashboard/comments")})
    assert response.status_code == 302
    assert page_of(app).surge_until is None
    client.get("/dashboard/comments")  # shows the flash message once
    assert "Surge mode:" not in client.get("/dashboard/comments").get_data(as_text=True)
    assert client.post("/dashboard/pages/999999/end-surge",
                       data={"csrf_token": auth.csrf("/dashboard/comments")}).status_code == 404


def test_a_surge_started_after_the_page_was_loaded_is_listed_with_its_end(app, client, post_site, drain):
    # The dashboard's comment queue loads each comment's page before it asks for the pages
    # in surge; on PostgreSQL (read committed) the worker can start a surge in between, and
    # the page came back with the surge_until it was first read with: None, a 500 in the
    # template. Here the page in the identity map holds that earlier read.
    from sqlalchemy.orm.attributes import set_committed_value
    from moderation.judgment.surge import active_surges

    configure(app, post_site.id, surge_comments=2)
    post(client, 2)
    drain()
    with app.app_context():
        page = db.session.execute(sa.select(Page).where(Page.url == ARTICLE)).scalar_one()
        assert page.surge_until is not None
        set_committed_value(page, "surge_until", None)  # as read before the worker's commit
        set_committed_value(page, "surge_reason", None)
        [listed] = active_surges(None, datetime.now(timezone.utc))
        assert listed is page and listed.surge_until is not None
        assert listed.surge_reason.startswith("surge: 2 comments")
