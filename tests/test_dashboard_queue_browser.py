"""The live queue and one-key decisions in real headless Chromium, by keyboard only (issue 17)."""
import itertools

import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import AuditEntry, Comment

from support.browser import sign_in

pytestmark = pytest.mark.browser
_ids = itertools.count()


def post_comment(app, live_server, body, **extra):
    response = app.test_client().post("/api/v1/comments", json={
        "site": "demo", "url": live_server + "/demo", "author": "Анна", "body": body,
        "client_id": f"queue-kb-{next(_ids):06d}", **extra})
    assert response.status_code == 202, response.json


def items_text(page):
    return page.evaluate("() => [...document.querySelectorAll('.queue .item .body')].map(e => e.innerText.trim())")


def open_queue(page, live_server, auth, role="moderator", path="/dashboard/comments"):
    sign_in(page, live_server, auth.create(role))
    page.goto(live_server + path)


def test_a_comment_stored_while_the_queue_is_open_appears_after_n(app, live_server, new_page, auth, drain):
    post_comment(app, live_server, "Первый")
    drain()
    page = new_page()
    open_queue(page, live_server, auth)
    assert items_text(page) == ["Первый"]
    post_comment(app, live_server, "Пришёл <b>позже</b>")
    drain()
    # The bar says so within 5 s of the comment being stored; the list itself stays as it was.
    page.wait_for_selector("[data-live-bar]:not([hidden])", timeout=5000)
    assert "1" in page.locator("[data-live-bar]").inner_text()
    assert items_text(page) == ["Первый"]
    page.wait_for_function("() => document.querySelector('[data-count=comments_pending]').textContent === '2'")
    page.keyboard.press("n")
    page.wait_for_function("() => document.querySelectorAll('.queue .item').length === 2")
    assert items_text(page) == ["Первый", "Пришёл <b>позже</b>"]  # escaped, at the end
    assert page.locator("[data-live-bar]").is_hidden()
    # The focus stayed on the first card; the new one is worked like any other.
    assert "Первый" in page.evaluate("document.activeElement.innerText")
    page.keyboard.press("j")
    page.keyboard.press("a")
    page.wait_for_function("() => document.querySelectorAll('.queue .item').length === 1")
    with app.app_context():
        assert db.session.execute(sa.select(Comment.status).order_by(Comment.id)).scalars().all() == [
            "pending", "approved"]
    assert page.errors == []


def test_counts_after_approve_and_spam_in_quick_succession(app, live_server, new_page, auth, drain):
    for body in ("один", "два", "три"):
        post_comment(app, live_server, body)
    drain()
    page = new_page()
    open_queue(page, live_server, auth)
    count = "(key) => document.querySelector(`.tabs [data-count=${key}]`).textContent"
    assert page.evaluate(count, "comments_pending") == "3"
    page.keyboard.press("a")
    page.keyboard.press("s")
    page.wait_for_function("() => document.querySelectorAll('.queue .item').length === 1")
    page.wait_for_function(
        "() => ['comments_pending', 'comments_approved', 'comments_spam'].map("
        "k => document.querySelector(`.tabs [data-count=${k}]`).textContent).join() === '1,1,1'")
    assert page.locator(".top [data-count=comments_pending]").inner_text() == "1"
    # A reload (the server's cached counts) says the same.
    page.reload()
    assert page.evaluate(count, "comments_pending") == "1" and page.evaluate(count, "comments_spam") == "1"
    assert page.locator(".top [data-count=comments_pending]").inner_text() == "1"


def test_fix_is_saved_with_ctrl_enter(app, live_server, new_page, auth, drain):
    post_comment(app, live_server, "Опечтка тут")
    drain()
    page = new_page()
    open_queue(page, live_server, auth)
    page.keyboard.press("f")
    assert page.evaluate("document.activeElement.name") == "body"
    page.keyboard.press("End")
    page.keyboard.press("Enter")  # a new line, not a save
    page.keyboard.type("Исправлено.")
    assert page.locator(".queue .item").count() == 1
    page.keyboard.press("Control+Enter")
    page.wait_for_function("() => document.querySelectorAll('.queue .item').length === 0")
    with app.app_context():
        comment = db.session.execute(sa.select(Comment)).scalar_one()
        # A form sends a textarea's new lines as CRLF (HTML), as the fix form always did.
        assert comment.status == "approved" and comment.body_raw.splitlines() == ["Опечтка тут", "Исправлено."]


def test_bulk_reject_with_a_reason(app, live_server, new_page, auth, drain):
    for body in ("реклама раз", "реклама два", "нормальный"):
        post_comment(app, live_server, body)
    drain()
    page = new_page()
    open_queue(page, live_server, auth)
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    assert page.locator("[data-selected-count]").inner_text() == "2"
    page.keyboard.press("Shift+R")
    assert page.locator("#reason-dialog").is_visible()
    page.keyboard.press("Tab")
    for _ in range(5):  # past the presets to the free-text line
        if page.evaluate("document.activeElement.matches('[data-reason-text]')"):
            break
        page.keyboard.press("Tab")
    page.keyboard.type("Реклама окон")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelectorAll('.queue .item').length === 1")
    assert items_text(page) == ["нормальный"]
    with app.app_context():
        entries = db.session.execute(sa.select(AuditEntry).order_by(AuditEntry.id)).scalars().all()
        assert [(e.action, e.reason) for e in entries] == [("comment.reject", "Реклама окон")] * 2


def test_o_opens_the_conversation_and_it_is_moderated_there(app, live_server, new_page, auth, drain, staff):
    post_comment(app, live_server, "Корень ветки")
    drain()
    with app.app_context():
        root = db.session.execute(sa.select(Comment.id)).scalar_one()
    client = app.test_client()
    headers = staff.headers("moderator")
    assert client.post(f"/api/v1/moderation/comments/{root}/approve", headers=headers).status_code == 200
    post_comment(app, live_server, "Ответ в ветке", parent=root)
    drain()
    page = new_page()
    open_queue(page, live_server, auth)
    assert items_text(page) == ["Ответ в ветке"]
    page.keyboard.press("o")
    page.wait_for_url("**/conversation")
    assert items_text(page) == ["Корень ветки", "Ответ в ветке"]
    statuses = page.evaluate("() => [...document.querySelectorAll('[data-status]')].map(e => e.dataset.status)")
    assert statuses == ["approved", "pending"]
    # The focus is on the comment the queue was showing; `a` approves it here.
    assert "Ответ в ветке" in page.evaluate("document.activeElement.innerText")
    page.keyboard.press("a")
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-status]')].map(e => e.dataset.status).join() === 'approved,approved'")
    assert page.errors == []


def test_p_features_a_published_comment_and_it_keeps_its_place(app, live_server, new_page, auth, drain, staff):
    post_comment(app, live_server, "Лучший ответ")
    drain()
    with app.app_context():
        comment_id = db.session.execute(sa.select(Comment.id)).scalar_one()
    assert app.test_client().post(f"/api/v1/moderation/comments/{comment_id}/approve",
                                  headers=staff.headers()).status_code == 200
    page = new_page()
    open_queue(page, live_server, auth, path="/dashboard/comments?status=approved")
    page.wait_for_selector(".queue .item:focus")
    page.keyboard.press("p")
    page.wait_for_selector("[data-featured-mark]")  # reloaded: the same item, now with its mark
    assert items_text(page) == ["Лучший ответ"]
    with app.app_context():
        assert db.session.get(Comment, comment_id).featured is True
    page.wait_for_selector(".queue .item:focus")
    page.keyboard.press("p")  # the same key stops featuring it
    page.wait_for_selector('[data-action="feature"]')
    with app.app_context():
        assert db.session.get(Comment, comment_id).featured is False
        actions = db.session.execute(sa.select(AuditEntry.action).order_by(AuditEntry.id)).scalars().all()
    assert actions[-2:] == ["comment.feature", "comment.unfeature"]
    assert page.errors == []
