"""The site's SSO admin page switches its reader-identity settings (sso_required, sso_login_url,
edit_minutes, anonymous_address_hours): validated, CSRF, admins only, audited, and handed out by the site registry at once."""
import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.identity.settings import ANONYMOUS_ADDRESS_HOURS_MAX, EDIT_MINUTES_MAX
from moderation.models import AuditEntry, Site

from support.payloads import comment_payload

PAGE = "/dashboard/admin/sites/{id}/sso"
SAVE = "/dashboard/admin/sites/{id}/sso/settings"


def settings_of(app, site_id):
    with app.app_context():
        return dict(db.session.get(Site, site_id).settings or {})


def entries(app):
    with app.app_context():
        return [(e.before, e.after) for e in db.session.execute(
            sa.select(AuditEntry).where(AuditEntry.action == "site.identity_settings")
            .order_by(AuditEntry.id)).scalars()]


def test_admin_switches_the_settings_and_the_reader_api_follows_at_once(app, client, auth, site):
    # The reader API has the site cached (SITE_CACHE_SECONDS is 30): a comment without a token is taken.
    assert client.post("/api/v1/comments", json=comment_payload()).status_code == 202
    auth.login(role="admin")
    page = client.get(PAGE.format(id=site.id)).get_data(as_text=True)
    assert 'name="sso_required"' in page and 'name="edit_minutes" value="10"' in page.replace(
        'id="edit_minutes" ', "")
    csrf = auth.csrf(PAGE.format(id=site.id))
    response = client.post(SAVE.format(id=site.id), data={
        "csrf_token": csrf, "sso_required": "1", "sso_login_url": " https://news.example/login?next=/ ",
        "edit_minutes": "30", "anonymous_address_hours": "2"})
    assert response.status_code == 302 and response.headers["Location"].endswith(PAGE.format(id=site.id))
    stored = settings_of(app, site.id)
    assert (stored["sso_required"], stored["sso_login_url"], stored["edit_minutes"],
            stored["anonymous_address_hours"]) == (True, "https://news.example/login?next=/", 30, 2)
    # Handed out by the registry of this process without waiting for the cache.
    with app.app_context():
        info = app.extensions["site_registry"].get(site.key)
        assert (info.sso_required, info.sso_login_url, info.edit_minutes) == (
            True, "https://news.example/login?next=/", 30)
    refused = client.post("/api/v1/comments", json=comment_payload())
    assert refused.status_code == 401 and refused.json["error"] == "sso_required"
    page = client.get(PAGE.format(id=site.id)).get_data(as_text=True)
    assert "checked" in page and 'value="https://news.example/login?next=/"' in page
    assert entries(app) == [({"sso_required": False, "sso_login_url": None, "edit_minutes": 10,
                              "anonymous_address_hours": 6},
                             {"sso_required": True, "sso_login_url": "https://news.example/login?next=/",
                              "edit_minutes": 30, "anonymous_address_hours": 2})]
    # Switched back: the URL removed, only what changed is audited; other settings are kept.
    with app.app_context():
        row = db.session.get(Site, site.id)
        row.settings = dict(row.settings, max_links=7)
        db.session.commit()
    client.post(SAVE.format(id=site.id), data={"csrf_token": csrf, "sso_login_url": "", "edit_minutes": "30",
                                               "anonymous_address_hours": "2"})
    stored = settings_of(app, site.id)
    assert stored["sso_required"] is False and "sso_login_url" not in stored and stored["max_links"] == 7
    assert entries(app)[-1] == ({"sso_required": True, "sso_login_url": "https://news.example/login?next=/"},
                                {"sso_required": False, "sso_login_url": None})
    assert client.post("/api/v1/comments", json=comment_payload()).status_code == 202
    # The audit log names the action in words.
    assert "Reader sign-in settings changed" in client.get("/dashboard/audit").get_data(as_text=True)


@pytest.mark.parametrize("field, value", [
    ("sso_login_url", "javascript:alert(1)"),
    ("sso_login_url", "//news.example/login"),
    ("sso_login_url", "ftp://news.example/login"),
    ("sso_login_url", "https://"),
    ("sso_login_url", "https://news.example/log in"),
    ("sso_login_url", "https://news.example:99999/"),
    ("sso_login_url", "https://news.example/" + "a" * 2048),
    ("edit_minutes", "-1"),
    ("edit_minutes", str(EDIT_MINUTES_MAX + 1)),
    ("edit_minutes", "ten"),
    ("edit_minutes", ""),
    ("anonymous_address_hours", "-1"),
    ("anonymous_address_hours", str(ANONYMOUS_ADDRESS_HOURS_MAX + 1)),
    ("anonymous_address_hours", "1.5"),
])
def test_bad_values_are_a_400_with_the_field_marked_and_nothing_saved(app, client, auth, site, field, value):
    auth.login(role="admin")
    csrf = auth.csrf(PAGE.format(id=site.id))
    form = {"csrf_token": csrf, "sso_required": "1", "sso_login_url": "https://news.example/login",
            "edit_minutes": "5", "anonymous_address_hours": "6", field: value}
    response = client.post(SAVE.format(id=site.id), data=form)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page and 'aria-invalid="true"' in page
    assert "sso_required" not in settings_of(app, site.id) and entries(app) == []


def test_the_limits_themselves_are_taken(app, client, auth, site):
    auth.login(role="admin")
    csrf = auth.csrf(PAGE.format(id=site.id))
    for minutes, hours in ((0, ANONYMOUS_ADDRESS_HOURS_MAX), (EDIT_MINUTES_MAX, 0)):
        assert client.post(SAVE.format(id=site.id), data={
            "csrf_token": csrf, "edit_minutes": str(minutes), "anonymous_address_hours": str(hours),
            "sso_login_url": "http://news.example"}).status_code == 302
        stored = settings_of(app, site.id)
        assert (stored["edit_minutes"], stored["anonymous_address_hours"]) == (minutes, hours)


def test_without_csrf_or_as_an_editor_nothing_is_saved(app, client, auth, site):
    auth.login(role="admin")
    assert client.post(SAVE.format(id=site.id), data={"sso_required": "1", "edit_minutes": "5"}).status_code == 400
    auth.logout()
    auth.login(role="editor")
    csrf = auth.csrf("/dashboard/")
    assert client.post(SAVE.format(id=site.id), data={"csrf_token": csrf, "sso_required": "1",
                                                      "edit_minutes": "5"}).status_code == 403
    assert settings_of(app, site.id).get("sso_required") is None and entries(app) == []
