"""The error-report side of the reader widget in real Chromium (issue #17, reader side): a selection
over the length limit, the dialog on a short landscape touch screen, the headline and lead through
a data-article selector list, the wording at the rate limit, axe on the dialog."""
import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import Comment, Site, TypoReport
from moderation.schemas.limits import CONTEXT_MAX, EXACT_MAX
from moderation.site_registry import registry

from support.axe import axe_violations, describe
from support.browser import TYPO, drag_select, expected_context, open_demo, shadow_text, wait_for_text
from support.payloads import comment_payload, report_payload

pytestmark = pytest.mark.browser

DIALOG = "[role=dialog]"
SEND = "[role=dialog] button[type=submit]"
# Selects the first occurrence of a text inside the first element matching a selector (as a reader
# would with a long press or a drag; the keyboard path only reads the selection).
SELECT_IN = """([selector, needle]) => {
  const w = document.createTreeWalker(document.querySelector(selector), NodeFilter.SHOW_TEXT); let n;
  while ((n = w.nextNode())) { const at = n.data.indexOf(needle);
    if (at >= 0) { const r = document.createRange(); r.setStart(n, at); r.setEnd(n, at + needle.length);
      getSelection().removeAllRanges(); getSelection().addRange(r); return true; } }
  return false;
}"""


def stored_reports(app):
    with app.app_context():
        return [dict(exact=r.exact, prefix=r.prefix, suffix=r.suffix)
                for r in db.session.execute(sa.select(TypoReport).order_by(TypoReport.id)).scalars()]


def squashed(page, selector):
    return page.evaluate("(s) => document.querySelector(s).textContent.replace(/\\s+/g, ' ')", selector)


def set_demo_site(app, **fields):
    with app.app_context():
        site = db.session.execute(sa.select(Site).where(Site.key == "demo")).scalar_one()
        for name, value in fields.items():
            setattr(site, name, value)
        db.session.commit()
        registry().invalidate()


def test_a_long_selection_is_shortened_visibly_and_its_context_follows_what_is_sent(
        app, live_server, new_page, drain):
    page = open_demo(new_page, live_server)
    paragraphs = page.locator("[data-article] p").all_inner_texts()
    start, end = " ".join(paragraphs[1].split()[:2]), " ".join(paragraphs[2].split()[-2:])
    drag_select(page, start, end)
    assert len(page.evaluate("getSelection().toString()")) > EXACT_MAX
    page.keyboard.press("Control+Enter")
    page.locator(DIALOG).wait_for()

    text = squashed(page, "[data-article]")
    at = text.index(start)
    want = text[at:at + EXACT_MAX].rstrip()
    # The reader is told, and sees exactly what will be sent, followed by the text that follows it.
    assert f"Ваше выделение сокращено до {EXACT_MAX} символов" in page.locator(DIALOG).inner_text()
    assert page.locator("mark").text_content() == want
    context = page.locator(".ctx").text_content()
    after = text[at + len(want):][:CONTEXT_MAX]
    assert context.endswith(want + after + "…"), context[-200:]
    page.locator(SEND).click()
    wait_for_text(page, "Спасибо")
    drain()
    [report] = stored_reports(app)
    assert report["exact"] == want
    assert (report["prefix"], report["suffix"]) == tuple(expected_context(page, want).values())
    assert report["suffix"] == after


def test_the_dialog_fits_a_short_landscape_touch_screen_and_send_is_reachable(app, live_server, new_page, drain):
    page = open_demo(new_page, live_server, has_touch=True, is_mobile=True,
                     viewport={"width": 740, "height": 360})
    assert page.evaluate(SELECT_IN, ["[data-article]", TYPO])
    page.locator("button.fab").tap()
    box = page.locator(".dlg").bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= 360, box
    send = page.locator(SEND)
    send.scroll_into_view_if_needed()
    b = send.bounding_box()
    assert 0 <= b["y"] and b["y"] + b["height"] <= 360, b
    # Nothing covers it: the point at its centre is the button itself.
    assert page.evaluate("""([x, y]) => { const host = [...document.querySelectorAll('[data-moderation-widget]')]
        .find(h => h.shadowRoot.querySelector('[role=dialog]'));
        return host.shadowRoot.elementFromPoint(x, y) === host.shadowRoot.querySelector('button[type=submit]'); }""",
                         [b["x"] + b["width"] / 2, b["y"] + b["height"] / 2])
    send.tap()
    wait_for_text(page, "Спасибо")
    drain()
    assert [r["exact"] for r in stored_reports(app)] == [TYPO]


@pytest.mark.parametrize("selector, needle", [("h1", "трамвайную линию"), (".lead", "7,4 километра")])
def test_the_headline_and_the_lead_are_reportable_through_the_selector_list(
        app, live_server, new_page, drain, selector, needle):
    page = open_demo(new_page, live_server)
    assert page.evaluate(SELECT_IN, [selector, needle])
    page.keyboard.press("Control+Enter")
    assert page.locator("mark").text_content() == needle
    assert "сокращено" not in shadow_text(page)  # short: nothing was cut
    page.locator(SEND).click()
    wait_for_text(page, "Спасибо")
    drain()
    [report] = stored_reports(app)
    # The context is the headline's (or the lead's) own text, not the article body's.
    text = squashed(page, selector)
    at = text.index(needle)
    assert report == {"exact": needle, "prefix": text[:at][-CONTEXT_MAX:],
                      "suffix": text[at + len(needle):][:CONTEXT_MAX]}


def test_text_outside_the_listed_elements_stays_unreportable(live_server, new_page):
    page = open_demo(new_page, live_server)
    assert page.evaluate(SELECT_IN, [".byline", "Марина Светлова"])
    page.keyboard.press("Control+Enter")
    assert page.locator(DIALOG).count() == 0


def test_at_the_rate_limit_the_reader_is_told_it_will_be_sent_and_it_is(app, live_server, new_page, drain):
    # One submission per 5 s window; the test client takes this window's one (same address).
    set_demo_site(app, rate_limit_reports="1/5 seconds", rate_limit_comments="1/5 seconds")
    page = open_demo(new_page, live_server)
    api = app.test_client()
    page_url = f"{live_server}/demo"
    assert api.post("/api/v1/reports", json=report_payload(site="demo", url=page_url)).status_code == 202
    drag_select(page, TYPO)
    page.keyboard.press("Control+Enter")
    page.locator(SEND).click()
    wait_for_text(page, "Сохранено: будет отправлено автоматически.")
    assert "Слишком много" not in shadow_text(page)
    # ...and it is: sent after Retry-After, without the reader doing anything.
    page.wait_for_function("() => JSON.parse(localStorage.getItem('moderation:outbox') || '[]').length === 0",
                           timeout=15_000)
    drain()
    assert TYPO in [r["exact"] for r in stored_reports(app)]

    # A comment at the limit is shown to its author as not sent yet, then as awaiting moderation.
    assert api.post("/api/v1/comments", json=comment_payload(site="demo", url=page_url)).status_code == 202
    page.locator("#mc-n").fill("Пётр")
    page.locator("#mc-b").fill("Когда откроют движение?")
    page.locator("form button[type=submit]").last.click()
    wait_for_text(page, "Сохранено: будет отправлено автоматически.")
    wait_for_text(page, "ещё не отправлен")
    assert "ожидает модерации" not in shadow_text(page)
    page.wait_for_function("() => JSON.parse(localStorage.getItem('moderation:outbox') || '[]').length === 0",
                           timeout=15_000)
    wait_for_text(page, "ожидает модерации", timeout=10.0)
    assert "ещё не отправлен" not in shadow_text(page)
    drain()
    with app.app_context():
        bodies = db.session.execute(sa.select(Comment.body_raw)).scalars().all()
    assert any("Когда откроют движение?" in b for b in bodies)


def test_the_dialog_has_no_axe_violations(live_server, new_page):
    page = open_demo(new_page, live_server)
    paragraphs = page.locator("[data-article] p").all_inner_texts()
    drag_select(page, " ".join(paragraphs[1].split()[:2]), " ".join(paragraphs[2].split()[-2:]))
    page.keyboard.press("Control+Enter")
    page.locator(DIALOG).wait_for()
    assert "сокращено" in shadow_text(page)  # the state with the shortening note
    # The dialog's own tree (the comments block is another helper's; its empty feed is reported apart).
    found = axe_violations(page, {"include": [{"fromShadowDom": ["body > [data-moderation-widget]", ".bg"]}]})
    assert found == [], describe(found)


def test_an_article_without_comments_has_no_axe_violations(live_server, new_page):
    """The empty comments block ("No comments yet", the form): its empty list is no bare feed."""
    page = open_demo(new_page, live_server)
    wait_for_text(page, "Комментариев пока нет")
    found = [v for v in axe_violations(page) if any("data-moderation" in t for t in v["targets"])]
    assert found == [], describe(found)
