"""The dashboard's layout in real headless Chromium: a phone's width, contrast, the reader dialog's role."""
import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import Comment, Site, Webhook

from support.browser import sign_in

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True,
         "device_scale_factor": 3}
LONG_URL = "https://news.example/" + "очень-длинный-адрес-статьи-" * 6


def _seed(app, client, live_server, drain):
    """Two comments (one long, with a long word and link) and an error report on the demo site."""
    bodies = ("Короткий комментарий", "Длинный комментарий без пробелов: " + "оченьдлинноеслово" * 12
              + " и ссылка " + LONG_URL)
    for i, body in enumerate(bodies):
        assert client.post("/api/v1/comments", json={
            "site": "demo", "url": live_server + "/demo", "author": "Анна Каренина-Вронская", "body": body,
            "client_id": f"phone-{i:04d}-comment"}).status_code == 202
    assert client.post("/api/v1/reports", json={
        "site": "demo", "url": live_server + "/demo", "exact": "обьявил", "prefix": "в четверг ",
        "suffix": " о начале", "suggestion": "объявил", "comment": "опечатка", "client_id": "phone-report-01"},
        environ_base={"REMOTE_ADDR": "10.9.1.1"}).status_code == 202
    drain()


def _width(page):
    return page.evaluate("document.documentElement.scrollWidth")


def _wider_than_the_screen(page):
    """What sticks out (for the failure message)."""
    return page.evaluate("""() => [...document.querySelectorAll('body *')]
      .filter(e => e.getBoundingClientRect().right > 390.5)
      .slice(-8).map(e => e.tagName.toLowerCase() + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))""")


@pytest.mark.parametrize("locale", ["en-US", "kk-KZ"])  # Kazakh words run longer
def test_the_dashboard_fits_a_phone_without_sideways_scrolling(app, live_server, new_page, auth, drain, locale):
    client = app.test_client()
    _seed(app, client, live_server, drain)
    page = new_page(locale=locale, **PHONE)
    sign_in(page, live_server, auth.create("admin"))
    for path in ("/dashboard/comments", "/dashboard/reports", "/dashboard/audit", "/dashboard/admin/sites",
                 "/dashboard/stats", "/dashboard/comments?status=approved"):
        page.goto(live_server + path)
        assert _width(page) <= 390, (path, _width(page), _wider_than_the_screen(page))
    # The cards stack and every action of the first card is on the screen.
    page.goto(live_server + "/dashboard/comments")
    cards = page.locator(".queue .item")
    assert cards.count() == 2
    boxes = [cards.nth(i).bounding_box() for i in range(2)]
    assert boxes[1]["y"] >= boxes[0]["y"] + boxes[0]["height"] - 1
    for control in cards.first.locator(".actions button, .actions summary, .actions select, .actions input").all():
        if control.is_visible():
            box = control.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 390, control.evaluate("e => e.outerHTML")
    # Keys still work with a keyboard attached: `a` approves the focused card.
    page.keyboard.press("a")
    page.wait_for_function("() => document.querySelectorAll('.queue .item').length === 1")
    with app.app_context():
        assert db.session.execute(sa.select(Comment.status).order_by(Comment.id)).scalars().all() == [
            "approved", "pending"]
    page.goto(live_server + "/dashboard/audit")
    assert _width(page) <= 390, _wider_than_the_screen(page)


def _contrast(page, selector):
    return page.evaluate("""(selector) => {
      const el = document.querySelector(selector), style = getComputedStyle(el);
      const rgb = (v) => v.match(/[\\d.]+/g).slice(0, 3).map(Number);
      const lum = (c) => { const [r, g, b] = c.map(x => { x /= 255;
        return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
      const [a, b] = [lum(rgb(style.color)), lum(rgb(style.backgroundColor))];
      return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    }""", selector)


def test_the_webhook_delete_button_is_readable(app, live_server, new_page, auth):
    with app.app_context():
        site = db.session.execute(sa.select(Site).where(Site.key == "demo")).scalar_one()
        hook = Webhook(site_id=site.id, url="http://127.0.0.1:9/hook", events=["cluster.fixed"])
        db.session.add(hook)
        db.session.commit()
        hook_id = hook.id
    page = new_page()
    sign_in(page, live_server, auth.create("admin"))
    page.goto(live_server + f"/dashboard/admin/webhooks/{hook_id}")
    delete = f"form[action$='/webhooks/{hook_id}/delete'] button"
    assert page.locator(delete).inner_text() == "Delete"
    assert _contrast(page, delete) >= 4.5


def test_the_reader_dialog_role_is_not_on_a_form(live_server, new_page):
    """axe aria-allowed-role: a <form> may not be a dialog; a wrapping element carries the role."""
    from support.browser import drag_select

    page = new_page()
    page.goto(live_server + "/demo")
    page.wait_for_function("() => window.__moderationWidget === true")
    drag_select(page, "обьявил")
    page.keyboard.press("Control+Enter")
    dialog = page.locator("[role=dialog]")
    dialog.wait_for()
    assert dialog.evaluate("e => e.tagName") == "DIV"
    assert dialog.evaluate("e => e.getAttribute('aria-modal')") == "true"
    assert dialog.locator("form button[type=submit]").count() == 1
    assert dialog.locator("h2").inner_text() == dialog.evaluate(
        "e => e.getRootNode().getElementById(e.getAttribute('aria-labelledby')).textContent")
