"""The reader panel: click an author → their comments across articles, history, the address
hint, and Ban / Unban / Trust / Always pre-moderate, CSRF-protected and audited."""
import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import AuditEntry, Reader, Site
from moderation.models.base import utcnow

from support.accounts import make_site
from support.browser import sign_in
from support.payloads import ARTICLE, ORIGIN
from support.readers import make_reader, reader_comment


def panel(client, reader):
    response = client.get(f"/dashboard/readers/{reader.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def post(client, auth, reader, action, **data):
    data["csrf_token"] = auth.csrf("/dashboard/audit")
    return client.post(f"/dashboard/readers/{reader.id}/{action}", data=data)


def row(app, reader):
    with app.app_context():
        found = db.session.get(Reader, reader.id)
        db.session.expunge(found)
        return found


def test_an_author_in_the_queue_links_to_their_panel(app, client, auth, site):
    reader = make_reader(app, site.id, name="Гость")
    reader_comment(app, reader)
    auth.login(role="moderator")
    html = client.get("/dashboard/comments").get_data(as_text=True)
    assert f'href="/dashboard/readers/{reader.id}" data-reader' in html


def test_the_panel_shows_comments_across_articles_history_and_the_address_hint(app, client, auth, site):
    reader = make_reader(app, site.id, name="Гость", address="10.0.0.7")
    neighbours = [make_reader(app, site.id, name=f"Сосед {n}", address="10.0.0.7") for n in range(2)]
    reader_comment(app, reader, url=ARTICLE, body="Про трамвай", status="approved", address="10.0.0.7")
    reader_comment(app, reader, url=f"{ORIGIN}/budget", body="Про бюджет", status="rejected", address="10.0.0.7")
    reader_comment(app, neighbours[0], body="Чужой комментарий", status="approved", address="10.0.0.7")
    auth.login(role="moderator")
    html = panel(client, reader)
    assert "Про трамвай" in html and "Про бюджет" in html and "Чужой комментарий" not in html
    assert f"{ORIGIN}/budget" in html
    assert "1 approved / 1 rejected" in html
    assert "address shared by 3 readers this week" in html


def test_the_hint_is_absent_when_nobody_shares_the_address(app, client, auth, site):
    reader = make_reader(app, site.id, address="10.0.0.8")
    auth.login(role="moderator")
    assert "data-address-shared" not in panel(client, reader)


def test_ban_for_days_with_a_reason_then_unban(app, client, auth, site):
    reader = make_reader(app, site.id)
    auth.login(role="moderator")
    before = utcnow()
    response = post(client, auth, reader, "ban", days="7", reason="insults")
    assert response.status_code == 302
    banned = row(app, reader)
    assert 6.9 < (banned.banned_until.replace(tzinfo=before.tzinfo) - before).total_seconds() / 86400 < 7.1
    assert banned.ban_reason == "insults"
    html = panel(client, reader)
    assert "data-banned" in html and "insults" in html and 'data-action="unban"' in html
    post(client, auth, reader, "ban", days="", reason="again")
    assert row(app, reader).banned_until_lifted
    assert "banned until lifted" in panel(client, reader)
    assert post(client, auth, reader, "unban").status_code == 302
    assert row(app, reader).banned_until is None
    with app.app_context():
        actions = [e.action for e in db.session.execute(
            sa.select(AuditEntry).where(AuditEntry.target_type == "reader").order_by(AuditEntry.id)).scalars()]
    assert actions == ["reader.ban", "reader.ban", "reader.unban"]
    assert "Reader banned" in panel(client, reader)  # the history, labelled


def test_trust_and_premoderate_toggle(app, client, auth, site):
    reader = make_reader(app, site.id)
    auth.login(role="moderator")
    post(client, auth, reader, "trust", on="1")
    assert row(app, reader).trusted
    post(client, auth, reader, "premoderate", on="1")
    assert row(app, reader).premoderate and not row(app, reader).trusted
    assert "Stop pre-moderating" in panel(client, reader)
    post(client, auth, reader, "premoderate", on="0")
    assert not row(app, reader).premoderate


def test_a_bad_ban_length_is_refused_and_changes_nothing(app, client, auth, site):
    reader = make_reader(app, site.id)
    auth.login(role="moderator")
    for days in ("0", "9999", "soon"):
        response = post(client, auth, reader, "ban", days=days)
        assert response.status_code == 302
        assert row(app, reader).banned_until is None, days


def test_every_post_needs_the_csrf_token(app, client, auth, site):
    reader = make_reader(app, site.id)
    auth.login(role="moderator")
    for action in ("ban", "unban", "trust", "premoderate"):
        response = client.post(f"/dashboard/readers/{reader.id}/{action}", data={"days": "1"})
        assert response.status_code == 400, action
    assert row(app, reader).banned_until is None and not row(app, reader).trusted


def test_another_sites_reader_is_404_and_unknown_actions_too(app, client, auth, site):
    other = make_site(app, key="other-site", name="Other", allowed_origins=[ORIGIN])
    theirs, mine = make_reader(app, other.id), make_reader(app, site.id)
    auth.login(email=auth.create("moderator", site_ids=(site.id,)))
    assert client.get(f"/dashboard/readers/{theirs.id}").status_code == 404
    assert post(client, auth, theirs, "ban").status_code == 404
    assert row(app, theirs).banned_until is None
    assert post(client, auth, mine, "delete").status_code == 404
    assert client.get("/dashboard/readers/999999").status_code == 404


def test_the_b_key_is_bound_in_the_dashboard_script():
    """The queue script opens the focused comment's [data-reader] link on `b` (in a browser: below)."""
    from pathlib import Path

    script = (Path(__file__).resolve().parent.parent / "static" / "js" / "dashboard.js").read_text()
    assert 'b: function () { var link = current && current.querySelector("[data-reader]")' in script


@pytest.mark.browser
def test_b_on_a_focused_comment_opens_the_reader_panel_and_the_ban_form_works(app, live_server, new_page, auth):
    with app.app_context():
        demo = db.session.execute(sa.select(Site).where(Site.key == "demo")).scalar_one()
        site_id = demo.id
    reader = make_reader(app, site_id, name="Гость с клавиатуры")
    reader_comment(app, reader, url=live_server + "/demo", body="Комментарий для b")
    page = new_page()
    sign_in(page, live_server, auth.create("moderator"))
    page.goto(live_server + "/dashboard/comments")
    assert page.evaluate("document.activeElement.classList.contains('item')")
    page.keyboard.press("b")
    page.wait_for_url(f"**/dashboard/readers/{reader.id}")
    assert "Комментарий для b" in page.inner_text(".reader-comments")
    page.select_option("form[data-action=ban] select[name=days]", "7")
    page.fill("form[data-action=ban] input[name=reason]", "флуд")
    page.click("form[data-action=ban] button[type=submit]")
    page.wait_for_selector("[data-banned]")
    banned = row(app, reader)
    assert banned.own_ban_in_force() and banned.ban_reason == "флуд" and not banned.banned_until_lifted
