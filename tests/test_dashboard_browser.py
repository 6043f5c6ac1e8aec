"""The dashboard by keyboard in real headless Chromium."""
import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import AuditEntry, Comment, ReportCluster

from support.browser import sign_in, shadow_text
from support.faults import wait_for

pytestmark = pytest.mark.browser


def test_press_a_to_approve_and_the_comment_reaches_the_widget(app, live_server, new_page, auth, drain):
    client = app.test_client()
    for body in ("Первый комментарий", "Второй комментарий"):
        response = client.post("/api/v1/comments", json={
            "site": "demo", "url": live_server + "/demo", "author": "Анна", "body": body,
            "client_id": f"kb-{abs(hash(body)):012d}"})
        assert response.status_code == 202
    drain()
    email = auth.create("moderator")
    page = new_page()
    sign_in(page, live_server, email)
    page.goto(live_server + "/dashboard/comments")
    first = page.locator(".queue .item").first
    assert "Первый комментарий" in first.inner_text()
    assert page.evaluate("document.activeElement.classList.contains('item')")
    page.keyboard.press("a")
    page.wait_for_function("() => document.querySelectorAll('.queue .item').length === 1")
    # The next item has the focus; the badge counts what is left.
    assert "Второй комментарий" in page.evaluate("document.activeElement.innerText")
    page.wait_for_function("() => document.querySelector('[data-count=comments_pending]').textContent === '1'")
    with app.app_context():
        assert db.session.execute(sa.select(Comment.status).order_by(Comment.id)).scalars().all() == [
            "approved", "pending"]
    reader = new_page()
    reader.goto(live_server + "/demo")
    reader.wait_for_function("() => window.__moderationWidget === true")
    wait_for(lambda: "Первый комментарий" in shadow_text(reader), 5, "the approved comment reaches the widget")
    assert "Второй комментарий" not in shadow_text(reader)


def test_press_f_on_a_report_to_fix_it_and_the_audit_shows_it(app, live_server, new_page, auth, drain):
    client = app.test_client()
    for i in range(2):
        response = client.post("/api/v1/reports", json={
            "site": "demo", "url": live_server + "/demo", "exact": "обьявил", "prefix": "в четверг ",
            "suffix": " о начале", "suggestion": "объявил", "client_id": f"fix-{i:04d}-0000"},
            environ_base={"REMOTE_ADDR": f"10.9.0.{i}"})
        assert response.status_code == 202
    drain()
    email = auth.create("editor")
    page = new_page()
    sign_in(page, live_server, email)
    page.goto(live_server + "/dashboard/reports")
    assert "2 readers" in page.locator(".queue .item").first.inner_text()
    page.keyboard.press("f")
    field = page.locator("input[name=correction]")
    assert page.evaluate("document.activeElement.name") == "correction"
    assert field.input_value() == "объявил"
    field.fill("объявил (исправлено)")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelectorAll('.queue .item').length === 0")
    with app.app_context():
        cluster = db.session.execute(sa.select(ReportCluster)).scalar_one()
        assert (cluster.status, cluster.correction) == ("fixed", "объявил (исправлено)")
        entry = db.session.execute(sa.select(AuditEntry)).scalar_one()
        assert (entry.action, entry.actor_label) == ("report.fix", email)
    page.goto(live_server + f"/dashboard/reports/{cluster.id}")
    assert "Error report fixed" in page.locator(".history").inner_text()


def test_question_mark_opens_the_help_and_escape_closes_it(live_server, new_page, auth):
    page = new_page()
    sign_in(page, live_server, auth.create("moderator"))
    help_box = page.locator("#help")
    assert help_box.is_hidden()
    page.keyboard.press("?")
    assert help_box.is_visible() and "next / previous item" in help_box.inner_text()
    page.keyboard.press("Escape")
    assert help_box.is_hidden()


def test_r_opens_the_reason_popup_a_number_picks_a_preset_and_enter_rejects(app, live_server, new_page, auth, drain):
    client = app.test_client()
    assert client.post("/api/v1/comments", json={
        "site": "demo", "url": live_server + "/demo", "author": "Спамер", "body": "Купите окна",
        "client_id": "reject-by-key-01"}).status_code == 202
    drain()
    page = new_page()
    sign_in(page, live_server, auth.create("moderator"))
    page.goto(live_server + "/dashboard/comments")
    # The card carries no reason list or box: the reason is asked for when rejecting.
    assert page.locator(".queue .item select, .queue .item input[name=reason]").count() == 0
    page.keyboard.press("r")
    popup = page.locator("#reason-dialog")
    assert popup.is_visible()
    page.keyboard.press("Escape")  # cancels: nothing decided, the focus back on the card
    assert popup.is_hidden() and page.evaluate("document.activeElement.classList.contains('item')")
    page.keyboard.press("r")
    page.keyboard.press("3")  # the third preset: "Advertising or spam"
    assert page.locator('[data-preset="Advertising or spam"]').get_attribute("aria-pressed") == "true"
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelectorAll('.queue .item').length === 0")
    with app.app_context():
        comment = db.session.execute(sa.select(Comment)).scalar_one()
        assert (comment.status, comment.decision_reason) == ("rejected", "Advertising or spam")
