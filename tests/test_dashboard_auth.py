"""Dashboard sign-in: every route needs login, every POST a CSRF token, failures are throttled."""
import re
import time
from types import SimpleNamespace

import sqlalchemy as sa


from moderation.extensions import db
from moderation.models import User

from support.accounts import AuthActions


def test_every_dashboard_route_requires_login(app, client):
    from moderation.dashboard import PUBLIC_ENDPOINTS

    # The pages open without sign-in: the sign-in itself and the e-mail links, whose signed
    # token is the credential (tests/test_mail_links.py). Adding one is a decision made here.
    assert PUBLIC_ENDPOINTS == {"dashboard.login", "dashboard.forgot_password", "dashboard.reset_password",
                                "dashboard.mail_action"}
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("dashboard.")]
    assert len(rules) >= 10
    for rule in rules:
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        url = re.sub(r"<(int[^:]*:)?(\w+)>", lambda m: "1" if m.group(1) else "x", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method)
            # Anonymous: sent to the sign-in page (or refused), never served.
            assert response.status_code in (302, 400), (method, url, response.status_code)
            if response.status_code == 302:
                assert "/dashboard/login" in response.headers["Location"], (method, url)


def test_login_and_logout(app, client, auth):
    email = auth.create("moderator")
    response = auth.login(email)
    assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard/")
    assert client.get("/dashboard/comments").status_code == 200
    with app.app_context():
        assert db.session.execute(sa.select(User.last_login_at).where(User.email == email)).scalar_one()
    assert auth.logout().status_code == 302
    assert client.get("/dashboard/comments").status_code == 302


def test_wrong_password_is_401_with_one_message_for_all_failures(auth):
    email = auth.create("editor")
    wrong = auth.login(email, password="not the password")
    unknown = auth.login("nobody@news.example")
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong e-mail or password." in wrong.get_data(as_text=True)
    assert "Wrong e-mail or password." in unknown.get_data(as_text=True)


def test_inactive_account_cannot_sign_in(app, auth):
    email = auth.create("editor")
    with app.app_context():
        db.session.execute(sa.update(User).where(User.email == email).values(active=False))
        db.session.commit()
    assert auth.login(email).status_code == 401


def test_failed_logins_are_throttled_per_account(app, auth):
    email = auth.create("editor")
    for _ in range(5):
        assert auth.login(email, password="wrong password!").status_code == 401
    blocked = auth.login(email)  # even the right password waits now
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert "Too many failed sign-ins" in blocked.get_data(as_text=True)
    # Another account from the same address is not locked out by this one.
    assert auth.login(auth.create("editor")).status_code == 302


def test_failed_logins_are_throttled_per_address(app, client, auth):
    app.config["LOGIN_LIMIT_ADDRESS"] = "3 per 15 minutes"
    for i in range(3):
        assert auth.login(f"guess{i}@news.example", password="wrong password!").status_code == 401
    assert auth.login(auth.create("editor")).status_code == 429


def test_successful_logins_do_not_count(auth):
    email = auth.create("editor")
    for _ in range(7):
        assert auth.login(email).status_code == 302
        auth.logout()


def test_next_parameter_only_redirects_inside_the_dashboard(auth):
    email = auth.create("editor")
    assert auth.login(email, next="/dashboard/reports").headers["Location"].endswith("/dashboard/reports")
    auth.logout()
    assert auth.login(email, next="https://evil.example/").headers["Location"].endswith("/dashboard/")


def test_post_without_csrf_token_is_rejected(app, client, auth, site):
    auth.login(role="editor")
    response = client.post("/dashboard/comments/1/approve", data={})
    assert response.status_code == 400
    assert client.post("/dashboard/logout").status_code == 400
    assert client.post("/dashboard/login", data={"email": "a@b.c", "password": "x"}).status_code in (302, 400)


def test_session_cookie_flags(auth):
    cookies = auth.login(role="editor", remember="1").headers.getlist("Set-Cookie")
    session = [c for c in cookies if c.startswith("session=")]
    remember = [c for c in cookies if c.startswith("remember_token=")]
    assert session and remember
    assert all("HttpOnly" in c and "SameSite=Lax" in c for c in session + remember)


def test_production_cookies_are_secure(make_app):
    app = make_app(ENV_NAME="production", SECRET_KEY="x" * 40)
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]


def test_language_follows_the_account_then_the_browser(app, client, auth):
    auth.login(role="editor")
    page = client.get("/dashboard/comments", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert 'lang="ru"' in page
    token = auth.csrf("/dashboard/comments")
    client.post("/dashboard/language", data={"locale": "en", "csrf_token": token})
    page = client.get("/dashboard/comments", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert 'lang="en"' in page


# -- sessions end with sign-out, a password change or reset, deactivation ---------------

REMEMBER = "remember_token"


def user_id_of(app, email):
    with app.app_context():
        return db.session.execute(sa.select(User.id).where(User.email == email)).scalar_one()


def signed_in_browser(app, email, remember=True):
    """A second browser of the same account: its own session and remember cookie."""
    browser = app.test_client()
    actions = AuthActions(app, browser)
    assert actions.login(email, remember="1" if remember else "").status_code == 302
    assert browser.get("/dashboard/comments").status_code == 200
    return browser, (browser.get_cookie(REMEMBER).value if remember else None)


def replays(app, remember_cookie):
    """A fresh browser holding only a copied remember cookie: does it get in?"""
    thief = app.test_client()
    thief.set_cookie(REMEMBER, remember_cookie)
    return thief.get("/dashboard/comments").status_code == 200


def admin_post(auth, path, data):
    return auth.client.post(path, data=dict(data, csrf_token=auth.csrf("/dashboard/comments")))


def test_a_copied_remember_cookie_works_until_sign_out(app, auth):
    email = auth.create("editor")
    laptop, cookie = signed_in_browser(app, email)
    phone, phone_cookie = signed_in_browser(app, email)
    assert replays(app, cookie)
    token = AuthActions(app, laptop).csrf("/dashboard/comments")
    assert laptop.post("/dashboard/logout", data={"csrf_token": token}).status_code == 302
    # Sign-out ends the account's sessions everywhere: the copy, the other device, its cookie.
    assert not replays(app, cookie)
    assert phone.get("/dashboard/comments").status_code == 302
    assert not replays(app, phone_cookie)
    assert auth.login(email).status_code == 302  # signing in again works


def test_a_password_reset_by_an_admin_ends_the_accounts_sessions(app, auth):
    email = auth.create("editor")
    browser, cookie = signed_in_browser(app, email)
    assert auth.login(auth.create("admin")).status_code == 302
    response = admin_post(auth, f"/dashboard/admin/users/{user_id_of(app, email)}/password",
                          {"password": "a brand new password"})
    assert response.status_code == 302
    assert browser.get("/dashboard/comments").status_code == 302
    assert not replays(app, cookie)
    assert auth.client.get("/dashboard/comments").status_code == 200  # the admin is not signed out
    assert AuthActions(app, app.test_client()).login(email, password="a brand new password").status_code == 302


def test_an_admin_changing_their_own_password_stays_signed_in_here_only(app, auth):
    email = auth.create("admin")
    other, cookie = signed_in_browser(app, email)
    assert auth.login(email, remember="1").status_code == 302
    response = admin_post(auth, f"/dashboard/admin/users/{user_id_of(app, email)}/password",
                          {"password": "my own new password"})
    assert response.status_code == 302
    assert auth.client.get("/dashboard/comments").status_code == 200
    assert replays(app, auth.client.get_cookie(REMEMBER).value)  # re-issued with the new version
    assert other.get("/dashboard/comments").status_code == 302
    assert not replays(app, cookie)


def test_deactivation_ends_sessions_and_reactivation_does_not_revive_them(app, auth):
    email = auth.create("editor")
    browser, cookie = signed_in_browser(app, email)
    assert auth.login(auth.create("admin")).status_code == 302
    path = f"/dashboard/admin/users/{user_id_of(app, email)}"
    assert admin_post(auth, path, {"role": "editor"}).status_code == 302  # no "active": deactivate
    assert browser.get("/dashboard/comments").status_code == 302
    assert admin_post(auth, path, {"role": "editor", "active": "1"}).status_code == 302
    assert browser.get("/dashboard/comments").status_code == 302
    assert not replays(app, cookie)


def test_a_sign_in_lasts_at_most_the_remember_duration(app, auth, monkeypatch):
    from moderation.models import accounts

    email = auth.create("editor")
    lifetime = app.config["REMEMBER_COOKIE_DURATION"].total_seconds()
    assert 0 < lifetime <= 31 * 86400
    real_time = accounts.time.time

    def signed_in_ago(seconds):
        # The clock the sign-in stamps its session with (the server checks it on load).
        monkeypatch.setattr(accounts, "time", SimpleNamespace(time=lambda: real_time() - seconds))
        browser = app.test_client()
        assert AuthActions(app, browser).login(email, remember="1").status_code == 302
        monkeypatch.undo()
        return browser

    recent = signed_in_ago(lifetime - 60)
    assert recent.get("/dashboard/comments").status_code == 200
    assert replays(app, recent.get_cookie(REMEMBER).value)
    stale = signed_in_ago(lifetime + 60)
    assert stale.get("/dashboard/comments").status_code == 302
    assert not replays(app, stale.get_cookie(REMEMBER).value)
    cookie = [c for c in auth.login(email, remember="1").headers.getlist("Set-Cookie") if c.startswith(REMEMBER)]
    assert cookie and "Expires=" in cookie[0]


def test_remember_cookies_from_before_session_versions_no_longer_load(app, auth):
    from flask_login.utils import encode_cookie

    email = auth.create("editor")
    with app.test_request_context():
        user = db.session.execute(sa.select(User).where(User.email == email)).scalar_one()
        old_format = encode_cookie(str(user.id))  # "<id>|HMAC", valid for ever
        current = encode_cookie(f"{user.id}:{user.session_version}:{int(time.time())}")
    assert not replays(app, old_format)
    assert replays(app, current)  # the same cookie in today's format does get in


# -- the session starts afresh at sign-in ---------------------------------------------

def test_a_csrf_token_from_before_sign_in_is_void_after_it(app, client, auth):
    email = auth.create("editor")
    planted = auth.csrf()  # e.g. fixed by an attacker in the victim's pre-login session
    response = client.post("/dashboard/login", data={"email": email, "password": auth.PASSWORD,
                                                     "csrf_token": planted})
    assert response.status_code == 302
    assert client.post("/dashboard/language", data={"locale": "en", "csrf_token": planted}).status_code == 400
    fresh = auth.csrf("/dashboard/comments")
    assert fresh != planted
    assert client.post("/dashboard/language", data={"locale": "en", "csrf_token": fresh}).status_code == 302


def test_nothing_planted_in_the_session_before_sign_in_survives_it(app, client, auth):
    email = auth.create("editor")
    with client.session_transaction() as sess:
        sess["planted"] = "by someone else"
    assert auth.login(email).status_code == 302
    with client.session_transaction() as sess:
        assert "planted" not in sess
