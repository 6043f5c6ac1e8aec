"""The widget's opt-in follow-up fields in real Chromium: they reach the API as notify_email."""
import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models.notifications import ReaderSubscription

from support.browser import TYPO, open_demo, wait_for_text
from support.browser import drag_select

pytestmark = pytest.mark.browser


def subscriptions(app):
    with app.app_context():
        return [(s.kind, s.email, s.confirmed_at) for s in
                db.session.execute(sa.select(ReaderSubscription).order_by(ReaderSubscription.id)).scalars()]


def test_report_and_comment_follow_up_fields(app, live_server, new_page, drain):
    page = open_demo(new_page, live_server)
    drag_select(page, TYPO)
    page.keyboard.press("Control+Enter")
    page.locator("#mw-e").fill("reader@mail.example")
    page.locator("[role=dialog] button[type=submit]").click()
    wait_for_text(page, "Спасибо")
    page.locator("#mc-n").fill("Пётр")
    page.locator("#mc-e").fill("petr@mail.example")
    page.locator("#mc-b").fill("Без галочки: без писем")
    page.locator("form button[type=submit]").last.click()
    wait_for_text(page, "ожидает модерации")
    page.locator("#mc-r").check()
    page.locator("#mc-b").fill("С галочкой: сообщите об ответах")
    page.locator("form button[type=submit]").last.click()
    drain()
    wait_for_text(page, "С галочкой")
    drain()
    assert subscriptions(app) == [("report", "reader@mail.example", None), ("comment", "petr@mail.example", None)]
    assert page.errors == []
