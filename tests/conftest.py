"""Fixtures: a real Redis (started here on a free port), a real RQ worker, real migrations.

Set TEST_DATABASE_URL (e.g. postgresql://...) to run the suite on PostgreSQL;
the default is a fresh SQLite file per test.
"""
import os

import pytest

from moderation import create_app
from moderation.embedded_redis import EmbeddedRedis

from support.accounts import AuthActions, Staff, make_site
from support.browser import browser, live_server, new_page  # noqa: F401  (one session-wide Chromium)
from support.database import reset_database
from support.net import free_port
from support.payloads import ORIGIN



@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"), port=free_port())
    server.start()
    yield server
    server.stop()


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
    reset_database(app)
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def site(app):
    """A pre-moderated site allowing https://news.example (plain data, not an ORM row)."""
    return make_site(app, key="test-site", name="Test News", allowed_origins=[ORIGIN],
                      moderation_mode="pre", language="ru")


@pytest.fixture
def post_site(app):
    return make_site(app, key="post-site", name="Open News", allowed_origins=[ORIGIN],
                      moderation_mode="post", language="en")


@pytest.fixture
def secret(app, site):
    """The `site`'s SSO secret (created as `moderation sso-secret` does)."""
    from moderation.extensions import db  # noqa: PLC0415
    from moderation.identity import sso  # noqa: PLC0415

    with app.app_context():
        value = sso.ensure_secret(site.id)
        db.session.commit()
    return value


@pytest.fixture
def smtp(app):
    """A local SMTP server receiving the app's mail (support.notify_servers.SmtpSink)."""
    from support.notify_servers import SmtpSink  # noqa: PLC0415

    with SmtpSink(free_port()) as sink:
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=sink.port, SMTP_STARTTLS=False,
                          SMTP_FROM="newsroom@news.example", PUBLIC_URL="http://localhost")
        yield sink


@pytest.fixture
def drain(app):
    """Run a real RQ worker (our non-forking AppWorker) in burst mode until the queue is empty."""
    from moderation.jobs.worker import run_worker

    def run():
        return run_worker(app, burst=True, with_scheduler=False)

    return run


@pytest.fixture
def staff(app):
    return Staff(app)


@pytest.fixture
def auth(app, client):
    return AuthActions(app, client)
