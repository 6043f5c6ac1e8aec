"""Dashboard sign-in: every route needs login, every POST a CSRF token, failures are throttled."""
import re

import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import User


def test_every_dashboard_route_requires_login(app, client):
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("dashboard.")]
    assert len(rules) >= 10
    for rule in rules:
        if rule.endpoint == "dashboard.login":
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
