"""Editorial error reports and comment moderation: the application factory."""
import os
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix

from . import security
from .config import CONFIGS, ROOT, from_env, load_secret_key
from .json_limits import DepthLimitedRequest
from .sessions import CachedSerializerSessionInterface


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
    app.session_interface = CachedSerializerSessionInterface()  # Flask's, built once per secret
    app.config.from_object(CONFIGS[env_name])
    app.config.update(from_env())
    app.config.update(config)
    _finish_config(app)

    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    from . import api, assets, auth, broker, cli, demo, health, site_registry  # noqa: PLC0415
    from .extensions import DeferredMigrate, csrf, db, limiter  # noqa: PLC0415

    db.init_app(app)
    app.extensions["migrate"] = DeferredMigrate(app)
    auth.init_app(app)
    csrf.init_app(app)
    broker.init_app(app)
    _limiter_storage(app)
    limiter.init_app(app)
    site_registry.init_app(app)
    with app.app_context():
        _sqlite_pragmas(app, db.engine)

    api.init_app(app)
    health.init_app(app)
    from . import metrics  # noqa: PLC0415 - one hunk here: GET /metrics and the 5xx count
    metrics.init_app(app)
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
