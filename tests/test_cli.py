"""The `moderation` command: site, user and token management, migrations, config checks."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from moderation import create_app
from moderation.extensions import db
from moderation.models import ApiToken, AuditEntry, Site, User

ROOT = Path(__file__).resolve().parent.parent


def last_line(output):
    return output.strip().splitlines()[-1].strip()


def site_by_key(app, key):
    with app.app_context():
        row = db.session.execute(sa.select(Site).where(Site.key == key)).scalar_one_or_none()
        return None if row is None else row.to_dict()


def site_count(app):
    with app.app_context():
        return db.session.execute(sa.select(sa.func.count()).select_from(Site)).scalar_one()


def password_works(app, email, password):
    with app.app_context():
        user = db.session.execute(sa.select(User).where(User.email == email)).scalar_one()
        return user.check_password(password)


def cli_env(app, env_name, **extra):
    env = dict(os.environ)
    env.pop("SECRET_KEY", None)
    env.update(
        MODERATION_ENV=env_name,
        MODERATION_DATA_DIR=app.config["DATA_DIR"],
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        REDIS_URL=app.config["REDIS_URL"],
    )
    env.update(extra)
    return env


def run_cli(app, env_name, *args, **extra_env):
    return subprocess.run(
        [sys.executable, "-m", "moderation", *args],
        env=cli_env(app, env_name, **extra_env), cwd=ROOT, capture_output=True, text=True, timeout=60,
    )


# -- create-site -------------------------------------------------------------------

def test_create_site_prints_the_key_last_and_stores_origins_and_mode(app, runner):
    result = runner.invoke(args=[
        "create-site", "Daily Almaty",
        "--origin", "https://Daily.Example:443/",
        "--origin", "https://*.daily.example",
        "--mode", "post", "--language", "kk",
    ])

    assert result.exit_code == 0, result.output
    key = last_line(result.output)
    stored = site_by_key(app, key)
    assert stored is not None, result.output
    assert stored["name"] == "Daily Almaty"
    assert stored["allowed_origins"] == ["https://daily.example", "https://*.daily.example"]
    assert stored["moderation_mode"] == "post"
    assert stored["language"] == "kk"


def test_create_site_defaults_and_explicit_key(app, runner):
    result = runner.invoke(args=["create-site", "Вечерка", "--origin", "http://vecherka.example",
                                 "--key", "vecherka"])
    assert result.exit_code == 0, result.output
    assert last_line(result.output) == "vecherka"
    stored = site_by_key(app, "vecherka")
    assert stored["moderation_mode"] == "pre"
    assert stored["language"] == "ru"
    assert stored["allowed_origins"] == ["http://vecherka.example"]

    again = runner.invoke(args=["create-site", "Copy", "--origin", "https://x.example", "--key", "vecherka"])
    assert again.exit_code != 0
    assert "already exists" in again.output
    assert site_count(app) == 1


def test_random_keys_differ(app, runner):
    first = runner.invoke(args=["create-site", "A", "--origin", "https://a.example"])
    second = runner.invoke(args=["create-site", "B", "--origin", "https://b.example"])
    assert first.exit_code == second.exit_code == 0
    assert last_line(first.output) != last_line(second.output)
    assert site_count(app) == 2


@pytest.mark.parametrize("origin", ["news.example", "ftp://news.example", "javascript:alert(1)", ""])
def test_create_site_rejects_a_bad_origin(app, runner, origin):
    result = runner.invoke(args=["create-site", "Broken", "--origin", origin])
    assert result.exit_code != 0
    assert "origin" in result.output
    assert site_count(app) == 0


def test_create_site_requires_an_origin(app, runner):
    result = runner.invoke(args=["create-site", "No origin"])
    assert result.exit_code != 0
    assert site_count(app) == 0


@pytest.mark.slow
def test_create_site_as_a_real_command(app):
    done = run_cli(app, "development", "create-site", "Subprocess News", "--origin", "https://sub.example")
    assert done.returncode == 0, done.stderr
    stored = site_by_key(app, last_line(done.stdout))
    assert stored["name"] == "Subprocess News"
    assert stored["allowed_origins"] == ["https://sub.example"]


# -- create-user ---------------------------------------------------------------------

def test_create_user_with_password_from_stdin(app, runner):
    result = runner.invoke(
        args=["create-user", "Editor@News.Example", "--role", "editor", "--password-stdin"],
        input="correct horse battery\n",
    )
    assert result.exit_code == 0, result.output
    assert "correct horse battery" not in result.output
    assert password_works(app, "editor@news.example", "correct horse battery")
    assert not password_works(app, "editor@news.example", "wrong password!")
    with app.app_context():
        user = db.session.execute(sa.select(User).where(User.email == "editor@news.example")).scalar_one()
        assert (user.role, user.is_active) == ("editor", True)


def test_create_user_with_generated_password(app, runner):
    result = runner.invoke(args=["create-user", "mod@news.example", "--role", "moderator"])
    assert result.exit_code == 0, result.output
    line = last_line(result.output)
    assert line.startswith("password: ")
    password = line[len("password: "):]
    assert len(password) >= 10
    assert password_works(app, "mod@news.example", password)


def test_create_user_rejects_a_short_stdin_password(app, runner):
    result = runner.invoke(args=["create-user", "x@news.example", "--role", "admin", "--password-stdin"],
                           input="short\n")
    assert result.exit_code != 0
    assert "10 to 200 characters" in result.output
    with app.app_context():
        assert db.session.execute(sa.select(User)).first() is None


def test_set_password_replaces_it_ends_sessions_and_is_audited(app, runner):
    assert runner.invoke(args=["create-user", "ed@news.example", "--role", "editor", "--password-stdin"],
                         input="the old password\n").exit_code == 0
    with app.app_context():
        version = db.session.execute(sa.select(User.session_version)).scalar_one()
    result = runner.invoke(args=["set-password", "ED@news.example", "--password-stdin"], input="a brand new password\n")
    assert result.exit_code == 0, result.output
    assert "a brand new password" not in result.output
    assert password_works(app, "ed@news.example", "a brand new password")
    assert not password_works(app, "ed@news.example", "the old password")
    with app.app_context():
        user = db.session.execute(sa.select(User)).scalar_one()
        assert user.session_version == version + 1  # signed out everywhere
        entry = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "user.reset_password")).scalar_one()
        assert (entry.actor_label, entry.target_type, entry.target_id) == ("cli", "user", user.id)
    generated = runner.invoke(args=["set-password", "ed@news.example"])
    assert generated.exit_code == 0, generated.output
    assert password_works(app, "ed@news.example", last_line(generated.output).removeprefix("password: "))


def test_set_password_refuses_an_unknown_account_or_a_short_password(app, runner):
    unknown = runner.invoke(args=["set-password", "nobody@news.example"])
    assert unknown.exit_code != 0 and "no user nobody@news.example" in unknown.output
    assert runner.invoke(args=["create-user", "ed@news.example", "--role", "editor", "--password-stdin"],
                         input="the old password\n").exit_code == 0
    short = runner.invoke(args=["set-password", "ed@news.example", "--password-stdin"], input="short\n")
    assert short.exit_code != 0 and "10 to 200 characters" in short.output
    assert password_works(app, "ed@news.example", "the old password")


def test_duplicate_user_is_an_error(app, runner):
    first = runner.invoke(args=["create-user", "dup@news.example", "--role", "editor"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["create-user", "DUP@news.example", "--role", "admin"])
    assert second.exit_code != 0
    assert "already exists" in second.output
    with app.app_context():
        users = db.session.execute(sa.select(User)).scalars().all()
        assert [(u.email, u.role) for u in users] == [("dup@news.example", "editor")]


def test_create_user_rejects_an_unknown_role(app, runner):
    result = runner.invoke(args=["create-user", "r@news.example", "--role", "owner"])
    assert result.exit_code != 0
    with app.app_context():
        assert db.session.execute(sa.select(User)).first() is None


# -- create-token --------------------------------------------------------------------

def test_create_token_prints_a_working_token(app, runner, client, site):
    assert runner.invoke(args=["create-user", "tok@news.example", "--role", "moderator"]).exit_code == 0

    result = runner.invoke(args=["create-token", "tok@news.example", "--name", "ci"])

    assert result.exit_code == 0, result.output
    token = last_line(result.output)
    response = client.get("/api/v1/moderation/comments", headers={"Authorization": "Bearer " + token})
    assert response.status_code == 200, response.json
    assert response.json == {"items": [], "next": None}
    # Stored hashed, never in the clear.
    with app.app_context():
        row = db.session.execute(sa.select(ApiToken)).scalar_one()
        assert row.name == "ci"
        assert row.token_hash != token
        assert token not in row.token_hash
    # A moderator token: reports stay closed.
    assert client.get("/api/v1/moderation/reports",
                      headers={"Authorization": "Bearer " + token}).status_code == 403


def test_create_token_for_an_unknown_user_is_an_error(app, runner):
    result = runner.invoke(args=["create-token", "nobody@news.example"])
    assert result.exit_code != 0
    assert "no user" in result.output
    with app.app_context():
        assert db.session.execute(sa.select(ApiToken)).first() is None


# -- migrations ------------------------------------------------------------------------

def test_db_upgrade_on_a_fresh_database(make_app, tmp_path):
    path = tmp_path / "fresh.db"
    fresh = make_app(SQLALCHEMY_DATABASE_URI="sqlite:///" + str(path))
    with fresh.app_context():
        assert sa.inspect(db.engine).get_table_names() == []

    result = fresh.test_cli_runner().invoke(args=["db", "upgrade"])

    assert result.exit_code == 0, result.output
    with fresh.app_context():
        tables = set(sa.inspect(db.engine).get_table_names())
        assert {"site", "page", "typo_report", "comment", "user", "api_token",
                "audit_entry", "user_site", "alembic_version"} <= tables
        # The schema matches the models: a site can be written and read back.
        db.session.add(Site(name="Fresh", allowed_origins=["https://fresh.example"]))
        db.session.commit()
        assert db.session.execute(sa.select(Site.moderation_mode)).scalar_one() == "pre"
    # Running it again is a no-op.
    assert fresh.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0


# -- configuration ---------------------------------------------------------------------

def _production_config(tmp_path, redis_server, **extra):
    config = {
        "ENV_NAME": "production",
        "DATA_DIR": str(tmp_path / "prod"),
        "REDIS_URL": redis_server.url,
        "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(tmp_path / "prod.db"),
    }
    config.update(extra)
    return config


def test_production_without_secret_key_refuses_to_start(tmp_path, redis_server, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(_production_config(tmp_path, redis_server))
    # No key was invented and written to disk behind the operator's back.
    assert not (tmp_path / "prod" / "secret_key").exists()


def test_production_with_secret_key_starts(tmp_path, redis_server, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    app = create_app(_production_config(tmp_path, redis_server, SECRET_KEY="s" * 48))
    assert app.config["ENV_NAME"] == "production"
    assert app.config["SESSION_COOKIE_SECURE"] is True


@pytest.mark.slow
def test_production_command_without_secret_key_fails(app):
    done = run_cli(app, "production", "create-site", "Prod", "--origin", "https://prod.example")
    assert done.returncode != 0
    assert "SECRET_KEY" in done.stderr + done.stdout
    assert site_count(app) == 0
