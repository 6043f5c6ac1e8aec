"""Security headers: the dashboard's strict CSP (proven in Chromium to break nothing), nosniff on
the APIs, cookie flags and SECRET_KEY in production."""
import re

import pytest

from moderation import create_app
from moderation.security import API_CSP, DASHBOARD_CSP

from support.payloads import comment_payload, report_payload

CSP_DIRECTIVES = {
    "script-src": "'self'", "object-src": "'none'", "base-uri": "'none'",
    "frame-ancestors": "'none'", "form-action": "'self'", "style-src": "'self'", "default-src": "'self'",
}


def directives(header):
    return {part.split()[0]: " ".join(part.split()[1:]) for part in header.split(";") if part.strip()}


def assert_dashboard_headers(response):
    csp = response.headers.get("Content-Security-Policy")
    assert csp, f"no CSP on {response.request.path}"
    found = directives(csp)
    for name, value in CSP_DIRECTIVES.items():
        assert found.get(name) == value, (name, csp)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "nonce-" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_policy_is_the_documented_one():
    assert directives(DASHBOARD_CSP)["script-src"] == "'self'"
    assert directives(API_CSP)["default-src"] == "'none'"


@pytest.mark.parametrize("path, status", [
    ("/dashboard/login", 200),
    ("/dashboard/comments", 302),  # anonymous: the redirect to login carries them too
    ("/dashboard/no-such-page", 404),  # unrouted: a plain 404, headers still on
])
def test_dashboard_headers_for_anonymous_visitors(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    assert_dashboard_headers(response)


@pytest.mark.parametrize("path", [
    "/dashboard/comments", "/dashboard/reports", "/dashboard/audit", "/dashboard/stats",
    "/dashboard/health", "/dashboard/admin/sites", "/dashboard/admin/users", "/dashboard/counts.json",
    "/dashboard/comments/999999",
])
def test_dashboard_headers_for_signed_in_pages_and_errors(client, auth, path):
    auth.login(role="admin")
    response = client.get(path)
    assert response.status_code in (200, 404)
    assert_dashboard_headers(response)


def test_dashboard_pages_have_no_inline_script_style_or_handler(client, auth, site, drain):
    """What the CSP would block is not in our markup at all (the browser test proves the rest)."""
    client.post("/api/v1/comments", json=comment_payload())
    client.post("/api/v1/reports", json=report_payload())
    drain()
    auth.login(role="admin")
    for path in ("/dashboard/login", "/dashboard/comments", "/dashboard/reports", "/dashboard/audit",
                 "/dashboard/stats", "/dashboard/health", "/dashboard/admin/sites", "/dashboard/admin/users",
                 "/dashboard/comments/1", "/dashboard/reports/1", f"/dashboard/admin/sites/{site.id}/screening"):
        html = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"\son[a-z]+\s*=", html), path
        assert not re.search(r"\sstyle\s*=", html), path
        assert "javascript:" not in html, path


@pytest.mark.parametrize("method, path, kwargs, status", [
    ("post", "/api/v1/comments", {"json": "make-comment"}, 202),
    ("post", "/api/v1/reports", {"json": {"site": "test-site"}}, 400),
    ("post", "/api/v1/reports", {"data": "x", "content_type": "text/plain"}, 415),
    ("get", "/api/v1/comments?site=test-site&url=https://news.example/a", {}, 200),
    ("get", "/api/v1/no-such-thing", {}, 404),
    ("get", "/api/v1/moderation/comments", {}, 401),
    ("get", "/healthz", {}, 200),
])
def test_api_answers_are_nosniff_and_not_renderable(client, site, method, path, kwargs, status):
    if kwargs.get("json") == "make-comment":
        kwargs = {"json": comment_payload()}
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code == status
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == API_CSP


def test_moderation_api_with_token_is_nosniff(client, staff):
    response = client.get("/api/v1/moderation/comments", headers=staff.headers("admin"))
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_demo_article_keeps_its_own_policy(client):
    """The demo stands for a newsroom's page: no dashboard CSP there, but nosniff."""
    response = client.get("/demo")
    assert "Content-Security-Policy" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_production_cookies_are_secure_httponly_samesite_on_the_wire(app, make_app):
    """The flags as sent, not only as configured: sign in over HTTPS on a production app."""
    from support.accounts import AuthActions

    prod = make_app(ENV_NAME="production", SECRET_KEY="p" * 48)
    client = prod.test_client()
    actions = AuthActions(prod, client)
    email = actions.create("editor")
    page = client.get("/dashboard/login", base_url="https://mod.news.example").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    # Flask-WTF checks the Referer over HTTPS (a CSRF defence of its own).
    response = client.post("/dashboard/login", base_url="https://mod.news.example",
                           headers={"Referer": "https://mod.news.example/dashboard/login"}, data={
        "email": email, "password": AuthActions.PASSWORD, "csrf_token": token, "remember": "1"})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    cookies = [c for c in response.headers.getlist("Set-Cookie")
               if c.startswith(("session=", "remember_token="))]
    assert {c.split("=")[0] for c in cookies} == {"session", "remember_token"}
    for cookie in cookies:
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie, cookie


def test_production_refuses_to_start_without_secret_key(tmp_path, redis_server, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"ENV_NAME": "production", "DATA_DIR": str(tmp_path), "REDIS_URL": redis_server.url})


# -- in Chromium: the CSP is enforced and nothing on our pages violates it ------------------------

# Runs before any page script: records CSP violations the page reports.
VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sourceFile || ''));
});
"""


@pytest.mark.browser
def test_dashboard_pages_run_under_the_csp_without_violations(app, live_server, new_page, auth, drain, site):
    client = app.test_client()
    url = live_server + "/demo"
    assert client.post("/api/v1/comments", json=comment_payload(site="demo", url=url)).status_code == 202
    assert client.post("/api/v1/reports", json=report_payload(site="demo", url=url)).status_code == 202
    drain()
    email = auth.create("admin")
    page = new_page()
    page.add_init_script(VIOLATIONS)
    console = []
    page.on("console", lambda msg: console.append(msg.text))
    page.goto(live_server + "/dashboard/login")
    page.fill("#email", email)
    page.fill("#password", auth.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/dashboard/comments.*"))
    pages = ["/dashboard/comments", "/dashboard/reports", "/dashboard/comments/1", "/dashboard/reports/1",
             "/dashboard/audit", "/dashboard/stats", "/dashboard/health", "/dashboard/admin/sites",
             "/dashboard/admin/users"]
    for path in pages:
        response = page.goto(live_server + path)
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        # dashboard.js ran (it focuses the first queue item and fetches the counts): scripts from 'self' work.
        page.wait_for_function("() => document.readyState === 'complete'")
        page.keyboard.press("?")
        assert page.locator("#help").is_visible(), path
        page.keyboard.press("Escape")
        assert page.evaluate("window.__cspViolations") == [], path
    # The policy is really enforced: an injected inline script is refused and reported.
    page.goto(live_server + "/dashboard/comments")
    page.evaluate("""() => { const s = document.createElement('script');
        s.textContent = 'window.__ran = 1'; document.body.appendChild(s); }""")
    page.wait_for_function("() => window.__cspViolations.length > 0")
    assert page.evaluate("window.__ran") is None
    assert page.evaluate("window.__cspViolations")[0].startswith("script-src")
    assert page.errors == []
    # The console shows exactly that one violation: none from our own pages.
    assert len([m for m in console if "Content Security Policy" in m]) == 1
