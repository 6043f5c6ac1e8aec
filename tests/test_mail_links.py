"""Links in staff e-mails, through a real SMTP server (aiosmtpd) and the real worker:
one-click decisions from a notification mail, and the password reset."""
import re

import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import AuditEntry, Comment, EmailTokenUse, ReportCluster, Site, User
from moderation.models.notifications import NotificationPreference

from support.accounts import AuthActions
from support.payloads import comment_payload, report_payload

API = "/api/v1/moderation"


def immediate(app, email, locale="en"):
    with app.app_context():
        user = db.session.execute(sa.select(User).where(User.email == email)).scalar_one()
        user.locale = locale
        db.session.add(NotificationPreference(user_id=user.id, email_mode="immediate"))
        db.session.commit()
        return user.id


def links_in(message, label):
    """The paths of the `label: <url>` lines of a mail, in order."""
    return re.findall(r"^\s*" + re.escape(label) + r": http://localhost(/dashboard/mail/[\w.\-]+)\r?$",
                      message.get_content(), re.M)


def csrf_of(page):
    return re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def status_of(app, comment_id):
    with app.app_context():
        return db.session.get(Comment, comment_id).status


def comment_ids(app):
    with app.app_context():
        return db.session.execute(sa.select(Comment.id).order_by(Comment.id)).scalars().all()


def set_user(app, email, **fields):
    with app.app_context():
        user = db.session.execute(sa.select(User).where(User.email == email)).scalar_one()
        for name, value in fields.items():
            setattr(user, name, value)
        db.session.commit()


@pytest.fixture
def mailed(app, client, auth, site, smtp, drain):
    """An editor with immediate mail and one mail about two pending comments."""
    editor = auth.create("editor", email="editor@news.example")
    immediate(app, editor)
    client.post("/api/v1/comments", json=comment_payload(body="Первый", client_id="mail-links-000001"))
    client.post("/api/v1/comments", json=comment_payload(body="Второй", client_id="mail-links-000002"))
    drain()
    (message,) = smtp.to(editor)
    return message, editor


# -- one-click decisions ---------------------------------------------------------------------------

def test_the_mail_link_decides_only_after_its_confirm_post_and_only_once(app, mailed):
    message, editor = mailed
    first, second = comment_ids(app)
    approve, reject, spam = links_in(message, "Approve"), links_in(message, "Reject"), links_in(message, "Spam")
    assert len(approve) == len(reject) == len(spam) == 2 and len(set(approve + reject + spam)) == 6
    assert "each works once, for 72 hours, and only for you" in message.get_content()
    browser = app.test_client()  # not signed in: the link is the credential
    page = browser.get(approve[0])
    html = page.get_data(as_text=True)
    # GET decides nothing: mail scanners follow links.
    assert page.status_code == 200 and "Approve this comment" in html and "Первый" in html
    assert page.headers["Cache-Control"] == "no-store"
    assert status_of(app, first) == "pending"
    token = csrf_of(page)
    assert browser.post(approve[0]).status_code == 400  # no CSRF token: nothing happens
    assert status_of(app, first) == "pending"
    done = browser.post(approve[0], data={"csrf_token": token})
    assert done.status_code == 200 and "Comment approved" in done.get_data(as_text=True)
    with app.app_context():
        comment = db.session.get(Comment, first)
        assert comment.status == "approved" and db.session.get(User, comment.decided_by_id).email == editor
        entry = db.session.execute(sa.select(AuditEntry).where(AuditEntry.target_id == first,
                                                               AuditEntry.action == "comment.approve")).scalar_one()
        assert entry.actor_label == editor and entry.after == {"status": "approved", "via": "e-mail"}
    # The audit log says how: "via: a link in an e-mail" (in Russian for a Russian reader).
    admin = app.test_client()
    AuthActions(app, admin).login(role="admin")
    log = admin.get("/dashboard/audit", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "ссылка в письме" in log and "Комментарий одобрен" in log
    again = browser.post(approve[0], data={"csrf_token": token})
    assert again.status_code == 410 and "already used" in again.get_data(as_text=True)
    assert browser.get(approve[0]).status_code == 410
    # The other links of the same comment: it is decided, they say so and do nothing.
    decided = browser.post(spam[0], data={"csrf_token": token})
    assert decided.status_code == 409 and "editor@news.example decided it already" in decided.get_data(as_text=True)
    assert status_of(app, first) == "approved"
    # The second comment's Reject link takes an optional reason (at most REASON_MAX characters).
    page = browser.get(reject[1])
    assert 'name="reason"' in page.get_data(as_text=True) and 'name="reason"' not in html  # approve has none
    too_long = browser.post(reject[1], data={"csrf_token": csrf_of(page), "reason": "x" * 501})
    assert too_long.status_code == 400 and 'aria-invalid="true"' in too_long.get_data(as_text=True)
    assert status_of(app, second) == "pending"
    assert browser.post(reject[1], data={"csrf_token": csrf_of(page), "reason": "Оффтоп"}).status_code == 200
    with app.app_context():
        comment = db.session.get(Comment, second)
        assert (comment.status, comment.decision_reason) == ("rejected", "Оффтоп")


def test_decided_meanwhile_by_someone_else_changes_nothing(app, client, mailed, staff):
    message, _editor = mailed
    first, _second = comment_ids(app)
    assert client.post(f"{API}/comments/{first}/reject", headers=staff.headers("moderator", email="mod@news.example"),
                       json={}).status_code == 200
    browser = app.test_client()
    path = links_in(message, "Approve")[0]
    page = browser.get(path)
    assert page.status_code == 409 and "mod@news.example decided it already" in page.get_data(as_text=True)
    assert "<form" not in page.get_data(as_text=True).split("<main>")[1]
    assert status_of(app, first) == "rejected"


def test_expired_forged_and_another_accounts_links_are_refused(app, mailed, auth):
    message, _editor = mailed
    first, _second = comment_ids(app)
    path = links_in(message, "Approve")[0]
    browser = app.test_client()
    token = csrf_of(browser.get(path))
    # Forged: one character of the signature changed.
    forged = path[:-1] + ("A" if path[-1] != "A" else "B")
    assert browser.get(forged).status_code == 404 and browser.post(forged, data={"csrf_token": token}).status_code == 404
    # Signed in as someone else in this browser: the link is the recipient's only.
    other = app.test_client()
    AuthActions(app, other).login(email=auth.create("admin"))
    page = other.get(path)
    assert page.status_code == 403 and "sent to another account" in page.get_data(as_text=True)
    assert other.post(path, data={"csrf_token": csrf_of(page)}).status_code == 403
    # Older than MAIL_ACTION_HOURS: expired, with the way to the dashboard.
    app.config["MAIL_ACTION_HOURS"] = -1  # every link is now older than its lifetime
    expired = browser.post(path, data={"csrf_token": token})
    assert expired.status_code == 410 and "/dashboard/" in expired.get_data(as_text=True)
    assert "has expired" in expired.get_data(as_text=True)
    assert status_of(app, first) == "pending"
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(EmailTokenUse)).scalar_one() == 0


def test_the_account_must_still_be_allowed_when_the_link_is_used(app, client, mailed, post_site):
    message, editor = mailed
    first, second = comment_ids(app)
    approve, reject = links_in(message, "Approve"), links_in(message, "Reject")
    browser = app.test_client()
    token = csrf_of(browser.get(approve[0]))
    # Limited to another site since the mail: not theirs any more (404, as in the dashboard).
    with app.app_context():
        user = db.session.execute(sa.select(User).where(User.email == editor)).scalar_one()
        user.sites = [db.session.get(Site, post_site.id)]
        db.session.commit()
    assert browser.post(approve[0], data={"csrf_token": token}).status_code == 404
    with app.app_context():
        user = db.session.execute(sa.select(User).where(User.email == editor)).scalar_one()
        user.sites = []
        db.session.commit()
    # A new password since the mail: every link mailed before it is dead.
    set_user(app, editor, password_hash="pbkdf2:sha256:1$x$y")
    stale = browser.post(reject[0], data={"csrf_token": token})
    assert stale.status_code == 410 and "password of the account has changed" in stale.get_data(as_text=True)
    # Deactivated: nothing.
    set_user(app, editor, active=False)
    assert browser.post(reject[1], data={"csrf_token": token}).status_code == 404
    assert [status_of(app, i) for i in (first, second)] == ["pending", "pending"]


def test_a_role_without_the_scope_cannot_use_a_report_link(app, client, auth, site, smtp, drain):
    editor = auth.create("editor", email="reports@news.example")
    immediate(app, editor, locale="ru")
    client.post("/api/v1/reports", json=report_payload())
    drain()
    (message,) = smtp.to(editor)
    (path,) = links_in(message, "Отклонить (не ошибка)")
    browser = app.test_client()
    page = browser.get(path)
    assert page.status_code == 200 and "Отклонить сообщение об ошибке" in page.get_data(as_text=True)
    assert "«обьявил» → «объявил»" in page.get_data(as_text=True)  # the spot and the readers' suggestion
    set_user(app, editor, role="moderator")  # comments only, since the mail
    refused = browser.post(path, data={"csrf_token": csrf_of(page)})
    assert refused.status_code == 403
    with app.app_context():
        assert db.session.execute(sa.select(ReportCluster.status)).scalar_one() == "new"
    set_user(app, editor, role="editor")
    assert browser.post(path, data={"csrf_token": csrf_of(page)}).status_code == 200
    with app.app_context():
        assert db.session.execute(sa.select(ReportCluster.status)).scalar_one() == "rejected"


def test_the_link_pages_are_rate_limited_per_address(app, mailed):
    message, _editor = mailed
    app.config["MAIL_LINK_LIMIT"] = "2 per minute"
    path = links_in(message, "Approve")[0]
    browser = app.test_client()
    assert [browser.get(path).status_code for _ in range(2)] == [200, 200]
    limited = browser.get(path)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert "Too many requests" in limited.get_data(as_text=True)


# -- password reset --------------------------------------------------------------------------------

def reset_link(message):
    match = re.search(r"http://localhost(/dashboard/reset-password/[\w.\-]+)", message.get_content())
    assert match, message.get_content()
    return match.group(1)


def forgot(client, email):
    page = client.get("/dashboard/forgot-password")
    return client.post("/dashboard/forgot-password", data={"email": email, "csrf_token": csrf_of(page)})


def test_password_reset_by_mail_ends_every_session_and_works_once(app, client, auth, smtp, drain):
    email = auth.create("moderator", email="forgetful@news.example")
    signed_in = app.test_client()
    assert AuthActions(app, signed_in).login(email=email).status_code == 302
    assert signed_in.get("/dashboard/comments").status_code == 200
    login_page = client.get("/dashboard/login").get_data(as_text=True)
    assert 'href="/dashboard/forgot-password"' in login_page
    known = forgot(client, email)
    unknown = forgot(client, "nobody@news.example")
    assert known.status_code == unknown.status_code == 200
    # The same answer for an account and for no account: only the address echoed differs.
    assert known.get_data(as_text=True).replace(email, "X") == unknown.get_data(as_text=True).replace(
        "nobody@news.example", "X")
    drain()
    assert smtp.to("nobody@news.example") == []
    (message,) = smtp.to(email)
    assert message["Subject"] == "Reset your moderation password" and "List-Unsubscribe" not in message
    path = reset_link(message)
    page = client.get(path)
    assert page.status_code == 200 and 'autocomplete="new-password"' in page.get_data(as_text=True)
    token = csrf_of(page)
    short = client.post(path, data={"csrf_token": token, "password": "short", "password2": "short"})
    assert short.status_code == 400 and "10 to 200 characters" in short.get_data(as_text=True)
    differ = client.post(path, data={"csrf_token": token, "password": "a new long password", "password2": "another"})
    assert differ.status_code == 400 and "differ" in differ.get_data(as_text=True)
    assert client.post(path, data={"password": "a new long password", "password2": "a new long password"}
                       ).status_code == 400  # no CSRF token
    done = client.post(path, data={"csrf_token": token, "password": "a new long password",
                                   "password2": "a new long password"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/dashboard/login")
    # Every session of the account ended; the new password signs in, the old one does not.
    assert "/dashboard/login" in signed_in.get("/dashboard/comments").headers["Location"]
    assert AuthActions(app, app.test_client()).login(email=email).status_code == 401
    assert AuthActions(app, app.test_client()).login(email=email, password="a new long password").status_code == 302
    with app.app_context():
        entry = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "user.reset_password")).scalar_one()
        assert entry.actor_label == email and entry.after == {"password_reset": True, "via": "e-mail"}
    again = client.post(path, data={"csrf_token": token, "password": "a third long password",
                                    "password2": "a third long password"})
    assert again.status_code == 410 and "already used" in again.get_data(as_text=True)
    assert client.get(path).status_code == 410


def test_a_reset_link_expires_and_dies_with_a_new_password(app, client, auth, smtp, drain):
    email = auth.create("editor", email="late@news.example")
    forgot(client, email)
    forgot(client, email)
    drain()
    first, second = (reset_link(m) for m in smtp.to(email))
    app.config["PASSWORD_RESET_MINUTES"] = -1  # older than their lifetime
    assert client.get(first).status_code == 410
    app.config["PASSWORD_RESET_MINUTES"] = 60
    token = csrf_of(client.get(first))
    assert client.post(first, data={"csrf_token": token, "password": "brand new password",
                                    "password2": "brand new password"}).status_code == 302
    # The other link mailed before the change no longer works.
    stale = client.get(second)
    assert stale.status_code == 410 and "has changed since" in stale.get_data(as_text=True)
    assert client.get("/dashboard/reset-password/not-a-token").status_code == 404


def test_reset_requests_are_limited_per_address_asked_and_bad_input_is_400(app, client, auth, smtp, drain):
    app.config.update(RESET_LIMIT_ACCOUNT="2 per hour", RESET_LIMIT_ADDRESS="7 per minute")
    email = auth.create("editor", email="target@news.example")
    assert [forgot(client, email).status_code for _ in range(2)] == [200, 200]
    limited = forgot(client, email)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    # An unknown address counts the same way: a 429 tells nothing about accounts.
    assert [forgot(client, "ghost@news.example").status_code for _ in range(3)] == [200, 200, 429]
    assert forgot(client, "not an address").status_code == 400
    # The 8th request from this address, whatever it asks for.
    assert forgot(client, "fresh@news.example").status_code == 429
    drain()
    assert len(smtp.to(email)) == 2 and smtp.to("ghost@news.example") == []


def test_no_reset_mail_for_a_deactivated_account(app, client, auth, smtp, drain):
    email = auth.create("editor", email="gone@news.example")
    set_user(app, email, active=False)
    assert forgot(client, email).status_code == 200
    drain()
    assert smtp.messages == []


def test_two_requests_racing_with_one_link_spend_it_once(app, mailed):
    """Both read the link before either spends it (two clicks at once): the unique token id
    lets one through; the other is told the link was used."""
    from moderation.notify import links

    message, _editor = mailed
    token = links_in(message, "Approve")[0].rsplit("/", 1)[1]
    with app.app_context():
        first = links.read("action", token)
        with app.app_context():  # another request, its own session
            second = links.read("action", token)
            second.spend()
            db.session.commit()
        db.session.rollback()  # as a write unit starts: no read snapshot from before the other's commit
        with pytest.raises(links.LinkError) as refused:
            first.spend()
        assert refused.value.reason == "used"
        db.session.rollback()
        assert db.session.execute(sa.select(sa.func.count()).select_from(EmailTokenUse)).scalar_one() == 1


def test_a_digest_carries_the_decision_links_too(app, client, auth, site, smtp, drain):
    from datetime import timedelta

    from moderation.models.base import utcnow
    from moderation.redis_keys import DIGEST_CHECK_SCHEDULED

    editor = auth.create("editor", email="digest-links@news.example")
    with app.app_context():
        user = db.session.execute(sa.select(User).where(User.email == editor)).scalar_one()
        user.locale = "ru"
        db.session.add(NotificationPreference(user_id=user.id, email_mode="hourly",
                                              last_digest_at=utcnow() - timedelta(hours=2)))
        db.session.commit()
    app.broker.redis.set(DIGEST_CHECK_SCHEDULED, "1", ex=60)  # no digest before the comment is stored
    client.post("/api/v1/comments", json=comment_payload(body="В сводке", client_id="mail-digest-00001"))
    drain()
    app.broker.redis.delete(DIGEST_CHECK_SCHEDULED)
    drain()
    (digest,) = smtp.to(editor)
    assert digest["Subject"].startswith("Сводка за час")
    (path,) = links_in(digest, "Одобрить")
    assert len(links_in(digest, "Отклонить")) == len(links_in(digest, "Спам")) == 1
    assert "каждая работает один раз, 72 ч." in digest.get_content()
    browser = app.test_client()
    assert browser.post(path, data={"csrf_token": csrf_of(browser.get(path))}).status_code == 200
    assert status_of(app, comment_ids(app)[0]) == "approved"
