"""Editorial error reports and comment moderation: the application factory."""
import os
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix

from . import security
from .config import CONFIGS, ROOT, from_env, load_secret_key
from .json_limits import DepthLimitedRequest


def create_app(config=None):
    """Build the app. `config` (a dict) overrides the environment and the defaults.

    The config class comes from `MODERATION_ENV` (or `config["ENV_NAME"]`):
    production (default), development or testing.
    """
    config = dict(config or {})
    env_name = config.get("ENV_NAME") or os.environ.get("MODERATION_ENV", "production")
    if env_name not in CONFIGS:
        raise RuntimeError(f"MODERATION_ENV must be one of {', '.join(CONFIGS)}, not {env_name!r}")

    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    # UTF-8 JSON: Cyrillic escaped as \uXXXX would triple the size of every comment list.
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    app.request_class = DepthLimitedRequest  # JSON bodies nest at most MAX_JSON_DEPTH deep
    app.config.from_object(CONFIGS[env_name])
    app.config.update(from_env())
    app.config.update(config)
    _finish_config(app)

    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    from . import api, assets, auth, broker, cli, demo, health, site_registry  # noqa: PLC0415
    from .extensions import csrf, db, limiter, login_manager, migrate  # noqa: PLC0415

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    login_manager.init_app(app)
    auth.init_app(app)
    csrf.init_app(app)
    broker.init_app(app)
    _limiter_storage(app)
    limiter.init_app(app)
    _dashboard_only(app, login_manager)
    # An operator's app-wide limit (RATELIMIT_DEFAULT/APPLICATION) needs the hooks everywhere.
    if not (app.config.get("RATELIMIT_DEFAULT") or app.config.get("RATELIMIT_APPLICATION")):
        _dashboard_only(app, limiter, checks=False)
    site_registry.init_app(app)
    with app.app_context():
        _sqlite_pragmas(app, db.engine)

    api.init_app(app)
    health.init_app(app)
    assets.init_app(app)
    demo.init_app(app)
    cli.init_app(app)
    security.init_app(app)

    from . import dashboard, db_retry, notify  # noqa: PLC0415

    dashboard.init_app(app)
    notify.init_app(app)
    db_retry.init_app(app)  # last: wraps the views every blueprint registered
    return app


def _finish_config(app):
    cfg = app.config
    Path(cfg["DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    if not cfg.get("SECRET_KEY"):
        if cfg["ENV_NAME"] == "production":
            raise RuntimeError(
                "SECRET_KEY is not set. Set it in the environment (e.g. "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`), "
                "or run with MODERATION_ENV=development."
            )
        cfg["SECRET_KEY"] = load_secret_key(cfg["DATA_DIR"])
    if not cfg.get("SQLALCHEMY_DATABASE_URI"):
        cfg["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + str(Path(cfg["DATA_DIR"]).resolve() / "moderation.db")
    uri = cfg["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgres://"):  # Heroku-style URLs
        uri = cfg["SQLALCHEMY_DATABASE_URI"] = "postgresql://" + uri[len("postgres://"):]
    if uri.startswith("postgresql://"):
        cfg["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + uri[len("postgresql://"):]
    if uri.startswith("sqlite"):
        opts = dict(cfg.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        opts.setdefault("connect_args", {"timeout": float(cfg["DB_BUSY_TIMEOUT"])})
        cfg["SQLALCHEMY_ENGINE_OPTIONS"] = opts


def _limiter_storage(app):
    """Flask-Limiter shares our Redis (the same master, with Sentinel); a down Redis must
    not slow requests down."""
    # Half the budget: a POST meets the limiter, then the enqueue; against a hung
    # Redis both time out and the 503 must still come within a second.
    uri, options = app.broker.target.limiter_storage(app.config["REDIS_SOCKET_TIMEOUT"] / 2)
    app.config.setdefault("RATELIMIT_STORAGE_URI", uri)
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", options)


def _dashboard_only(app, extension, checks=True):
    """Move an extension's app-wide request hooks to the dashboard blueprint.

    Flask-Login and Flask-Limiter hook every request, but their work is under
    /dashboard: staff sign in there, and our Flask-Limiter limits are the login
    view's decorators (the reader API counts its windows in the ingest script,
    moderation.ratelimit). App-wide, Flask-Login's remember-cookie hook read the
    session on every answer, so Flask added `Vary: Cookie` to every reader API
    answer (the public comment list included), and Flask-Limiter's hooks cost ~8%
    of a reader POST while finding nothing to enforce.

    `checks=False` drops the before-request hooks instead of moving them:
    Flask-Limiter's decorators check in their own wrapper, and its middleware check
    on other dashboard pages applied the login's limits to them (a 429 on
    /dashboard/comments right after signing out).
    """
    def owned(hook):
        return getattr(hook, "__self__", None) is extension or extension in getattr(hook, "args", ())

    for registry in (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs):
        hooks = registry.get(None, [])
        registry[None] = [hook for hook in hooks if not owned(hook)]
        if checks or registry is not app.before_request_funcs:
            registry.setdefault("dashboard", []).extend(hook for hook in hooks if owned(hook))


def _sqlite_pragmas(app, engine):
    """WAL lets readers work while the worker writes; explicit BEGIN makes SAVEPOINT work.

    The worker opens its transactions with BEGIN IMMEDIATE (SQLITE_BEGIN), and so does
    every write unit of work of the web app (moderation/db_retry.py): writers queue for
    the lock instead of failing on a lock upgrade.
    """
    from . import db_retry  # noqa: PLC0415
    if engine.dialect.name != "sqlite":
        return
    begin = app.config.get("SQLITE_BEGIN", "BEGIN")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=%d" % int(app.config["DB_BUSY_TIMEOUT"] * 1000))
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        db_retry.begin_sqlite(conn, begin, app.config["DB_BUSY_TIMEOUT"])
