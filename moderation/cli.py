"""The `moderation` command: a Flask CLI group bound to the app factory."""
import os
import sys

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import FlaskGroup, routes_command, shell_command, with_appcontext
from werkzeug.utils import import_string

from . import auth, embedded_redis, privacy_cli
from .extensions import db
from .models import ApiToken, Site, User
from .models.sites import LANGUAGES, MODES
from .identity.cli import COMMANDS as IDENTITY_COMMANDS
from .porting.cli import COMMANDS as PORTING_COMMANDS
from .urls import origin_of


def _factory():
    from . import create_app  # noqa: PLC0415

    try:
        return create_app()
    except RuntimeError as exc:  # configuration problems: a message, not a traceback
        raise click.ClickException(str(exc)) from exc


class DeferredGroup(click.Group):
    """A command group defined elsewhere, imported when it is used (run, listed, completed).

    Flask-Migrate's `db` group imports Alembic, which a web process building its
    `app.cli` must not pay for (moderation.extensions.DeferredMigrate says why). The
    parent group hands the arguments to `make_context`, so the real group parses,
    shows its help and runs them itself.
    """

    def __init__(self, name, import_path, **kwargs):
        super().__init__(name, **kwargs)
        self._import_path = import_path

    def _group(self):
        return import_string(self._import_path)

    def make_context(self, info_name, args, parent=None, **extra):
        return self._group().make_context(info_name, args, parent=parent, **extra)

    def list_commands(self, ctx):
        return self._group().list_commands(ctx)

    def get_command(self, ctx, name):
        return self._group().get_command(ctx, name)


db_group = DeferredGroup("db", "flask_migrate.cli:db", help="Perform database migrations.")


def main():
    """Console script entry point."""
    cli = FlaskGroup(create_app=_factory, add_default_commands=False, load_dotenv=False,
                     help="Editorial error reports and comment moderation.")
    cli.add_command(shell_command)
    cli.add_command(routes_command)
    for command in COMMANDS:
        cli.add_command(command)
    cli.main(prog_name="moderation")


def _start_embedded_redis(preexec_fn=None):
    """Start (or reuse) the embedded Redis when REDIS_URL is unset. Returns it or None."""
    if not current_app.config.get("EMBEDDED_REDIS"):
        return None
    server = embedded_redis.EmbeddedRedis(
        current_app.config["DATA_DIR"], appendfsync=current_app.config["REDIS_APPENDFSYNC"]
    )
    server.start(preexec_fn=preexec_fn)
    return server


@click.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="Queue worker processes.")
@with_appcontext
def run_command(host, port, workers):
    """Everything on one machine: Redis, migrations, demo data, worker(s) and the web app."""
    from flask_migrate import upgrade  # noqa: PLC0415
    from werkzeug.serving import run_simple  # noqa: PLC0415

    from .demo import ensure_demo  # noqa: PLC0415
    from .supervisor import Supervisor, die_with_parent  # noqa: PLC0415 - ctypes, for `run` alone

    app = current_app._get_current_object()
    # Every child is stopped on SIGTERM, SIGINT or SIGHUP, and one that dies stops the rest.
    with Supervisor() as children:
        children.adopt_redis(_start_embedded_redis(preexec_fn=die_with_parent))
        upgrade()
        base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
        site, password = ensure_demo(base)
        env = dict(os.environ, MODERATION_DATA_DIR=app.config["DATA_DIR"],
                   MODERATION_ENV=app.config["ENV_NAME"])
        if app.config["REDIS_URL"]:  # unset with Sentinel: the children read REDIS_SENTINELS
            env["REDIS_URL"] = app.config["REDIS_URL"]
        if not os.environ.get("SECRET_KEY"):
            env["SECRET_KEY"] = app.config["SECRET_KEY"]
        for n in range(max(workers, 0)):
            children.spawn(f"queue worker {n + 1}", [sys.executable, "-m", "moderation", "worker"], env)
        children.watch()
        click.echo(f"Demo article: {base}/demo   (site key: {site.key})")
        click.echo(f"Dashboard:    {base}/dashboard")
        click.echo(f"Health:       {base}/healthz")
        if password:
            click.echo("Admin account created. This password is shown once:")
            click.echo(f"  e-mail:   admin@localhost\n  password: {password}")
        run_simple(host, port, app, threaded=True, use_reloader=False)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Process what is queued, then exit.")
@click.option("--name", default=None, help="Worker name (default: RQ's).")
def worker_command(burst, name):
    """Process queued submissions (non-forking RQ worker, app preloaded)."""
    from . import create_app  # noqa: PLC0415
    from .jobs.worker import run_worker  # noqa: PLC0415

    # Writers queue on SQLite's busy timeout instead of failing a lock upgrade.
    app = create_app({"SQLITE_BEGIN": "BEGIN IMMEDIATE"})
    with app.app_context():
        _start_embedded_redis()
    run_worker(app, burst=burst, name=name)


@click.command("create-site")
@click.argument("name")
@click.option("--origin", "origins", multiple=True, required=True,
              help="Allowed origin, e.g. https://news.example (repeatable; https://*.example for subdomains).")
@click.option("--mode", type=click.Choice(MODES), default="pre", show_default=True)
@click.option("--language", type=click.Choice(LANGUAGES), default="ru", show_default=True)
@click.option("--key", default=None, help="Public key (default: random).")
@with_appcontext
def create_site_command(name, origins, mode, language, key):
    """Create a site; prints its public key as the last line."""
    cleaned = []
    for origin in origins:
        if "://*." in origin:
            cleaned.append(origin.rstrip("/").lower())
            continue
        normalized = origin_of(origin)
        if normalized is None:
            raise click.BadParameter(f"{origin!r} is not an http(s) origin", param_hint="--origin")
        cleaned.append(normalized)
    if key and db.session.execute(sa.select(Site).where(Site.key == key)).scalar_one_or_none():
        raise click.ClickException(f"a site with key {key!r} already exists")
    site = Site(name=name, allowed_origins=cleaned, moderation_mode=mode, language=language)
    if key:
        site.key = key
    db.session.add(site)
    db.session.commit()
    click.echo(f"Created site {name!r} ({mode}-moderation, {language}); origins: {', '.join(cleaned)}")
    click.echo(site.key)


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(("admin", "editor", "moderator")), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create_user_command(email, role, password_stdin):
    """Create a staff account; a generated password is printed once."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    try:
        user, password_used = auth.create_user(email, role, password)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Created {user.role} {user.email}")
    if not password_stdin:
        click.echo(f"password: {password_used}")


@click.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
@with_appcontext
def set_password_command(email, password_stdin):
    """Set a staff account's password and sign it out everywhere; a generated one is printed once."""
    from .services.audit import audit  # noqa: PLC0415 - only this command needs it

    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    try:
        user, password_used = auth.set_password(email, password)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    audit("cli", "user.reset_password", user, after={"password_reset": True})
    db.session.commit()
    click.echo(f"New password set for {user.email}; its sessions have ended.")
    if not password_stdin:
        click.echo(f"password: {password_used}")


@click.command("create-token")
@click.argument("email")
@click.option("--name", default="", help="What the token is for.")
@with_appcontext
def create_token_command(email, name):
    """Issue a moderation API token for a user; prints it as the last line (shown once)."""
    user = db.session.execute(
        sa.select(User).where(User.email == email.strip().lower())
    ).scalar_one_or_none()
    if user is None:
        raise click.ClickException(f"no user {email}")
    row, token = ApiToken.issue(user, name=name)
    db.session.add(row)
    db.session.commit()
    click.echo(f"Token for {user.email} ({user.role}); store it now, it is not kept:")
    click.echo(token)


@click.command("check-fixed")
@click.option("--site", "site_key", default=None, help="Only this site (its key).")
@click.option("--force", is_flag=True, help="Also pages checked in the last half interval.")
@with_appcontext
def check_fixed_command(site_key, force):
    """Re-fetch the articles of open error reports now and flag the fixed ones."""
    from .jobs.fixed_check import run_check  # noqa: PLC0415 - worker code, loaded on use

    if site_key and db.session.execute(sa.select(Site.id).where(Site.key == site_key)).first() is None:
        raise click.ClickException(f"no site {site_key!r}")
    summary = run_check(site_key=site_key, force=force)
    outcomes = ", ".join(f"{word}: {n}" for word, n in sorted(summary["outcomes"].items())) or "none due"
    click.echo(f"Checked {summary['pages']} page(s) ({outcomes}); {summary['detected']} newly detected as fixed.")


COMMANDS = [
    run_command, worker_command, create_site_command, create_user_command, create_token_command,
    check_fixed_command, set_password_command, db_group, *privacy_cli.COMMANDS,
] + PORTING_COMMANDS + IDENTITY_COMMANDS


def init_app(app):
    """Also reachable as `flask --app wsgi ...`."""
    for command in COMMANDS:
        app.cli.add_command(command)
