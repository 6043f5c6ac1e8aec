"""Real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, and a live server."""
import os
import re
import threading
import time

import pytest
from werkzeug.serving import make_server

from support.accounts import AuthActions
from support.net import free_port

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags Chromium keeps dialing Google on a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def live_server(app):
    """The app on a free loopback port, threaded, with the demo site allowing that origin."""
    from moderation.demo import ensure_demo

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with app.app_context():
        ensure_demo(base)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base
    server.shutdown()
    thread.join(5)


@pytest.fixture
def new_page(browser):
    """Pages in fresh browser contexts (own localStorage); all closed after the test."""
    contexts = []

    def make(**context_options):
        context = browser.new_context(**context_options)
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.dialogs = []
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))

        def on_dialog(dialog):
            page.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        return page

    yield make
    for context in contexts:
        context.close()


# Finds the start and end texts in the article's text nodes, scrolls once, and returns the
# viewport rectangles of the first character of one and the last of the other, so a test
# can drag the mouse over them like a reader.
RECTS_OF = """([startText, endText]) => {
  const root = document.querySelector('[data-article]');
  const find = (needle) => {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    let node;
    while ((node = walker.nextNode())) {
      const at = node.data.indexOf(needle);
      if (at >= 0) return [node, at];
    }
    return null;
  };
  const a = find(startText), b = find(endText);
  if (!a || !b) return null;
  a[0].parentElement.scrollIntoView({block: 'center'});
  const rect = (node, from) => { const r = document.createRange();
    r.setStart(node, from); r.setEnd(node, from + 1); return r.getBoundingClientRect(); };
  const first = rect(a[0], a[1]), last = rect(b[0], b[1] + endText.length - 1);
  return {x1: first.left, y1: first.top + first.height / 2, x2: last.right, y2: last.top + last.height / 2};
}"""


def drag_select(page, start_text, end_text=None, backwards=False):
    """Select from the first character of start_text to the last of end_text with the mouse."""
    r = page.evaluate(RECTS_OF, [start_text, end_text or start_text])
    assert r, f"{start_text!r} / {end_text!r} not found in the article"
    start, end = (r["x1"] + 1, r["y1"]), (r["x2"] - 1, r["y2"])
    if backwards:
        start, end = end, start
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=8)
    page.mouse.up()


def shadow_text(page):
    """All text inside the widget's shadow roots (dialog, comments, buttons)."""
    return page.evaluate(
        "() => [...document.querySelectorAll('[data-moderation-widget]')]"
        ".map(h => h.shadowRoot.textContent).join('\\n')"
    )


def expected_context(page, exact):
    """What the W3C TextQuoteSelector should hold for the first occurrence of `exact`."""
    return page.evaluate(
        """(exact) => {
          const text = document.querySelector('[data-article]').textContent.replace(/\\s+/g, ' ');
          const at = text.indexOf(exact);
          if (at < 0) return null;
          return {prefix: text.slice(0, at).slice(-64), suffix: text.slice(at + exact.length).slice(0, 64)};
        }""",
        exact,
    )


# The demo article (moderation.demo) has this typo for the widget tests to report.
TYPO = "обьявил"


def open_demo(new_page, live_server, **context_options):
    page = new_page(**context_options)
    page.goto(live_server + "/demo")
    page.wait_for_function("() => window.__moderationWidget === true")
    return page


def wait_for_text(page, text, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in shadow_text(page):
            return True
        page.wait_for_timeout(100)
    raise AssertionError(f"{text!r} did not appear; widget shows: {shadow_text(page)[:500]!r}")


def sign_in(page, live_server, email):
    page.goto(live_server + "/dashboard/login")
    page.fill("#email", email)
    page.fill("#password", AuthActions.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/dashboard/(comments|reports).*"))
