"""Fixtures: a real Redis (started here on a free port), a real RQ worker, real migrations.

Set TEST_DATABASE_URL (e.g. postgresql://...) to run the suite on PostgreSQL;
the default is a fresh SQLite file per test.
"""
import os
import re
import socket
import sqlite3
import tempfile
import uuid
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from moderation import create_app
from moderation.embedded_redis import EmbeddedRedis
from moderation.extensions import db
from moderation.models import ApiToken, Site
from moderation.auth import create_user

from browser import browser, live_server, new_page  # noqa: F401  (one session-wide Chromium)
from payloads import ORIGIN


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"), port=free_port())
    server.start()
    yield server
    server.stop()


# The migrated schema is built once per session and copied into each test's database:
# running every migration per test cost about a third of the suite's time.
_TEMPLATE = {}


def _sqlite_copy(source, target):
    """SQLite's backup API: a consistent copy whatever the journal (WAL) holds."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def _migrate_from_scratch():
    if db.engine.dialect.name != "sqlite":
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    upgrade()


def _reset_database(app):
    """A freshly migrated, empty database for this app (SQLite file or PostgreSQL schema)."""
    with app.app_context():
        url = db.engine.url
        if db.engine.dialect.name == "sqlite":
            template = _TEMPLATE.get("sqlite")
            db.engine.dispose()
            if template is None:
                _migrate_from_scratch()
                db.engine.dispose()
                template = _TEMPLATE["sqlite"] = tempfile.mkstemp(suffix=".db")[1]
                _sqlite_copy(url.database, template)
            else:
                _sqlite_copy(template, url.database)
            return
        head = _TEMPLATE.get(str(url))
        with db.engine.connect() as conn:
            current = conn.execute(sa.text(
                "SELECT version_num FROM alembic_version")).scalar() if sa.inspect(conn).has_table(
                "alembic_version") else None
        if head is None or current != head:
            _migrate_from_scratch()
            with db.engine.connect() as conn:
                _TEMPLATE[str(url)] = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
            return
        # Same schema as the last test left it: emptying every table is the fresh database.
        tables = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
        with db.engine.begin() as conn:
            conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def make_app(tmp_path, redis_server):
    """Factory for apps sharing this test's data dir and the session's Redis."""

    def factory(**overrides):
        config = {
            "ENV_NAME": "testing",
            "DATA_DIR": str(tmp_path / "instance"),
            "REDIS_URL": redis_server.url,
            "SQLALCHEMY_DATABASE_URI": os.environ.get("TEST_DATABASE_URL")
            or "sqlite:///" + str(tmp_path / "test.db"),
        }
        config.update(overrides)
        return create_app(config)

    return factory


@pytest.fixture
def app(make_app, redis_server):
    """Like production, no app context is held between requests: tests that touch
    the database push their own (`with app.app_context():`)."""
    app = make_app()
    app.broker.redis.flushdb()
    _reset_database(app)
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def _make_site(app, **fields):
    with app.app_context():
        row = Site(**fields)
        db.session.add(row)
        db.session.commit()
        return SimpleNamespace(id=row.id, **fields)


@pytest.fixture
def site(app):
    """A pre-moderated site allowing https://news.example (plain data, not an ORM row)."""
    return _make_site(app, key="test-site", name="Test News", allowed_origins=[ORIGIN],
                      moderation_mode="pre", language="ru")


@pytest.fixture
def post_site(app):
    return _make_site(app, key="post-site", name="Open News", allowed_origins=[ORIGIN],
                      moderation_mode="post", language="en")


@pytest.fixture
def drain(app):
    """Run a real RQ worker (our non-forking AppWorker) in burst mode until the queue is empty."""
    from moderation.jobs.worker import run_worker

    def run():
        return run_worker(app, burst=True, with_scheduler=False)

    return run


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


@pytest.fixture
def staff(app):
    return Staff(app)


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


@pytest.fixture
def auth(app, client):
    return AuthActions(app, client)
