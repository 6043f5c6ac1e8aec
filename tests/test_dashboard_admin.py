"""Admin pages: sites and staff accounts, their validation, permissions and audit trail."""
import html
import json
import re

import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import ApiToken, AuditEntry, Site, User

from support.accounts import AuthActions
from support.payloads import ORIGIN, report_payload


OTHER_ORIGIN = "https://other.example"
SITE_FORM = {
    "name": "Daily Planet",
    "allowed_origins": "https://planet.example\nhttps://*.planet.example\n",
    "moderation_mode": "post",
    "language": "kk",
    "rate_limit_reports": "10/minute;100/day",
    "rate_limit_comments": "",
    # Reactions, order, corrections (site_features.py) at their defaults: the box that is on by default.
    "default_sort": "oldest",
    "correction_note_required": "on",
    "flag_threshold": "4",
}


# -- helpers ----------------------------------------------------------------------------

def post(client, auth, path, data, token_page="/dashboard/comments"):
    """POST a dashboard form with a valid CSRF token (taken from a page the user may open)."""
    return client.post(path, data=dict(data, csrf_token=auth.csrf(token_page)))


def text(response):
    return html.unescape(response.get_data(as_text=True))


def audits(app, action=None):
    with app.app_context():
        query = sa.select(AuditEntry).order_by(AuditEntry.id)
        if action:
            query = query.where(AuditEntry.action == action)
        return [dict(e.to_dict(), actor_id=e.actor_id, site_id=e.site_id)
                for e in db.session.execute(query).scalars()]


def user_row(app, email):
    with app.app_context():
        user = db.session.execute(sa.select(User).where(User.email == email)).scalar_one()
        return {"id": user.id, "role": user.role, "active": user.active,
                "sites": sorted(s.id for s in user.sites), "password_hash": user.password_hash}


def site_row(app, site_id):
    with app.app_context():
        row = db.session.get(Site, site_id)
        return dict(row.to_dict(), flag_threshold=row.flag_threshold, rate_limit_reports=row.rate_limit_reports)


def issue_token(app, email):
    with app.app_context():
        user = db.session.execute(sa.select(User).where(User.email == email)).scalar_one()
        row, token = ApiToken.issue(user)
        db.session.add(row)
        db.session.commit()
        return {"Authorization": "Bearer " + token}


def shown_password(response):
    return re.search(r"\(shown once\): ([A-Za-z0-9_-]+)", text(response)).group(1)


@pytest.fixture
def admin(app, auth):
    email = auth.create("admin")
    assert auth.login(email).status_code == 302
    return email


# -- sites ------------------------------------------------------------------------------

def test_admin_pages_render_and_are_in_the_navigation(app, client, auth, admin, site):
    other = auth.create("moderator")
    other_id = user_row(app, other)["id"]
    for path in ("/dashboard/admin/sites", "/dashboard/admin/sites/new", f"/dashboard/admin/sites/{site.id}",
                 "/dashboard/admin/users", "/dashboard/admin/users/new", f"/dashboard/admin/users/{other_id}"):
        response = client.get(path)
        assert response.status_code == 200, path
        page = text(response)
        assert 'href="/dashboard/admin/sites"' in page and 'href="/dashboard/admin/users"' in page
        assert 'href="/dashboard/audit"' in page
    listing = text(client.get("/dashboard/admin/sites"))
    assert "Test News" in listing and "test-site" in listing and ORIGIN in listing
    users = text(client.get("/dashboard/admin/users"))
    assert admin in users and other in users


def test_create_a_site(app, client, auth, admin):
    response = post(client, auth, "/dashboard/admin/sites/new", SITE_FORM)
    assert response.status_code == 302
    with app.app_context():
        row = db.session.execute(sa.select(Site).where(Site.name == "Daily Planet")).scalar_one()
        site_id, key = row.id, row.key
        assert row.allowed_origins == ["https://planet.example", "https://*.planet.example"]
        assert (row.moderation_mode, row.language, row.flag_threshold) == ("post", "kk", 4)
        assert (row.rate_limit_reports, row.rate_limit_comments) == ("10/minute;100/day", None)
    assert response.headers["Location"].endswith(f"/dashboard/admin/sites/{site_id}")

    page = text(client.get(f"/dashboard/admin/sites/{site_id}"))
    # The snippet names the bundle of the site's language (Kazakh here).
    assert f'<script src="http://localhost/static/js/widget.kk.js" data-site="{key}" async></script>' in page
    assert "Site Daily Planet created." in page

    [entry] = audits(app, "site.create")
    assert entry["actor"] == admin and entry["actor_id"] == user_row(app, admin)["id"]
    assert entry["target_type"] == "site" and entry["target_id"] == site_id and entry["site_id"] == site_id
    assert entry["before"] is None
    assert entry["after"]["allowed_origins"] == ["https://planet.example", "https://*.planet.example"]
    assert entry["after"]["key"] == key and entry["after"]["flag_threshold"] == 4


@pytest.mark.parametrize("field, value, message", [
    ("allowed_origins", "https://ok.example\nnews.example", "Not an origin"),
    ("allowed_origins", "https://news.example/articles", "Not an origin"),
    ("allowed_origins", "ftp://news.example", "Not an origin"),
    ("allowed_origins", "https://*.kz", "Not an origin"),
    ("allowed_origins", "https://user@news.example", "Not an origin"),
    ("rate_limit_reports", "lots", "Not a rate limit"),
    ("rate_limit_comments", "5/minute;;", "Not a rate limit"),
    ("rate_limit_comments", "0/minute", "at least one request"),
    ("flag_threshold", "0", "A whole number from 1"),
    ("flag_threshold", "three", "A whole number from 1"),
    ("flag_threshold", "²", "A whole number from 1"),
    ("flag_threshold", "9" * 30, "A whole number from 1"),
    ("moderation_mode", "never", "Choose one of"),
    ("language", "de", "Choose one of"),
    ("name", "  ", "A name of 1 to 200"),
])
def test_site_form_errors_are_shown_and_nothing_is_saved(app, client, auth, admin, field, value, message):
    response = post(client, auth, "/dashboard/admin/sites/new", dict(SITE_FORM, **{field: value}))
    assert response.status_code == 400
    page = text(response)
    assert message in page and 'id="%s-error"' % field in page
    assert 'value="Daily Planet"' in page or field == "name"  # the typed values are kept
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(Site)).scalar_one() == 0
    assert audits(app) == []


def test_edit_a_site_audits_only_what_changed(app, client, auth, admin, site):
    form = dict(SITE_FORM, name="Test News", allowed_origins=f"{ORIGIN}\nHTTPS://Other.Example:443/",
                moderation_mode="pre", language="ru", rate_limit_reports="", flag_threshold="3")
    response = post(client, auth, f"/dashboard/admin/sites/{site.id}", form)
    assert response.status_code == 302
    assert site_row(app, site.id)["allowed_origins"] == [ORIGIN, OTHER_ORIGIN]  # normalized
    [entry] = audits(app, "site.update")
    assert entry["before"] == {"allowed_origins": [ORIGIN]}
    assert entry["after"] == {"allowed_origins": [ORIGIN, OTHER_ORIGIN]}
    assert entry["site_id"] == site.id and entry["actor"] == admin

    # The same form again changes nothing and writes nothing.
    assert post(client, auth, f"/dashboard/admin/sites/{site.id}", form).status_code == 302
    assert len(audits(app, "site.update")) == 1


def test_a_new_origin_is_accepted_by_the_reader_api_at_once(app, client, auth, admin, site):
    headers = {"Origin": OTHER_ORIGIN}
    refused = client.post("/api/v1/reports", json=report_payload(), headers=headers)
    assert refused.status_code == 403  # and the site's settings are now cached
    form = dict(SITE_FORM, name="Test News", allowed_origins=f"{ORIGIN}\n{OTHER_ORIGIN}",
                moderation_mode="pre", language="ru", rate_limit_reports="", flag_threshold="3")
    assert post(client, auth, f"/dashboard/admin/sites/{site.id}", form).status_code == 302
    accepted = client.post("/api/v1/reports", json=report_payload(), headers=headers)
    assert accepted.status_code == 202
    assert accepted.headers["Access-Control-Allow-Origin"] == OTHER_ORIGIN


def test_a_new_rate_limit_applies_at_once(app, client, auth, admin, site):
    assert client.post("/api/v1/reports", json=report_payload()).status_code == 202  # cached: the default
    form = dict(SITE_FORM, name="Test News", allowed_origins=ORIGIN, moderation_mode="pre", language="ru",
                rate_limit_reports="1/hour", flag_threshold="3")
    assert post(client, auth, f"/dashboard/admin/sites/{site.id}", form).status_code == 302
    # Each limit string counts on its own: the first request under "1/hour" passes, the next waits.
    assert client.post("/api/v1/reports", json=report_payload()).status_code == 202
    limited = client.post("/api/v1/reports", json=report_payload())
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 60


def test_rotate_key(app, client, auth, admin, site):
    assert client.post("/api/v1/reports", json=report_payload()).status_code == 202
    response = post(client, auth, f"/dashboard/admin/sites/{site.id}/rotate-key", {})
    assert response.status_code == 302
    new_key = site_row(app, site.id)["key"]
    assert new_key != "test-site"

    old = client.post("/api/v1/reports", json=report_payload())
    assert old.status_code == 403 and old.get_json()["error"] == "unknown_site"
    assert client.post("/api/v1/reports", json=report_payload(site=new_key)).status_code == 202

    [entry] = audits(app, "site.rotate_key")
    assert entry["before"] == {"key": "test-site"} and entry["after"] == {"key": new_key}
    assert entry["site_id"] == site.id
    page = text(client.get(f"/dashboard/admin/sites/{site.id}"))
    assert f'data-site="{new_key}"' in page and 'data-site="test-site"' not in page


def test_site_names_are_escaped(app, client, auth, admin):
    form = dict(SITE_FORM, name='<script>alert("x")</script>')
    assert post(client, auth, "/dashboard/admin/sites/new", form).status_code == 302
    raw = client.get("/dashboard/admin/sites").get_data(as_text=True)
    assert '<script>alert("x")</script>' not in raw
    assert "&lt;script&gt;alert(" in raw


def test_unknown_site_or_user_is_404(client, auth, admin):
    assert client.get("/dashboard/admin/sites/999").status_code == 404
    assert post(client, auth, "/dashboard/admin/sites/999/rotate-key", {}).status_code == 404
    assert client.get("/dashboard/admin/users/999").status_code == 404
    assert post(client, auth, "/dashboard/admin/users/999/password", {}).status_code == 404
    huge = "9" * 30  # beyond an INTEGER column: still a 404, not a database error
    assert client.get(f"/dashboard/admin/sites/{huge}").status_code == 404
    assert client.get(f"/dashboard/admin/users/{huge}").status_code == 404


# -- users ------------------------------------------------------------------------------

def test_create_a_user_with_a_generated_password(app, client, auth, admin, site, post_site):
    response = post(client, auth, "/dashboard/admin/users/new",
                    {"email": " New.Mod@News.Example ", "role": "moderator", "sites": [str(site.id)]})
    assert response.status_code == 302
    created = user_row(app, "new.mod@news.example")
    assert created["role"] == "moderator" and created["sites"] == [site.id] and created["active"]

    page = client.get(response.headers["Location"])
    password = shown_password(page)
    assert client.get(response.headers["Location"]).get_data(as_text=True).count(password) == 0  # once

    newcomer = AuthActions(app, app.test_client())
    assert newcomer.login("new.mod@news.example", password).status_code == 302
    assert newcomer.client.get("/dashboard/comments").status_code == 200

    [entry] = audits(app, "user.create")
    assert entry["target_type"] == "user" and entry["target_id"] == created["id"] and entry["actor"] == admin
    assert entry["before"] is None
    assert entry["after"] == {"email": "new.mod@news.example", "role": "moderator", "active": True,
                              "sites": [site.id]}
    stored = json.dumps(audits(app))
    assert created["password_hash"] not in stored and password not in stored


def test_create_a_user_with_a_typed_password(app, client, auth, admin, site, post_site):
    response = post(client, auth, "/dashboard/admin/users/new",
                    {"email": "ed@news.example", "role": "editor", "password": "a typed passphrase",
                     "sites": [str(site.id), str(post_site.id)]})
    assert response.status_code == 302
    assert user_row(app, "ed@news.example")["sites"] == sorted([site.id, post_site.id])
    page = text(client.get(response.headers["Location"]))
    assert "Account ed@news.example created." in page and "(shown once)" not in page
    assert AuthActions(app, app.test_client()).login("ed@news.example", "a typed passphrase").status_code == 302


@pytest.mark.parametrize("fields, field, message", [
    ({"email": "taken@news.example"}, "email", "already exists"),
    ({"email": "not-an-address"}, "email", "e-mail"),
    ({"role": "owner"}, "role", "Choose one of"),
    ({"password": "short"}, "password", "A password of 10 to 200"),
    ({"sites": ["999"]}, "sites", "Unknown site"),
    ({"sites": ["²"]}, "sites", "Unknown site"),
    ({"sites": ["9" * 30]}, "sites", "Unknown site"),
])
def test_user_form_errors_are_shown(app, client, auth, admin, fields, field, message):
    auth.create("editor", email="taken@news.example")
    form = dict({"email": "fresh@news.example", "role": "editor"}, **fields)
    response = post(client, auth, "/dashboard/admin/users/new", form)
    assert response.status_code == 400
    page = text(response)
    assert message in page and f'id="{field}-error"' in page
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(User)).scalar_one() == 2
    assert audits(app, "user.create") == []


def test_edit_role_and_sites(app, client, auth, admin, site, post_site):
    email = auth.create("moderator", site_ids=[site.id])
    user_id = user_row(app, email)["id"]
    response = post(client, auth, f"/dashboard/admin/users/{user_id}",
                    {"role": "editor", "sites": [str(post_site.id)], "active": "1"})
    assert response.status_code == 302
    row = user_row(app, email)
    assert row["role"] == "editor" and row["sites"] == [post_site.id] and row["active"]
    [entry] = audits(app, "user.update")
    assert entry["before"] == {"role": "moderator", "sites": [site.id]}
    assert entry["after"] == {"role": "editor", "sites": [post_site.id]}
    assert entry["target_id"] == user_id


def test_deactivated_user_cannot_sign_in_and_their_tokens_stop_working(app, client, auth, admin):
    email = auth.create("editor")
    user_id = user_row(app, email)["id"]
    headers = issue_token(app, email)
    assert client.get("/api/v1/moderation/comments", headers=headers).status_code == 200
    signed_in = AuthActions(app, app.test_client())
    assert signed_in.login(email).status_code == 302

    response = post(client, auth, f"/dashboard/admin/users/{user_id}", {"role": "editor"})  # no "active"
    assert response.status_code == 302
    assert user_row(app, email)["active"] is False
    [entry] = audits(app, "user.deactivate")
    assert entry["before"] == {"active": True} and entry["after"] == {"active": False}

    assert client.get("/api/v1/moderation/comments", headers=headers).status_code == 401
    assert signed_in.client.get("/dashboard/comments").status_code == 302  # the session is over
    assert AuthActions(app, app.test_client()).login(email).status_code == 401
    assert "deactivated" in text(client.get("/dashboard/admin/users"))


def test_admin_cannot_demote_or_deactivate_themself(app, client, auth, admin):
    me = user_row(app, admin)["id"]
    for form in ({"role": "editor", "active": "1"}, {"role": "admin"}):
        response = post(client, auth, f"/dashboard/admin/users/{me}", form)
        assert response.status_code == 400
        assert "You cannot demote or deactivate yourself" in text(response)
    row = user_row(app, admin)
    assert row["role"] == "admin" and row["active"]
    assert audits(app) == []
    # Another admin may be demoted.
    other = auth.create("admin")
    other_id = user_row(app, other)["id"]
    assert post(client, auth, f"/dashboard/admin/users/{other_id}", {"role": "editor", "active": "1"}).status_code == 302
    assert user_row(app, other)["role"] == "editor"


def test_reset_password(app, client, auth, admin):
    email = auth.create("moderator")
    user_id = user_row(app, email)["id"]
    old_hash = user_row(app, email)["password_hash"]

    too_short = post(client, auth, f"/dashboard/admin/users/{user_id}/password", {"password": "short"})
    assert too_short.status_code == 400 and "A password of 10 to 200" in text(too_short)
    assert user_row(app, email)["password_hash"] == old_hash

    response = post(client, auth, f"/dashboard/admin/users/{user_id}/password", {"password": ""})
    assert response.status_code == 302
    password = shown_password(client.get(response.headers["Location"]))
    other = AuthActions(app, app.test_client())
    assert other.login(email).status_code == 401  # the old password
    assert other.login(email, password).status_code == 302

    typed = post(client, auth, f"/dashboard/admin/users/{user_id}/password", {"password": "chosen by the admin"})
    assert typed.status_code == 302
    assert AuthActions(app, app.test_client()).login(email, "chosen by the admin").status_code == 302

    entries = audits(app, "user.reset_password")
    assert len(entries) == 2 and all(e["target_id"] == user_id for e in entries)
    stored = json.dumps(audits(app))
    assert old_hash not in stored and user_row(app, email)["password_hash"] not in stored
    assert password not in stored


# -- permissions and CSRF ---------------------------------------------------------------

@pytest.mark.parametrize("role", ["editor", "moderator"])
def test_non_admins_get_403_everywhere(app, client, auth, site, role):
    target = auth.create("moderator")
    target_id = user_row(app, target)["id"]
    assert auth.login(role=role).status_code == 302
    pages = ["/dashboard/admin/sites", "/dashboard/admin/sites/new", f"/dashboard/admin/sites/{site.id}",
             "/dashboard/admin/users", "/dashboard/admin/users/new", f"/dashboard/admin/users/{target_id}"]
    for path in pages:
        assert client.get(path).status_code == 403, path
    posts = {
        "/dashboard/admin/sites/new": SITE_FORM,
        f"/dashboard/admin/sites/{site.id}": dict(SITE_FORM, name="Taken over"),
        f"/dashboard/admin/sites/{site.id}/rotate-key": {},
        "/dashboard/admin/users/new": {"email": "sneaky@news.example", "role": "admin"},
        f"/dashboard/admin/users/{target_id}": {"role": "admin", "active": "1"},
        f"/dashboard/admin/users/{target_id}/password": {"password": "a password I know"},
    }
    for path, data in posts.items():
        assert post(client, auth, path, data).status_code == 403, path
    assert site_row(app, site.id)["key"] == "test-site" and site_row(app, site.id)["name"] == "Test News"
    assert user_row(app, target)["role"] == "moderator"
    with app.app_context():
        assert db.session.execute(sa.select(User).where(User.email == "sneaky@news.example")).first() is None
    assert audits(app) == []
    page = text(client.get("/dashboard/comments"))
    assert 'href="/dashboard/admin/sites"' not in page and 'href="/dashboard/audit"' in page


def test_post_without_csrf_token_is_rejected(app, client, auth, admin, site):
    assert client.post("/dashboard/admin/sites/new", data=SITE_FORM).status_code == 400
    assert client.post(f"/dashboard/admin/sites/{site.id}/rotate-key").status_code == 400
    assert client.post("/dashboard/admin/users/new",
                       data={"email": "x@news.example", "role": "admin"}).status_code == 400
    bad = dict(SITE_FORM, csrf_token="forged")
    assert client.post("/dashboard/admin/sites/new", data=bad).status_code == 400
    assert site_row(app, site.id)["key"] == "test-site"
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(Site)).scalar_one() == 1
        assert db.session.execute(sa.select(User).where(User.email == "x@news.example")).first() is None
    assert audits(app) == []


def test_the_site_form_sets_reactions_order_and_corrections(app, client, auth, admin, site):
    form = dict(SITE_FORM, name="Test News", allowed_origins=ORIGIN, moderation_mode="pre", language="ru",
                rate_limit_reports="", flag_threshold="3", dislikes="on", default_sort="best")
    del form["correction_note_required"]  # an unticked box is not sent
    assert post(client, auth, f"/dashboard/admin/sites/{site.id}", form).status_code == 302
    [entry] = audits(app, "site.update")
    assert entry["after"] == {"dislikes": True, "default_sort": "best", "correction_note_required": False}
    listed = client.get("/api/v1/comments", query_string={"site": "test-site", "url": ORIGIN + "/a"}).json
    assert (listed["site"]["dislikes"], listed["site"]["default_sort"]) == (True, "best")
    page = text(client.get(f"/dashboard/admin/sites/{site.id}"))
    assert 'name="dislikes" checked' in page and '<option value="best" selected' in page
    response = post(client, auth, f"/dashboard/admin/sites/{site.id}", dict(form, default_sort="top"))
    assert response.status_code == 400 and 'id="default_sort-error"' in text(response)
