"""The widget's comments block in real Chromium (issue 18's widget half, #16's and #17's widget
parts): counts on a list page, likes and dislikes, the order switch and the featured mark, the
"your error was fixed" note, the corrections block and its JSON-LD, a reader editing and deleting
their own comment, and the comment form's layout and pending replies."""
import json

import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import Comment, ReportCluster, Site
from moderation.site_registry import registry

from support.browser import TYPO, drag_select, open_demo, shadow_text, wait_for_text

pytestmark = pytest.mark.browser

FEED = "[data-moderation-comments] [role=feed] > article > .b"


def publish(app, staff, drain, url, *bodies):
    """Approved comments on `url`, oldest first (each from its own address); their ids."""
    client = app.test_client()
    client_ids = []
    for i, body in enumerate(bodies):
        client_id = f"published-{len(url)}-{i:04d}-{abs(hash(body)) % 10 ** 8}"
        response = client.post("/api/v1/comments", environ_base={"REMOTE_ADDR": f"10.9.0.{i + 1}"}, json={
            "site": "demo", "url": url, "author": f"Читатель {i + 1}", "body": body, "client_id": client_id})
        assert response.status_code == 202, response.json
        client_ids.append(client_id)
    drain()
    return [approve(app, staff, client_id) for client_id in client_ids]


def approve(app, staff, client_id):
    with app.app_context():
        comment_id = db.session.execute(sa.select(Comment.id).where(Comment.client_id == client_id)).scalar_one()
    response = app.test_client().post(f"/api/v1/moderation/comments/{comment_id}/approve",
                                      headers=staff.headers("moderator"))
    assert response.status_code == 200, response.json
    return comment_id


def demo_settings(app, **settings):
    with app.app_context():
        site = db.session.execute(sa.select(Site).where(Site.key == "demo")).scalar_one()
        site.settings = dict(site.settings or {}, **settings)
        db.session.commit()
        registry().invalidate()


def listed(app, live_server):
    response = app.test_client().get("/api/v1/comments", query_string={"site": "demo", "url": live_server + "/demo"})
    assert response.status_code == 200, response.json
    return {c["body_html"]: c for c in response.json["comments"]}


def test_counts_fill_every_count_element_of_a_list_page_with_one_request(app, live_server, new_page, drain, staff):
    demo, other, none = live_server + "/demo", live_server + "/news/bridge", live_server + "/news/quiet"
    publish(app, staff, drain, demo, "Первый", "Второй")
    publish(app, staff, drain, other, "Третий")
    page = new_page()
    asked = []
    page.on("request", lambda request: asked.append(request.url) if "/api/v1/counts" in request.url else None)
    headlines = "".join(f'<li><a href="{url}">Заголовок</a> <span data-moderation-count="{url}">…</span></li>'
                        for url in (demo, other, none, demo))

    def rewrite(route):
        response = route.fetch()
        route.fulfill(response=response, body=response.text().replace("</main>", f"<ul>{headlines}</ul></main>"))

    page.route(demo, rewrite)
    page.goto(demo)
    page.wait_for_function("() => [...document.querySelectorAll('[data-moderation-count]')]"
                           ".every(n => n.textContent !== '…')")
    assert page.locator("[data-moderation-count]").all_inner_texts() == ["2", "1", "0", "2"]
    assert len(asked) == 1 and asked[0].count("url=") == 3, asked  # one request, each URL once


def test_a_reader_likes_then_dislikes_a_comment_once_and_sees_the_count_at_once(app, live_server, new_page, drain, staff):
    demo_settings(app, dislikes=True)
    publish(app, staff, drain, live_server + "/demo", "Хорошая статья")
    page = open_demo(new_page, live_server)
    page.get_by_role("button", name="Нравится 0", exact=True).click()
    liked = page.get_by_role("button", name="Нравится 1", exact=True)
    liked.wait_for()  # counted in the page before the worker ran
    assert liked.get_attribute("aria-pressed") == "true"
    assert page.evaluate("() => document.activeElement.shadowRoot.activeElement.textContent") == "Нравится 1"
    # the reader's id arrives with the first answer: the next vote is the same reader's
    page.wait_for_function("() => localStorage.getItem('moderation:reader') && localStorage.getItem('moderation:outbox') === '[]'")
    liked.click()  # the same vote again: nothing
    page.get_by_role("button", name="Не нравится 0", exact=True).click()
    page.get_by_role("button", name="Не нравится 1", exact=True).wait_for()
    assert page.get_by_role("button", name="Нравится 0", exact=True).get_attribute("aria-pressed") == "false"
    page.wait_for_function("() => localStorage.getItem('moderation:outbox') === '[]'")
    drain()
    [comment] = listed(app, live_server).values()
    assert (comment["likes"], comment["dislikes"]) == (0, 1)
    page.reload()
    disliked = page.get_by_role("button", name="Не нравится 1", exact=True)
    disliked.wait_for()
    assert disliked.get_attribute("aria-pressed") == "true"
    # no corrections for this article: no block, no structured data
    assert "Исправления" not in shadow_text(page)
    assert page.locator("script[type='application/ld+json']").count() == 0


def test_the_order_switch_starts_at_the_sites_default_and_featured_comments_come_first(
        app, live_server, new_page, drain, staff):
    demo_settings(app, default_sort="newest")
    first, second, third, fourth = publish(app, staff, drain, live_server + "/demo", "А", "Б", "В", "Г")
    client = app.test_client()
    assert client.post(f"/api/v1/comments/{second}/votes", json={
        "site": "demo", "value": 1, "client_id": "vote-for-b-0001"}).status_code == 202
    drain()
    assert client.post(f"/api/v1/moderation/comments/{fourth}/feature",
                       headers=staff.headers("moderator")).status_code == 200
    page = open_demo(new_page, live_server)
    wait_for_text(page, "Выбор редакции")
    switch = page.locator("[data-moderation-comments] select")
    assert switch.input_value() == "newest"
    assert page.locator(FEED).all_inner_texts() == ["Г", "В", "Б", "А"]
    assert page.locator("[data-moderation-comments] [role=feed] > article").first.inner_text().count("Выбор редакции") == 1
    for order, bodies in (("best", ["Г", "Б", "А", "В"]), ("oldest", ["Г", "А", "Б", "В"])):
        with page.expect_response(lambda r: f"sort={order}" in r.url):
            switch.select_option(order)
        page.wait_for_function("want => [...document.querySelector('[data-moderation-comments] [data-moderation-widget]')"
                               ".shadowRoot.querySelectorAll('[role=feed] > article > .b')].map(b => b.textContent).join() === want",
                               arg=",".join(bodies))


def test_the_reader_hears_once_that_the_error_they_reported_was_fixed(app, live_server, new_page, drain, staff):
    page = open_demo(new_page, live_server)
    drag_select(page, TYPO)
    page.keyboard.press("Control+Enter")
    page.locator("[role=dialog] button[type=submit]").click()
    wait_for_text(page, "Спасибо")
    drain()
    [client_id] = [r[0] for r in json.loads(page.evaluate("() => localStorage.getItem('moderation:reported')"))]
    page.reload()
    page.wait_for_function("() => window.__moderationWidget === true")
    note = "Спасибо — ошибку, о которой вы сообщили, исправили."
    assert note not in shadow_text(page)  # not fixed yet: the id is kept
    with app.app_context():
        cluster_id = db.session.execute(sa.select(ReportCluster.id)).scalar_one()
    response = app.test_client().post(f"/api/v1/moderation/clusters/{cluster_id}/fix",
                                      json={"correction": "объявил"}, headers=staff.headers("editor"))
    assert response.status_code == 200, response.json
    page.reload()
    wait_for_text(page, note)
    page.wait_for_function("() => localStorage.getItem('moderation:reported') === '[]'")
    asked = []
    page.on("request", lambda request: asked.append(request.url))
    with page.expect_response(lambda r: "/api/v1/corrections?" in r.url):  # the widget's start
        page.reload()
    page.locator("#mc-b").wait_for(state="attached")
    assert note not in shadow_text(page)
    assert not [url for url in asked if f"/submissions/{client_id}" in url], "forgotten once told"


def test_the_corrections_block_under_the_article_and_its_json_ld(app, live_server, new_page, staff):
    client = app.test_client()
    made = []
    for text, note in (("Мост откроют в мае.", "Мы писали, что в июне."), ("Глава района — Иванов.", None)):
        response = client.post("/api/v1/moderation/corrections", headers=staff.headers("editor"), json={
            "site": "demo", "url": live_server + "/demo", "text": text, "note": note})
        assert response.status_code == 200, response.json
        made.append(response.json)
    page = open_demo(new_page, live_server)
    wait_for_text(page, "Исправления")
    items = page.locator("[data-moderation-widget] section li").all_inner_texts()
    assert len(items) == 2
    assert items[1].endswith(": Мы писали, что в июне. — Мост откроют в мае.") and items[0].endswith(": Глава района — Иванов.")
    # between the article and the comments block
    assert page.evaluate("() => { const host = document.querySelector('[data-moderation-comments]').previousElementSibling;"
                         " return host.hasAttribute('data-moderation-widget') && host.textContent === '' &&"
                         " !!(document.querySelector('[data-article]').compareDocumentPosition(host) & 4); }")
    [ld] = page.evaluate("() => [...document.querySelectorAll('script[type=\"application/ld+json\"]')].map(s => s.textContent)")
    data = json.loads(ld)
    api = client.get("/api/v1/corrections", query_string={"site": "demo", "url": live_server + "/demo"}).json
    assert data["@context"] == "https://schema.org" and data["@type"] == "Article"
    assert data["url"] == live_server + "/demo"
    assert [(c["@type"], c["text"], c["datePublished"]) for c in data["correction"]] == [
        ("CorrectionComment", "Глава района — Иванов.", api["corrections"][0]["corrected_at"]),
        ("CorrectionComment", "Мы писали, что в июне. — Мост откроют в мае.", api["corrections"][1]["corrected_at"])]


def test_a_reader_edits_then_deletes_their_own_comment(app, live_server, new_page, drain, staff):
    page = open_demo(new_page, live_server)
    page.locator("#mc-n").fill("Гость")
    page.locator("#mc-b").fill("Первая версия")
    page.locator("form button[type=submit]").last.click()
    wait_for_text(page, "Спасибо! Комментарий появится")
    page.wait_for_function("() => localStorage.getItem('moderation:outbox') === '[]'")
    drain()
    [client_id] = [m["client_id"] for m in json.loads(page.evaluate("() => localStorage.getItem('moderation:mine')"))]
    comment_id = approve(app, staff, client_id)
    edit = page.get_by_role("button", name="Изменить", exact=True)
    edit.wait_for(timeout=15_000)  # once the widget has seen it published
    assert page.get_by_role("button", name="Изменить").count() == 1  # only on the reader's own
    edit.click()
    page.locator("[data-moderation-comments] textarea[aria-label]").fill("Вторая версия")
    page.get_by_role("button", name="Сохранить").click()
    # the demo site is pre-moderated: the edited comment waits again, shown to its reader
    wait_for_text(page, "Вторая версия")
    wait_for_text(page, "ожидает модерации")
    with app.app_context():
        row = db.session.get(Comment, comment_id)
        assert (row.body_raw, row.status) == ("Вторая версия", "pending")
    approve(app, staff, client_id)
    delete = page.get_by_role("button", name="Удалить", exact=True)
    delete.wait_for(timeout=15_000)
    delete.click()
    wait_for_text(page, "Комментарий удалён автором.")
    with app.app_context():
        assert db.session.get(Comment, comment_id).deleted
    assert "Вторая версия" not in shadow_text(page)


def test_the_form_checkbox_sits_by_its_label_and_a_pending_reply_under_its_parent(app, live_server, new_page, drain, staff):
    page = open_demo(new_page, live_server)
    page.locator("#mc-b").wait_for(state="attached")
    assert "Комментариев пока нет." in shadow_text(page)
    box, label = page.locator("#mc-r").bounding_box(), page.locator("label[for=mc-r]").bounding_box()
    form = page.locator("#mc-b").bounding_box()
    assert box["x"] - form["x"] < 4 and label["x"] > box["x"] + box["width"] - 1
    assert abs((box["y"] + box["height"] / 2) - (label["y"] + label["height"] / 2)) < 6  # one line
    # the reader's own pending comment: "No comments yet" goes
    page.locator("#mc-n").fill("Гость")
    page.locator("#mc-b").fill("Мой комментарий")
    page.locator("form button[type=submit]").last.click()
    wait_for_text(page, "Мой комментарий")
    assert page.get_by_text("Комментариев пока нет.").is_hidden()
    # a pending reply is shown under the comment it answers
    [parent] = publish(app, staff, drain, live_server + "/demo", "Родительский комментарий")
    page.reload()
    wait_for_text(page, "Родительский комментарий")
    page.locator(f"#comment-{parent}").get_by_role("button", name="Ответить").click()
    page.locator("#mc-n").fill("Гость")
    page.locator("#mc-b").fill("Мой ответ")
    page.locator("form button[type=submit]").last.click()
    reply = page.locator(f"#comment-{parent} .r .pend")
    reply.wait_for()
    assert "Мой ответ" in reply.inner_text() and "ожидает модерации" in reply.inner_text()


def test_the_comments_block_with_its_new_controls_has_no_axe_violations(app, live_server, new_page, drain, staff):
    from support.axe import axe_violations, describe

    demo_settings(app, dislikes=True)
    publish(app, staff, drain, live_server + "/demo", "Первый", "Второй")
    assert app.test_client().post("/api/v1/moderation/corrections", headers=staff.headers("editor"), json={
        "site": "demo", "url": live_server + "/demo", "text": "Мост откроют в мае.", "note": None}).status_code == 200
    page = open_demo(new_page, live_server)
    wait_for_text(page, "Исправления")
    page.get_by_role("button", name="Нравится 0", exact=True).first.wait_for()
    widget = [v for v in axe_violations(page) if any("data-moderation" in t for t in v["targets"])]
    assert widget == [], describe(widget)
