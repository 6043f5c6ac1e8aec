"""docs/embedding.md's promises about CSP and SRI, checked in real Chromium.

The demo article is served with exactly the policy the guide tells a newsroom to add
(`script-src` and `connect-src` for the service, nothing for styles): the widget must
start, style its Shadow DOM and send a report without a single CSP violation. A wrong
`integrity` value must keep the widget from running at all.
"""
import base64
import hashlib
import re
import threading

import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import Comment, Site, TypoReport

from support.browser import drag_select

pytestmark = pytest.mark.browser

TYPO = "обьявил"


def _serve_demo(page, live_server, rewrite):
    def handler(route):
        response = route.fetch()
        body, headers = rewrite(response.text(), dict(response.headers))
        route.fulfill(response=response, body=body, headers=headers)

    page.route(live_server + "/demo", handler)


def test_widget_runs_under_the_documented_csp_with_no_style_src_for_the_service(app, live_server, new_page, drain):
    page = new_page()
    violations = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)

    def with_csp(html, headers):
        # The demo article's own inline <style> is allowed by its hash: that is the page's
        # business. Nothing is allowed for the widget's styles.
        style = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
        digest = base64.b64encode(hashlib.sha256(style.encode("utf-8")).digest()).decode()
        headers["content-security-policy"] = (
            f"default-src 'none'; script-src {live_server}; connect-src {live_server}; "
            f"style-src 'sha256-{digest}'; img-src 'self'; base-uri 'none'"
        )
        assert 'integrity="sha384-' in html and 'crossorigin="anonymous"' in html
        return html, headers

    _serve_demo(page, live_server, with_csp)
    page.goto(live_server + "/demo")
    page.wait_for_function("() => window.__moderationWidget === true")
    drag_select(page, TYPO)
    page.keyboard.press("Control+Enter")
    page.locator("[role=dialog]").wait_for()
    # The constructable stylesheet applied although style-src allows nothing of ours.
    position = page.evaluate(
        "() => { const host = [...document.querySelectorAll('[data-moderation-widget]')].pop();"
        " return getComputedStyle(host.shadowRoot.querySelector('.bg')).position; }")
    assert position == "fixed"
    page.locator("#mw-s").fill("объявил")
    page.locator("[role=dialog] button[type=submit]").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-moderation-widget]')]"
        ".some(h => h.shadowRoot.textContent.includes('Спасибо'))")
    drain()
    with app.app_context():
        stored = db.session.execute(sa.select(TypoReport.exact, TypoReport.suggestion)).all()
    assert [tuple(row) for row in stored] == [(TYPO, "объявил")]
    assert violations == [] and page.errors == []


def test_a_wrong_integrity_value_keeps_the_widget_from_running(app, live_server, new_page):
    page = new_page()
    blocked = []
    page.on("console", lambda msg: blocked.append(msg.text) if "integrity" in msg.text.lower() else None)

    def wrong_sri(html, headers):
        wrong = "sha384-" + base64.b64encode(hashlib.sha384(b"another build").digest()).decode()
        return re.sub(r'integrity="sha384-[^"]+"', f'integrity="{wrong}"', html), headers

    _serve_demo(page, live_server, wrong_sri)
    page.goto(live_server + "/demo")
    page.wait_for_load_state("load")
    page.wait_for_timeout(500)
    assert page.evaluate("() => window.__moderationWidget === undefined")
    assert blocked, "Chromium should report the integrity mismatch"


@pytest.fixture
def newsroom_server():
    """A second web server, on another origin (localhost:PORT), serving one article page that
    embeds the widget from the service. A real server, not a routed response: the browser's
    local-network rules then see a loopback page talking to a loopback service."""
    from support.net import free_port  # noqa: PLC0415
    from werkzeug.serving import make_server  # noqa: PLC0415

    pages = {}

    def wsgi(environ, start_response):
        body = pages.get(environ["PATH_INFO"])
        if body is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [body.encode("utf-8")]

    port = free_port()
    server = make_server("127.0.0.1", port, wsgi, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{port}", pages
    server.shutdown()
    thread.join(5)


def test_an_article_on_the_newsrooms_own_origin_gets_live_comment_updates(
        app, live_server, new_page, drain, staff, newsroom_server):
    """The real embedding: the article on the newsroom's origin, the widget and API on the
    service's. A comment approved after the page loaded must appear there by polling,
    which sends If-None-Match cross-origin (a header that needs a CORS preflight)."""
    newsroom, pages = newsroom_server
    article = newsroom + "/2026/11/story"
    with app.app_context():
        site = db.session.execute(sa.select(Site).where(Site.key == "demo")).scalar_one()
        site.allowed_origins = list(site.allowed_origins) + [newsroom]
        db.session.commit()
    pages["/2026/11/story"] = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Story</title></head><body>"
        "<article data-article><p>The mayor anounced the new tram line yesterday.</p></article>"
        "<div data-moderation-comments></div>"
        f"<script src='{live_server}/static/js/widget.js' data-site='demo' async></script></body></html>"
    )
    page = new_page()
    failed = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.on("console", lambda msg: failed.append(msg.text) if "CORS" in msg.text else None)
    page.goto(article)
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-moderation-widget]')]"
        ".some(h => h.shadowRoot.textContent.includes('No comments yet'))")
    client = app.test_client()
    assert client.post("/api/v1/comments", json={
        "site": "demo", "url": article, "author": "Ann", "body": "Live from another origin",
        "client_id": "cross-origin-live-0001"}).status_code == 202
    drain()
    with app.app_context():
        comment_id = db.session.execute(sa.select(Comment.id)).scalar_one()
    assert client.post(f"/api/v1/moderation/comments/{comment_id}/approve",
                       headers=staff.headers("moderator")).status_code == 200
    # Polls every 4 s; the ones after the first carry If-None-Match.
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-moderation-widget]')]"
        ".some(h => h.shadowRoot.textContent.includes('Live from another origin'))", timeout=15000)
    # And a report sent from there: a JSON POST, preflighted, then stored.
    drag_select(page, "anounced")
    page.keyboard.press("Control+Enter")
    page.locator("#mw-s").fill("announced")
    page.locator("[role=dialog] button[type=submit]").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-moderation-widget]')]"
        ".some(h => h.shadowRoot.textContent.includes('Thank you'))")
    drain()
    with app.app_context():
        stored = db.session.execute(sa.select(TypoReport.exact, TypoReport.suggestion)).all()
    assert [tuple(row) for row in stored] == [("anounced", "announced")]
    assert failed == [], failed
