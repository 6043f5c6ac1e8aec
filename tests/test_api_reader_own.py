"""Readers' own comments: PATCH (edit within the window, re-screened, versions audited) and
DELETE (a tombstone keeps the thread), only by the comment's own reader."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.identity import anonymous, sso
from moderation.models import AuditEntry, Comment, Page
from moderation.models.base import utcnow
from moderation.models.sites import url_hash
from moderation.services import readers

from support.accounts import set_site_settings
from support.payloads import ARTICLE
from support.sso import sso_token
from support.database import recorded_statements

ORIGIN_HEADERS = {"Origin": "https://news.example"}


def _page(site_id):
    page = db.session.execute(sa.select(Page).where(Page.site_id == site_id)).scalar_one_or_none()
    if page is None:
        page = Page(site_id=site_id, url=ARTICLE, url_hash=url_hash(ARTICLE), title="Статья")
        db.session.add(page)
        db.session.flush()
    return page


def _comment(app, site_id, reader_key=None, sso_identity=None, status="approved", minutes_ago=1,
             body="Первый вариант", parent=None):
    """A stored comment of a reader (anonymous key or SSO identity). Returns its id."""
    with app.app_context():
        reader = None
        if sso_identity is not None:
            reader = readers.resolve_reader(site_id, sso=sso_identity)
        elif reader_key is not None:
            reader = readers.resolve_reader(site_id, anon_key=reader_key, name="Гость")
        page = _page(site_id)
        row = Comment(client_id=f"c-{utcnow().timestamp()}", site_id=site_id, page_id=page.id,
                      author=reader.display_name if reader else "Гость", body_raw=body, body_html=f"<p>{body}</p>",
                      status=status, reader_id=reader.id if reader else None, parent_id=parent, thread_id=parent,
                      created_at=utcnow() - timedelta(minutes=minutes_ago))
        db.session.add(row)
        db.session.commit()
        return row.id


@pytest.fixture
def anon_reader(app, site):
    with app.app_context():
        return anonymous.issue(site.id)  # (key, token)


def _patch(client, comment_id, body, **credentials):
    return client.patch(f"/api/v1/comments/{comment_id}", json={"site": "test-site", "body": body, **credentials},
                        headers=ORIGIN_HEADERS)


def _delete(client, comment_id, **credentials):
    return client.delete(f"/api/v1/comments/{comment_id}", json={"site": "test-site", **credentials},
                         headers=ORIGIN_HEADERS)


def _audit(app, comment_id):
    with app.app_context():
        return [(e.action, e.actor_label, e.before, e.after) for e in db.session.execute(
            sa.select(AuditEntry).where(AuditEntry.target_type == "comment", AuditEntry.target_id == comment_id)
            .order_by(AuditEntry.id)).scalars()]


def _row(app, comment_id):
    with app.app_context():
        row = db.session.get(Comment, comment_id)
        return {"status": row.status, "body_raw": row.body_raw, "body_html": row.body_html, "author": row.author,
                "edited_at": row.edited_at, "spam_reasons": row.spam_reasons}


def test_an_anonymous_reader_edits_their_comment_and_every_version_is_audited(app, client, site, anon_reader, drain):
    key, token = anon_reader
    cid = _comment(app, site.id, key, status="pending")
    first = _patch(client, cid, "Второй вариант", reader=token)
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["status"] == "pending"
    assert "Второй вариант" in first.get_json()["body_html"]
    assert _patch(client, cid, "Третий вариант", reader=token).status_code == 200
    row = _row(app, cid)
    assert row["body_raw"] == "Третий вариант" and row["edited_at"] is not None
    versions = _audit(app, cid)
    assert [(a, actor) for a, actor, _, _ in versions] == [("comment.reader_edit", "reader")] * 2
    assert [v[2]["body"] for v in versions] + [versions[-1][3]["body"]] == [
        "Первый вариант", "Второй вариант", "Третий вариант"]
    drain()  # the re-screen job ran: its reasons say it was edited
    assert "edited by its author" in _row(app, cid)["spam_reasons"]


def test_on_a_pre_moderated_site_an_edited_published_comment_goes_back_to_pending(app, client, site, anon_reader):
    key, token = anon_reader
    cid = _comment(app, site.id, key, status="approved")
    listed = client.get(f"/api/v1/comments?site=test-site&url={ARTICLE}").get_json()
    assert [c["id"] for c in listed["comments"]] == [cid]
    answer = _patch(client, cid, "Исправленный текст", reader=token)
    assert answer.status_code == 200 and answer.get_json()["status"] == "pending"
    assert _row(app, cid)["status"] == "pending"
    # Off the public list at once (the page's version changed: no cached copy shows the old text).
    assert client.get(f"/api/v1/comments?site=test-site&url={ARTICLE}").get_json()["comments"] == []


def test_on_a_post_moderated_site_an_edit_that_now_reads_as_spam_is_screened_out(app, client, post_site, drain):
    with app.app_context():
        key, token = anonymous.issue(post_site.id)
    cid = _comment(app, post_site.id, key, status="approved")
    answer = client.patch(f"/api/v1/comments/{cid}", headers=ORIGIN_HEADERS, json={
        "site": "post-site", "body": "Лучшее казино онлайн, ставки здесь", "reader": token})
    assert answer.status_code == 200 and answer.get_json()["status"] == "published"
    drain()
    row = _row(app, cid)
    assert row["status"] == "spam", row
    assert [a for a, *_ in _audit(app, cid)] == ["comment.reader_edit", "comment.rescreen"]


def test_edits_only_within_the_sites_window(app, client, site, anon_reader):
    key, token = anon_reader
    late = _comment(app, site.id, key, minutes_ago=11)
    refused = _patch(client, late, "Поздно", reader=token)
    assert refused.status_code == 403 and refused.get_json()["error"] == "edit_window_closed"
    set_site_settings(app, site.id, edit_minutes=30)
    assert _patch(client, late, "Теперь можно", reader=token).status_code == 200
    set_site_settings(app, site.id, edit_minutes=0)
    fresh = _comment(app, site.id, key, minutes_ago=0)
    assert _patch(client, fresh, "Нельзя", reader=token).get_json()["error"] == "edit_window_closed"
    assert _row(app, fresh)["body_raw"] == "Первый вариант"


def test_only_the_same_reader_may_edit_or_delete(app, client, site, anon_reader):
    key, token = anon_reader
    cid = _comment(app, site.id, key)
    with app.app_context():
        _, stranger = anonymous.issue(site.id)
    assert _patch(client, cid, "Чужое", reader=stranger).status_code == 403
    assert _delete(client, cid, reader=stranger).status_code == 403
    # No credentials, or an id that does not verify: 401, nothing changed.
    assert _patch(client, cid, "Без id").status_code == 401
    assert _delete(client, cid, reader=token + "x").status_code == 401
    forged = _patch(client, cid, "Подделка", sso="not-a-jwt")
    assert forged.status_code == 401 and forged.get_json()["error"] == "invalid_sso"
    # A comment with no reader (from before readers) belongs to no one here.
    orphan = _comment(app, site.id, None)
    assert _delete(client, orphan, reader=token).status_code == 403
    assert _row(app, cid)["body_raw"] == "Первый вариант" and _audit(app, cid) == []


def test_an_sso_reader_edits_and_deletes_with_their_token(app, client, site):
    with app.app_context():
        secret = sso.ensure_secret(site.id)
        db.session.commit()
        who = sso.verify_site_token(site.id, sso_token(secret))
    cid = _comment(app, site.id, sso_identity=who)
    other = sso_token(secret, user={"id": "u-7", "username": "Другой"})
    assert _patch(client, cid, "Чужая правка", sso=other).status_code == 403
    assert _patch(client, cid, "Моя правка", sso=sso_token(secret)).status_code == 200
    assert _delete(client, cid, sso=sso_token(secret)).status_code == 200


def test_delete_leaves_a_tombstone_that_keeps_the_thread(app, client, site, anon_reader):
    key, token = anon_reader
    root = _comment(app, site.id, key)
    reply = _comment(app, site.id, None, parent=root, body="Ответ")
    answer = _delete(client, root, reader=token)
    assert answer.status_code == 200
    assert answer.get_json()["deleted"] is True and answer.get_json()["author"] == ""
    listed = client.get(f"/api/v1/comments?site=test-site&url={ARTICLE}").get_json()["comments"]
    assert [c["id"] for c in listed] == [root]
    assert listed[0]["deleted"] is True and listed[0]["author"] == ""
    assert listed[0]["body_html"] == "<p>Комментарий удалён автором.</p>"
    assert [r["id"] for r in listed[0]["replies"]] == [reply]
    [(action, actor, before, after)] = _audit(app, root)
    assert (action, actor, before["body"], before["author"]) == ("comment.reader_delete", "reader",
                                                                 "Первый вариант", "Гость")
    # Deleted is gone for good: neither edited nor deleted again.
    assert _patch(client, root, "Снова", reader=token).status_code == 404
    assert _delete(client, root, reader=token).status_code == 404


def test_deleting_a_pending_comment_takes_it_out_of_the_queue(app, client, site, anon_reader):
    key, token = anon_reader
    cid = _comment(app, site.id, key, status="pending")
    assert _delete(client, cid, reader=token).get_json()["status"] == "rejected"
    assert _row(app, cid)["status"] == "rejected"


def test_the_list_marks_sso_comments_verified_and_carries_the_widget_settings(app, client, site, anon_reader):
    with app.app_context():
        secret = sso.ensure_secret(site.id)
        db.session.commit()
        who = sso.verify_site_token(site.id, sso_token(secret))
    signed = _comment(app, site.id, sso_identity=who)
    anonymous_one = _comment(app, site.id, anon_reader[0])
    reply = _comment(app, site.id, sso_identity=who, parent=anonymous_one)
    data = client.get(f"/api/v1/comments?site=test-site&url={ARTICLE}").get_json()
    verified = {c["id"]: c["verified"] for c in data["comments"]}
    verified.update({r["id"]: r["verified"] for c in data["comments"] for r in c["replies"]})
    assert verified == {signed: True, anonymous_one: False, reply: True}
    assert data["site"] == {"sso_required": False, "sso_login_url": None, "edit_minutes": 10,
                            "dislikes": False, "default_sort": "oldest"}
    before = client.get(f"/api/v1/comments?site=test-site&url={ARTICLE}")
    set_site_settings(app, site.id, sso_required=True, sso_login_url="https://news.example/login")
    after = client.get(f"/api/v1/comments?site=test-site&url={ARTICLE}",
                       headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200  # a changed setting is a changed list (its ETag)
    assert after.get_json()["site"]["sso_login_url"] == "https://news.example/login"


def test_the_verified_mark_costs_one_query_per_page(app, client, site):
    with app.app_context():
        secret = sso.ensure_secret(site.id)
        db.session.commit()
        who = sso.verify_site_token(site.id, sso_token(secret))
    for _ in range(5):
        _comment(app, site.id, sso_identity=who)
    with recorded_statements(app) as statements:
        client.get(f"/api/v1/comments?site=test-site&url={ARTICLE}&limit=7")  # not cached
    assert sum("FROM reader" in s for s in statements) == 1


def test_a_decided_no_stays_as_the_moderators_left_it(app, client, site, anon_reader):
    key, token = anon_reader
    for status in ("rejected", "spam"):
        cid = _comment(app, site.id, key, status=status)
        assert _patch(client, cid, "Попробую ещё раз", reader=token).status_code == 403
        assert _row(app, cid)["status"] == status


def test_re_screening_never_publishes_a_pending_edit(app, client, post_site, drain):
    """Even on a post-moderated site: a held comment edited into harmless text waits for a moderator."""
    with app.app_context():
        key, token = anonymous.issue(post_site.id)
    cid = _comment(app, post_site.id, key, status="pending")
    assert client.patch(f"/api/v1/comments/{cid}", headers=ORIGIN_HEADERS, json={
        "site": "post-site", "body": "Спокойный текст", "reader": token}).status_code == 200
    drain()
    assert _row(app, cid)["status"] == "pending"


def test_an_expired_sso_token_is_no_credential(app, client, site):
    with app.app_context():
        secret = sso.ensure_secret(site.id)
        db.session.commit()
        who = sso.verify_site_token(site.id, sso_token(secret))
    cid = _comment(app, site.id, sso_identity=who)
    expired = sso_token(secret, iat=int(utcnow().timestamp()) - 7200, exp=int(utcnow().timestamp()) - 3600)
    answer = _delete(client, cid, sso=expired)
    assert answer.status_code == 401 and answer.get_json()["error"] == "invalid_sso"
    assert _row(app, cid)["author"] == "Анна К."  # support.sso's user



def test_an_edit_or_a_deletion_takes_a_featured_comments_pick_away(app, client, post_site):
    """The moderator picked the text they read; an author rewriting it (still published on a
    post-moderated site) must not stay first in every order."""
    with app.app_context():
        key, token = anonymous.issue(post_site.id)
    edited, deleted = _comment(app, post_site.id, key), _comment(app, post_site.id, key)
    with app.app_context():
        for cid in (edited, deleted):
            db.session.get(Comment, cid).featured = True
        db.session.commit()
    answer = client.patch(f"/api/v1/comments/{edited}", headers=ORIGIN_HEADERS, json={
        "site": "post-site", "body": "Совсем другой текст", "reader": token})
    assert answer.status_code == 200
    assert client.delete(f"/api/v1/comments/{deleted}", headers=ORIGIN_HEADERS,
                         json={"site": "post-site", "reader": token}).status_code in (200, 204)
    with app.app_context():
        assert [db.session.get(Comment, cid).featured for cid in (edited, deleted)] == [False, False]
    for cid in (edited, deleted):
        [(_action, _actor, before, after)] = _audit(app, cid)
        assert before["featured"] is True and after["featured"] is False
