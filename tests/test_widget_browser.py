"""The reader widget in real headless Chromium against /demo: reports, comments, resilience, XSS."""
import re
import time

import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import Comment, CommentFlag, TypoReport

from support.browser import TYPO, open_demo, wait_for_text, drag_select, expected_context, shadow_text

pytestmark = pytest.mark.browser

def reports(app):
    with app.app_context():
        return [
            dict(exact=r.exact, prefix=r.prefix, suffix=r.suffix, suggestion=r.suggestion,
                 kind=r.kind, comment=r.comment, position=r.position, client_id=r.client_id)
            for r in db.session.execute(sa.select(TypoReport).order_by(TypoReport.id)).scalars()
        ]


def send_report(page, suggestion=None):
    dialog = page.locator("[role=dialog]")
    dialog.wait_for()
    if suggestion is not None:
        page.locator("#mw-s").fill(suggestion)
    page.locator("#mw-c").fill("проверьте, пожалуйста")
    page.locator("[role=dialog] button[type=submit]").click()


@pytest.mark.parametrize("keys", ["Control+Enter", "Meta+Enter"])
def test_drag_select_and_keys_send_a_report_with_its_context(app, live_server, new_page, drain, keys):
    page = open_demo(new_page, live_server)
    drag_select(page, TYPO)
    assert page.evaluate("getSelection().toString()") == TYPO
    page.keyboard.press(keys)
    # The dialog shows the selection marked in its context, the suggestion prefilled.
    assert page.locator("mark").inner_text() == TYPO
    assert page.locator("#mw-s").input_value() == TYPO
    send_report(page, "объявил")
    wait_for_text(page, "Спасибо")
    drain()
    [report] = reports(app)
    want = expected_context(page, TYPO)
    assert (report["exact"], report["suggestion"], report["kind"]) == (TYPO, "объявил", "typo")
    assert report["prefix"] == want["prefix"] and report["suffix"] == want["suffix"]
    assert 0 < len(report["prefix"]) <= 64 and len(report["suffix"]) == 64
    assert report["comment"] == "проверьте, пожалуйста"


def test_selection_across_paragraphs_and_backwards_gives_the_same_quote(app, live_server, new_page, drain):
    page = open_demo(new_page, live_server)
    paragraphs = page.locator("[data-article] p").all_inner_texts()
    first_end = " ".join(paragraphs[1].split()[-2:])  # last words of the 2nd paragraph
    second_start = " ".join(paragraphs[2].split()[:2])  # first words of the 3rd
    for backwards in (False, True):
        drag_select(page, first_end, second_start, backwards=backwards)
        page.keyboard.press("Control+Enter")
        send_report(page)
        wait_for_text(page, "Спасибо")
        # The dialog closes itself after the thanks (and the follow-up on duplicates).
        page.locator("[role=dialog]").wait_for(state="detached", timeout=10_000)
    drain()
    forward, backward = reports(app)
    assert forward["exact"] == backward["exact"]
    assert forward["exact"].startswith(first_end), (forward["exact"], first_end)
    assert forward["exact"].endswith(second_start), (forward["exact"], second_start)
    want = expected_context(page, forward["exact"])
    for report in (forward, backward):
        assert (report["prefix"], report["suffix"]) == (want["prefix"], want["suffix"])


def test_keys_inside_a_textarea_keep_their_meaning(live_server, new_page):
    page = open_demo(new_page, live_server)
    page.locator("[data-moderation-comments] [data-moderation-widget]").wait_for(state="attached")
    drag_select(page, TYPO)
    textarea = page.locator("#mc-b")
    textarea.focus()
    textarea.press("Control+Enter")
    assert page.locator("[role=dialog]").count() == 0


def test_escape_closes_the_dialog_and_returns_focus(live_server, new_page):
    page = open_demo(new_page, live_server)
    page.evaluate("() => { const a = document.createElement('a'); a.href = '#x'; a.id = 'before';"
                  " a.textContent = 'x'; document.body.prepend(a); a.focus(); }")
    drag_select(page, TYPO)
    page.evaluate("document.getElementById('before').focus()")
    page.keyboard.press("Control+Enter")
    dialog = page.locator("[role=dialog]")
    assert dialog.get_attribute("aria-modal") == "true"
    # Focus is trapped: Tab from the last control wraps to the first.
    page.locator("[role=dialog] button[type=submit]").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("[...document.querySelectorAll('[data-moderation-widget]')]"
                         ".find(h => h.shadowRoot.querySelector('[role=dialog]'))"
                         ".shadowRoot.activeElement.id") == "mw-s"
    page.keyboard.press("Escape")
    assert dialog.count() == 0
    assert page.evaluate("document.activeElement.id") == "before"


def test_touch_screens_get_a_floating_button(live_server, new_page):
    page = open_demo(new_page, live_server, has_touch=True, is_mobile=True,
                     viewport={"width": 390, "height": 800})
    page.evaluate("""(needle) => {
        const root = document.querySelector('[data-article]');
        const w = document.createTreeWalker(root, NodeFilter.SHOW_TEXT); let n;
        while ((n = w.nextNode())) { const at = n.data.indexOf(needle);
          if (at >= 0) { const r = document.createRange(); r.setStart(n, at); r.setEnd(n, at + needle.length);
            getSelection().removeAllRanges(); getSelection().addRange(r); return; } }
    }""", TYPO)
    button = page.locator("button.fab")
    button.wait_for(timeout=3000)
    assert button.inner_text() == "Сообщить об ошибке"
    button.tap()
    assert page.locator("mark").inner_text() == TYPO


def test_blocked_api_keeps_the_report_and_delivers_it_once_later(app, live_server, new_page, drain):
    page = open_demo(new_page, live_server)
    page.route(re.compile(r".*/api/v1/reports$"), lambda route: route.abort())
    drag_select(page, TYPO)
    page.keyboard.press("Control+Enter")
    send_report(page, "объявил")
    wait_for_text(page, "Сохранено")
    kept = page.evaluate("JSON.parse(localStorage.getItem('moderation:outbox'))")
    assert len(kept) == 1 and kept[0]["body"]["exact"] == TYPO
    drain()
    assert reports(app) == []

    page.unroute(re.compile(r".*/api/v1/reports$"))
    page.reload()
    page.wait_for_function("() => JSON.parse(localStorage.getItem('moderation:outbox') || '[]').length === 0")
    page.reload()  # a second load must not send it again
    page.wait_for_timeout(500)
    drain()
    [report] = reports(app)
    assert report["client_id"] == kept[0]["body"]["client_id"]


def test_comment_is_shown_pending_to_its_author_then_live_everywhere(app, live_server, new_page, drain, staff):
    author = open_demo(new_page, live_server)
    other = open_demo(new_page, live_server)
    author.locator("#mc-n").fill("Пётр")
    author.locator("#mc-b").fill("Когда откроют движение?")
    author.locator("form button[type=submit]").last.click()
    wait_for_text(author, "ожидает модерации")
    assert "Когда откроют движение?" not in shadow_text(other)
    drain()
    with app.app_context():
        comment_id = db.session.execute(sa.select(Comment.id)).scalar_one()
    headers = staff.headers("moderator")
    with app.test_client() as client:
        assert client.post(f"/api/v1/moderation/comments/{comment_id}/approve", headers=headers).status_code == 200
    wait_for_text(other, "Когда откроют движение?", timeout=5.0)  # live, no reload
    wait_for_text(author, "Когда откроют движение?", timeout=6.0)
    author.wait_for_timeout(200)
    assert "ожидает модерации" not in shadow_text(author)


def test_the_authors_comment_stays_shown_while_a_shared_cache_serves_an_older_list(
        app, live_server, new_page, drain, staff):
    # Behind nginx or a CDN the list answer may be a few seconds old when the status lookup
    # already says "published": the reader's own comment must not vanish in between.
    author = open_demo(new_page, live_server)
    older = app.test_client().get(f"/api/v1/comments?site=demo&url={live_server}/demo").get_data(as_text=True)
    stale = {"on": True, "served": 0}

    def shared_cache(route):
        if stale["on"]:
            stale["served"] += 1
            route.fulfill(status=200, body=older, headers={"Content-Type": "application/json"})
        else:
            route.continue_()

    author.route(re.compile(r".*/api/v1/comments\?.*"), shared_cache)
    author.locator("#mc-n").fill("Пётр")
    author.locator("#mc-b").fill("Когда откроют движение?")
    author.locator("form button[type=submit]").last.click()
    wait_for_text(author, "ожидает модерации")
    drain()
    with app.app_context():
        comment_id = db.session.execute(sa.select(Comment.id)).scalar_one()
    with app.test_client() as client:
        assert client.post(f"/api/v1/moderation/comments/{comment_id}/approve",
                           headers=staff.headers("moderator")).status_code == 200

    def known_published():
        return author.evaluate("() => (JSON.parse(localStorage.getItem('moderation:mine')) || [])"
                               ".some(m => m.shown)")

    wait_until(author, known_published)
    served = stale["served"]
    wait_until(author, lambda: stale["served"] > served)  # a list answer without it came after
    assert "Когда откроют движение?" in shadow_text(author)
    stale["on"] = False
    wait_until(author, lambda: "ожидает модерации" not in shadow_text(author))
    assert "Когда откроют движение?" in shadow_text(author)


def wait_until(page, predicate, timeout=10.0):
    """Polls through Playwright's own waits, so its route handlers keep running meanwhile."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        page.wait_for_timeout(100)


XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    '<a href="javascript:alert(3)">click</a>',
    "<svg onload=alert(4)>",
    '"><iframe src="javascript:alert(5)"></iframe>',
    "&lt;script&gt;alert(6)&lt;/script&gt;",
    "<details open ontoggle=alert(7)>",
]


def test_xss_payloads_in_approved_comments_render_as_text(app, live_server, new_page, drain, staff):
    app.config["RATELIMIT_ENABLED"] = False  # many comments from one address, on purpose
    client = app.test_client()
    for i, body in enumerate(XSS):
        response = client.post("/api/v1/comments", json={
            "site": "demo", "url": live_server + "/demo", "author": f"<b>x{i}</b>", "body": body,
            "client_id": f"xss-{i:04d}-0000",
        })
        assert response.status_code == 202, response.json
    drain()
    headers = staff.headers("moderator")
    with app.app_context():
        ids = db.session.execute(sa.select(Comment.id)).scalars().all()
    for comment_id in ids:
        assert client.post(f"/api/v1/moderation/comments/{comment_id}/approve", headers=headers).status_code == 200
    page = open_demo(new_page, live_server)
    wait_for_text(page, "<b>x6</b>")
    page.wait_for_timeout(500)
    assert page.dialogs == [] and page.errors == []
    injected = page.evaluate(
        "() => [...document.querySelectorAll('[data-moderation-widget]')].map(h =>"
        " h.shadowRoot.querySelectorAll('script,img,svg,iframe,details,[onerror],[onload]').length)"
        ".reduce((a, b) => a + b, 0)"
    )
    assert injected == 0
    assert "<script>alert(1)</script>" in shadow_text(page)


def _no_integrity(html):
    return re.sub(r' integrity="[^"]*"', "", html)


@pytest.mark.parametrize(
    "edit, title",
    [
        (lambda html: html, "Сообщить об ошибке"),  # the demo names widget.ru.js
        (lambda html: _no_integrity(html.replace("widget.ru.js", "widget.kk.js")), "Қате туралы хабарлау"),
        # neither data-lang nor <html lang="ru"> changes the bundle's language
        (lambda html: _no_integrity(html.replace("widget.ru.js", "widget.js")), "Report an error"),
    ],
)
def test_the_bundle_the_tag_names_is_the_language(live_server, new_page, edit, title):
    page = new_page()

    def rewrite(route):
        response = route.fetch()
        route.fulfill(response=response, body=edit(response.text()))

    page.route(live_server + "/demo", rewrite)
    page.goto(live_server + "/demo")
    page.wait_for_function("() => window.__moderationWidget === true")
    drag_select(page, TYPO)
    page.keyboard.press("Control+Enter")
    assert page.locator("[role=dialog] h2").inner_text() == title


def test_a_reader_flags_a_comment_once_with_a_reason(app, live_server, new_page, drain, staff):
    client = app.test_client()
    response = client.post("/api/v1/comments", json={
        "site": "demo", "url": live_server + "/demo", "author": "Тролль", "body": "Купите наши окна!",
        "client_id": "flag-me-0001"})
    assert response.status_code == 202
    drain()
    with app.app_context():
        comment_id = db.session.execute(sa.select(Comment.id)).scalar_one()
    assert client.post(f"/api/v1/moderation/comments/{comment_id}/approve",
                       headers=staff.headers("moderator")).status_code == 200
    page = open_demo(new_page, live_server)
    wait_for_text(page, "Купите наши окна!")
    page.get_by_role("button", name="Пожаловаться").click()
    page.locator("button[data-reason=spam]").click()
    assert page.get_by_role("button", name="Жалоба отправлена").count() == 1
    page.wait_for_function("() => JSON.parse(localStorage.getItem('moderation:outbox') || '[]').length === 0")
    drain()
    with app.app_context():
        flags = db.session.execute(sa.select(CommentFlag.comment_id, CommentFlag.reason)).all()
    assert [tuple(f) for f in flags] == [(comment_id, "spam")]


def test_works_under_a_strict_csp_allowing_scripts_only_from_the_service(app, live_server, new_page, drain):
    page = new_page()
    violations = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)

    def with_csp(route):
        response = route.fetch()
        headers = dict(response.headers)
        headers["content-security-policy"] = (
            f"default-src 'none'; script-src {live_server}; connect-src {live_server}; "
            "style-src 'unsafe-inline'; img-src 'self'"
        )
        route.fulfill(response=response, headers=headers)

    page.route(live_server + "/demo", with_csp)
    page.goto(live_server + "/demo")
    page.wait_for_function("() => window.__moderationWidget === true")
    drag_select(page, TYPO)
    page.keyboard.press("Control+Enter")
    send_report(page, "объявил")
    wait_for_text(page, "Спасибо")
    drain()
    assert [r["exact"] for r in reports(app)] == [TYPO]
    assert violations == []


def test_show_more_loads_the_threads_past_the_first_fifty(app, live_server, new_page, drain, staff):
    app.config["RATELIMIT_ENABLED"] = False
    client = app.test_client()
    for i in range(53):
        assert client.post("/api/v1/comments", json={
            "site": "demo", "url": live_server + "/demo", "author": f"Читатель {i}",
            "body": f"Комментарий номер {i}", "client_id": f"more-{i:04d}-0000"}).status_code == 202
    drain()
    headers = staff.headers("moderator")
    with app.app_context():
        ids = db.session.execute(sa.select(Comment.id)).scalars().all()
    for comment_id in ids:
        client.post(f"/api/v1/moderation/comments/{comment_id}/approve", headers=headers)
    page = open_demo(new_page, live_server)
    wait_for_text(page, "Комментарий номер 49")
    assert "Комментарий номер 50" not in shadow_text(page)
    page.get_by_role("button", name="Показать ещё").click()
    wait_for_text(page, "Комментарий номер 52")
    assert page.get_by_role("button", name="Показать ещё").is_hidden()


def test_second_reader_of_a_spot_hears_the_editors_already_know(app, live_server, new_page, drain):
    first = open_demo(new_page, live_server)
    drag_select(first, TYPO)
    first.keyboard.press("Control+Enter")
    send_report(first, "объявил")
    wait_for_text(first, "Спасибо")
    drain()
    second = open_demo(new_page, live_server)
    drag_select(second, TYPO)
    second.keyboard.press("Control+Enter")
    send_report(second, "объявил")
    wait_for_text(second, "Спасибо")
    drain()  # while the dialog asks the server about its report
    wait_for_text(second, "уже сообщили", timeout=4.0)


def test_more_replies_pages_through_a_long_thread_and_keeps_them_across_polls(app, live_server, new_page):
    from moderation.models import Page, Site
    from moderation.models.sites import url_hash
    from moderation.services.comments_feed import REPLIES_SHOWN
    from moderation.urls import normalize_url

    url = normalize_url(live_server + "/demo")
    with app.app_context():
        demo = db.session.execute(sa.select(Site).where(Site.key == "demo")).scalar_one()
        page = db.session.execute(sa.select(Page).where(Page.site_id == demo.id, Page.url_hash == url_hash(url))
                                  ).scalar_one_or_none()
        if page is None:
            page = Page(site_id=demo.id, url=url, url_hash=url_hash(url), title="Demo")
            db.session.add(page)
            db.session.flush()

        def row(body, thread=None):
            return Comment(client_id=f"seed-{body.replace(' ', '-')}"[:60], site_id=demo.id, page_id=page.id,
                           author="Читатель", body_raw=body, body_html=f"<p>{body}</p>", status="approved",
                           spam_reasons=[], parent_id=thread, thread_id=thread)

        root = row("Корень ветки")
        db.session.add(root)
        db.session.flush()
        db.session.add_all([row(f"Ответ номер {n:02d}", root.id) for n in range(60)])
        page.bump()
        db.session.commit()
        page_id = page.id
    reader = open_demo(new_page, live_server)
    wait_for_text(reader, f"Ответ номер {REPLIES_SHOWN - 1:02d}")
    assert f"Ответ номер {REPLIES_SHOWN:02d}" not in shadow_text(reader)
    button = reader.get_by_role("button", name="Ещё ответы")
    button.click()
    wait_for_text(reader, f"Ответ номер {REPLIES_SHOWN + 49:02d}")  # one page of 50 more
    assert "Ответ номер 59" not in shadow_text(reader)
    button.click()
    wait_for_text(reader, "Ответ номер 59")
    assert button.is_hidden()
    with app.app_context():  # a new version of the list: the next poll re-renders it
        db.session.get(Page, page_id).bump()
        db.session.commit()
    reader.wait_for_timeout(5000)
    text = shadow_text(reader)
    assert "Ответ номер 59" in text and text.count("Ответ номер 30") == 1
