"""The widget and reader identity in real Chromium: data-sso and setSSO (the name fixed, the token
sent), the verified mark, the sign-in link of sso_required sites, the anonymous id kept and sent,
and "not published" on the reader's rejected comment."""
import json

import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.identity import sso
from moderation.models import Comment, Page, Site
from moderation.models.sites import url_hash
from moderation.services import readers
from moderation.site_registry import registry
from moderation.urls import normalize_url

from support.browser import open_demo, shadow_text, wait_for_text
from support.sso import sso_token

pytestmark = pytest.mark.browser

NAME = "Анна К."  # support.sso's user


def demo_secret(app):
    with app.app_context():
        site = db.session.execute(sa.select(Site).where(Site.key == "demo")).scalar_one()
        secret = sso.ensure_secret(site.id)
        db.session.commit()
        return site.id, secret


def open_with_sso(new_page, live_server, token):
    """The demo article with `data-sso` on the widget's script tag, as a CMS would print it."""
    page = new_page()

    def rewrite(route):
        response = route.fetch()
        route.fulfill(response=response, body=response.text().replace(
            'data-site="demo"', f'data-site="demo" data-sso="{token}"'))

    page.route(live_server + "/demo", rewrite)
    page.goto(live_server + "/demo")
    page.wait_for_function("() => window.__moderationWidget === true")
    page.locator("#mc-n").wait_for(state="attached")
    return page


def sent_bodies(page):
    """The JSON bodies of the widget's POSTs, as sent."""
    bodies = []
    page.on("request", lambda request: bodies.append(json.loads(request.post_data))
            if request.method == "POST" and "/api/v1/" in request.url else None)
    return bodies


def seed_sso_comment(app, live_server, site_id, token, body):
    """A published comment of the token's (SSO) reader on the demo article."""
    url = normalize_url(live_server + "/demo")
    with app.app_context():
        page = db.session.execute(sa.select(Page).where(Page.site_id == site_id, Page.url_hash == url_hash(url))
                                  ).scalar_one_or_none()
        if page is None:
            page = Page(site_id=site_id, url=url, url_hash=url_hash(url), title="Demo")
            db.session.add(page)
            db.session.flush()
        reader = readers.resolve_reader(site_id, sso=sso.verify_site_token(site_id, token))
        db.session.add(Comment(client_id=f"seed-{len(body)}", site_id=site_id, page_id=page.id, author=NAME,
                               body_raw=body, body_html=f"<p>{body}</p>", status="approved", spam_reasons=[],
                               reader_id=reader.id))
        page.bump()
        db.session.commit()


def test_data_sso_fixes_the_name_sends_the_token_and_marks_verified_comments(app, live_server, new_page, drain):
    site_id, secret = demo_secret(app)
    token = sso_token(secret)
    seed_sso_comment(app, live_server, site_id, token, "Подписанный комментарий")
    page = open_with_sso(new_page, live_server, token)
    bodies = sent_bodies(page)
    name = page.locator("#mc-n")
    assert name.input_value() == NAME and name.evaluate("n => n.readOnly")
    wait_for_text(page, "Подписанный комментарий")
    meta = page.locator("#comment-1 .m")  # the seeded comment
    assert "✓ подтверждён" in meta.inner_text()
    page.locator("#mc-b").fill("Мой комментарий под своим именем")
    page.locator("form button[type=submit]").last.click()
    wait_for_text(page, "ожидает модерации")
    [sent] = [b for b in bodies if b.get("body") == "Мой комментарий под своим именем"]
    assert (sent["sso"], sent["author"]) == (token, NAME) and "reader" not in sent


def test_set_sso_after_load_signs_in_and_out(app, live_server, new_page):
    _, secret = demo_secret(app)
    page = open_demo(new_page, live_server)
    name = page.locator("#mc-n")
    name.wait_for(state="attached")
    name.fill("Гость")
    assert not name.evaluate("n => n.readOnly")
    page.evaluate("token => window.ModerationWidget.setSSO(token)", sso_token(secret))
    assert name.input_value() == NAME and name.evaluate("n => n.readOnly")
    page.evaluate("() => window.ModerationWidget.setSSO(null)")
    assert name.input_value() == "" and not name.evaluate("n => n.readOnly")


def test_an_sso_required_site_shows_its_sign_in_link_instead_of_the_form(app, live_server, new_page):
    site_id, secret = demo_secret(app)
    with app.app_context():
        site = db.session.get(Site, site_id)
        site.settings = dict(site.settings or {}, sso_required=True, sso_login_url="https://news.example/login")
        db.session.commit()
        registry().invalidate()
    page = open_demo(new_page, live_server)
    link = page.get_by_role("link", name="Войдите, чтобы комментировать")
    link.wait_for()
    assert link.get_attribute("href") == "https://news.example/login"
    assert page.locator("#mc-b").is_hidden()
    page.evaluate("token => window.ModerationWidget.setSSO(token)", sso_token(secret))  # signed in: the form
    page.locator("#mc-b").wait_for(state="visible")
    assert link.is_hidden()


def test_the_anonymous_id_from_the_first_answer_is_kept_and_sent_with_the_next(app, live_server, new_page):
    page = open_demo(new_page, live_server)
    bodies = sent_bodies(page)

    def answer(route):  # the reader API's 202 with the issued id (h16ingest's answer shape)
        response = route.fetch()
        route.fulfill(response=response, body=json.dumps(dict(response.json(), reader="signed.id")))

    page.route("**/api/v1/comments", answer)
    for text in ("Первый", "Второй"):
        page.locator("#mc-n").fill("Гость")
        page.locator("#mc-b").fill(text)
        page.locator("form button[type=submit]").last.click()
        page.wait_for_function("() => (JSON.parse(localStorage.getItem('moderation:reader')) || [])[0] === 'signed.id'")
        page.wait_for_function("n => document.querySelector('[data-moderation-comments] [data-moderation-widget]')"
                               ".shadowRoot.querySelectorAll('.pend').length === n", arg=len(bodies))
    first, second = bodies
    assert "reader" not in first and second["reader"] == "signed.id"
    assert "reader" not in json.dumps(json.loads(page.evaluate("localStorage.getItem('moderation:outbox')")))


def test_a_rejected_comment_says_not_published_to_its_author(app, live_server, new_page, drain, staff):
    page = open_demo(new_page, live_server)
    page.locator("#mc-n").fill("Пётр")
    page.locator("#mc-b").fill("Комментарий, который отклонят")
    page.locator("form button[type=submit]").last.click()
    wait_for_text(page, "ожидает модерации")
    drain()
    with app.app_context():
        comment_id = db.session.execute(sa.select(Comment.id)).scalar_one()
    with app.test_client() as client:
        assert client.post(f"/api/v1/moderation/comments/{comment_id}/reject",
                           headers=staff.headers("moderator")).status_code == 200
    wait_for_text(page, "не опубликован", timeout=10.0)
    assert "Комментарий, который отклонят" in shadow_text(page)  # never a silent vanish
    page.reload()  # still there on the next visit (for a day)
    page.wait_for_function("() => window.__moderationWidget === true")
    wait_for_text(page, "не опубликован")
    # After a day it is gone.
    page.evaluate("() => { const mine = JSON.parse(localStorage.getItem('moderation:mine'));"
                  " mine.forEach(m => { m.rejected -= 864e5 + 1000; });"
                  " localStorage.setItem('moderation:mine', JSON.stringify(mine)); }")
    page.reload()
    page.wait_for_function("() => window.__moderationWidget === true")
    wait_for_text(page, "Комментариев пока нет")
    assert "не опубликован" not in shadow_text(page)
