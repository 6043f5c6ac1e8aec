"""docs/embedding.md's promises about CSP and SRI, checked in real Chromium.

The demo article is served with exactly the policy the guide tells a newsroom to add
(`script-src` and `connect-src` for the service, nothing for styles): the widget must
start, style its Shadow DOM and send a report without a single CSP violation. A wrong
`integrity` value must keep the widget from running at all.
"""
import base64
import hashlib
import re

import pytest
import sqlalchemy as sa

from browser import drag_select
from moderation.extensions import db
from moderation.models import TypoReport

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
