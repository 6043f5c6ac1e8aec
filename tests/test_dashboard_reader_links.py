"""Click an author anywhere → the reader panel: the error report's readers, a comment's flaggers,
the conversation, the comment page (its parent's author too) and the audit log link each known
reader to /dashboard/readers/<id>; the focused item's first link is `data-reader` (the `b` key).

Through the real reader API and RQ worker, with signed-in (SSO) readers, so every link is a person.
"""
import re

import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.identity import sso
from moderation.models import Comment, CommentFlag, Reader, ReportCluster, TypoReport

from support.payloads import comment_payload, new_client_id, report_payload
from support.sso import sso_token


@pytest.fixture
def secret(app, secret):
    """conftest's secret, with the reader rate limits off (many submissions from one address)."""
    app.config["RATELIMIT_ENABLED"] = False
    return secret


def signed_in(secret, user_id, name):
    return sso_token(secret, user={"id": user_id, "username": name})


def send(client, path, payload, token):
    response = client.post(path, json=dict(payload, sso=token))
    assert response.status_code == 202, response.json
    return payload["client_id"]


def reader_id(app, user_id, site_id):
    with app.app_context():
        return db.session.execute(sa.select(Reader.id).where(
            Reader.key == sso.reader_key(site_id, user_id))).scalar_one()


def links(html):
    """{reader id: [the attributes after the href]} of every reader-panel link on a page."""
    found = {}
    for rid, rest in re.findall(r'href="/dashboard/readers/(\d+)"([^>]*)>', html):
        found.setdefault(int(rid), []).append(rest.strip())
    return found


def test_an_error_reports_readers_link_to_their_panels(app, client, auth, site, secret, drain):
    send(client, "/api/v1/reports", report_payload(), signed_in(secret, "u-1", "Анна"))
    send(client, "/api/v1/reports", report_payload(suggestion="объявил!"), signed_in(secret, "u-2", "Борис"))
    client.post("/api/v1/reports", json=report_payload())  # anonymous: issued a reader with no name
    drain()
    with app.app_context():
        cluster_id = db.session.execute(sa.select(ReportCluster.id)).scalar_one()
        anonymous = db.session.execute(sa.select(TypoReport.reader_id).where(TypoReport.reader_id.not_in(
            [reader_id(app, "u-1", site.id), reader_id(app, "u-2", site.id)]))).scalar_one()
        # A report from before readers (or whose reader was erased) has no link.
        db.session.add(TypoReport(site_id=site.id, page_id=db.session.get(ReportCluster, cluster_id).page_id,
                                  exact="обьявил", cluster_id=cluster_id, client_id=new_client_id()))
        db.session.commit()
    a, b = reader_id(app, "u-1", site.id), reader_id(app, "u-2", site.id)
    auth.login(role="editor")
    queue = client.get("/dashboard/reports").get_data(as_text=True)
    found = links(queue)
    assert set(found) == {a, b, anonymous}
    # In the queue item the first known reader is the one `b` opens; the others are plain links.
    assert found[a] == ['data-reader']
    assert found[b] == found[anonymous] == ['']
    assert ">Анна</a>" in queue and ">Борис</a>" in queue and f">reader #{anonymous}</a>" in queue
    detail = client.get(f"/dashboard/reports/{cluster_id}").get_data(as_text=True)
    # The item at the top, then the table of its four reports: three with a reader.
    assert {rid: len(attrs) for rid, attrs in links(detail).items()} == {a: 2, b: 2, anonymous: 2}
    assert detail.count("<tr><td>") == 4 and "data-reader" in links(detail)[a][0]


def test_flaggers_conversation_comment_page_and_audit_link_the_reader(app, client, auth, staff, site,
                                                                     secret, drain):
    anna = signed_in(secret, "u-1", "Анна")
    boris = signed_in(secret, "u-2", "Борис")
    vera = signed_in(secret, "u-3", "Вера")
    top = send(client, "/api/v1/comments", comment_payload(), anna)
    drain()
    with app.app_context():
        top_id = db.session.execute(sa.select(Comment.id).where(Comment.client_id == top)).scalar_one()
    headers = staff.headers("moderator")
    assert client.post(f"/api/v1/moderation/comments/{top_id}/approve", headers=headers).status_code == 200
    reply = send(client, "/api/v1/comments", comment_payload(parent=top_id, body="Не согласен."), boris)
    flag = {"site": "test-site", "reason": "spam", "client_id": new_client_id()}
    send(client, f"/api/v1/comments/{top_id}/flags", flag, vera)
    drain()
    with app.app_context():
        reply_id = db.session.execute(sa.select(Comment.id).where(Comment.client_id == reply)).scalar_one()
        assert db.session.execute(sa.select(CommentFlag.reader_id)).scalar_one() is not None
    a, b, v = (reader_id(app, u, site.id) for u in ("u-1", "u-2", "u-3"))
    auth.login(role="moderator")

    page = client.get(f"/dashboard/comments/{top_id}").get_data(as_text=True)
    found = links(page)
    assert "data-reader" in found[a][0]  # the comment's author, `b` on the item
    assert v in found and all("data-reader" not in attrs for attrs in found[v])  # the flagger
    assert re.search(r'<section class="flags">.*?>Вера</a>.*?</section>', page, re.S)

    # The reply's page: its own author opens with `b`; the parent's author is a plain link.
    page = client.get(f"/dashboard/comments/{reply_id}").get_data(as_text=True)
    found = links(page)
    assert "data-reader" in found[b][0]
    assert found[a] == ['data-parent-reader']

    # The conversation: every comment of the thread links its author.
    page = client.get(f"/dashboard/comments/{reply_id}/conversation").get_data(as_text=True)
    assert {a, b} <= set(links(page))

    # The audit log names the reader a moderator banned, with a link.
    auth_csrf = auth.csrf("/dashboard/audit")
    assert client.post(f"/dashboard/readers/{v}/ban", data={"csrf_token": auth_csrf, "days": "1"}).status_code == 302
    audit = client.get("/dashboard/audit").get_data(as_text=True)
    assert re.search(rf'href="/dashboard/readers/{v}" data-reader>Вера</a>', audit)


@pytest.mark.browser
def test_b_on_a_focused_error_report_opens_its_readers_panel(app, live_server, new_page, auth, drain):
    from support.browser import sign_in  # noqa: PLC0415 - Chromium only for this test

    app.config["RATELIMIT_ENABLED"] = False
    response = app.test_client().post("/api/v1/reports", json=report_payload(site="demo", url=live_server + "/demo"),
                                      headers={"Origin": live_server})
    assert response.status_code == 202, response.json
    drain()
    with app.app_context():
        reporter = db.session.execute(sa.select(TypoReport.reader_id)).scalar_one()
    assert reporter is not None
    page = new_page()
    sign_in(page, live_server, auth.create("editor"))
    page.goto(live_server + "/dashboard/reports")
    assert page.evaluate("document.activeElement.classList.contains('item')")
    page.keyboard.press("b")
    page.wait_for_url(f"**/dashboard/readers/{reporter}")
    assert page.errors == []
