"""A decision link from a real notification mail, in real Chromium, by keyboard only:
the confirm page decides nothing, Tab to its button and Enter approves, the link then
says it was used."""
import re

import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import Comment, User
from moderation.models.notifications import NotificationPreference

from support.axe import axe_violations, describe
from support.net import free_port
from support.notify_servers import SmtpSink

pytestmark = pytest.mark.browser


def test_a_mailed_approve_link_by_keyboard_only(app, live_server, new_page, auth, drain):
    editor = auth.create("editor", email="inbox@news.example")
    with app.app_context():
        user = db.session.execute(sa.select(User).where(User.email == editor)).scalar_one()
        db.session.add(NotificationPreference(user_id=user.id, email_mode="immediate"))
        db.session.commit()
    with SmtpSink(free_port()) as smtp:
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port, SMTP_STARTTLS=False, PUBLIC_URL=live_server)
        response = app.test_client().post("/api/v1/comments", json={
            "site": "demo", "url": live_server + "/demo", "author": "Анна", "body": "Из почты, одним щелчком",
            "client_id": "mail-browser-0001"})
        assert response.status_code == 202
        drain()
        (message,) = smtp.to(editor)
    url = re.search(r"Approve: (\S+)", message.get_content()).group(1)
    assert url.startswith(live_server + "/dashboard/mail/")
    page = new_page()  # a browser that never signed in
    page.goto(url)
    assert page.locator("h1").inner_text() == "Confirm the decision"
    with app.app_context():
        assert db.session.execute(sa.select(Comment.status)).scalar_one() == "pending"
    assert axe_violations(page) == [], describe(axe_violations(page))
    # Keyboard only: Tab until the button has the focus, then Enter.
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('form button[type=submit]')"):
            break
    assert page.evaluate("document.activeElement.textContent.trim()") == "Approve this comment"
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-state=done]")
    assert "Comment approved" in page.locator("main").inner_text()
    with app.app_context():
        assert db.session.execute(sa.select(Comment.status)).scalar_one() == "approved"
    # The same link again: refused, and it says why.
    page.goto(url)
    assert page.locator("h1").inner_text() == "This link was already used"
    assert page.locator("form button[type=submit]").count() == 0
    assert page.errors == []
