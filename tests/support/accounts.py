"""Staff accounts for the tests: API tokens for the moderation API, dashboard sign-in, sites."""
import re
import uuid
from types import SimpleNamespace

from moderation.auth import create_user
from moderation.extensions import db
from moderation.models import ApiToken, Site


def make_site(app, **fields):
    """A site row; returned as plain data (no ORM object outlives the app context)."""
    with app.app_context():
        row = Site(**fields)
        db.session.add(row)
        db.session.commit()
        return SimpleNamespace(id=row.id, **fields)


def set_site_settings(app, site_id, **settings):
    """Merge `settings` into the site's `Site.settings` and drop this process's site registry
    cache, so the next request reads them (as the dashboard's settings pages do)."""
    with app.app_context():
        row = db.session.get(Site, site_id)
        row.settings = dict(row.settings or {}, **settings)
        db.session.commit()
    app.extensions["site_registry"].invalidate()


class Staff:
    """Creates staff accounts with API tokens; `headers(role)` for the moderation API."""

    def __init__(self, app):
        self.app = app

    def token(self, role="editor", email=None, site_ids=()):
        with self.app.app_context():
            user, _ = create_user(email or f"{role}-{uuid.uuid4().hex[:8]}@news.example", role)
            user.sites = [db.session.get(Site, sid) for sid in site_ids]
            row, token = ApiToken.issue(user)
            db.session.add(row)
            db.session.commit()
            return token

    def headers(self, role="editor", **kwargs):
        return {"Authorization": "Bearer " + self.token(role, **kwargs)}


class AuthActions:
    """flaskr-style: sign a test client in and out of the dashboard."""

    PASSWORD = "correct horse battery staple"

    def __init__(self, app, client):
        self.app = app
        self.client = client

    def create(self, role="editor", email=None, site_ids=()):
        email = email or f"{role}-{uuid.uuid4().hex[:8]}@news.example"
        with self.app.app_context():
            user, _ = create_user(email, role, self.PASSWORD)
            user.sites = [db.session.get(Site, sid) for sid in site_ids]
            db.session.commit()
        return email

    def csrf(self, path="/dashboard/login"):
        page = self.client.get(path, follow_redirects=True).get_data(as_text=True)
        return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    def login(self, email=None, password=None, role="editor", **extra):
        email = email or self.create(role)
        data = {"email": email, "password": password or self.PASSWORD, "csrf_token": self.csrf()}
        data.update(extra)
        return self.client.post("/dashboard/login", data=data)

    def logout(self):
        token = self.csrf("/dashboard/comments")
        return self.client.post("/dashboard/logout", data={"csrf_token": token})
