"""Flask extensions, created once and bound to the app in `create_app`."""
from pathlib import Path

from flask import current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData

# Named constraints keep Alembic migrations portable between SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING))
login_manager = LoginManager()
csrf = CSRFProtect()



def _operator_limit(setting):
    """An app-wide limit only if the operator sets one (Flask-Limiter's own setting name),
    read per request. Our limits are the login view's decorators and the reader API's
    ingest script (moderation.ratelimit); Flask-Limiter would read RATELIMIT_DEFAULT and
    RATELIMIT_APPLICATION once, at the first `init_app`, and keep them on this
    module-level limiter for every app built after (the tests build many)."""
    return lambda: current_app.config.get(setting) or ""


limiter = Limiter(
    key_func=get_remote_address,
    default_limits=[_operator_limit("RATELIMIT_DEFAULT")],
    application_limits=[_operator_limit("RATELIMIT_APPLICATION")],
)


MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class DeferredMigrate:
    """`app.extensions["migrate"]` until something reads it: a migration is about to run.

    Flask-Migrate imports Alembic, Mako and Pygments (~11 MB of a web process's peak
    RSS) and no request needs them. Its own readers (`flask_migrate.upgrade()`, its `db`
    commands, migrations/env.py) all go through `app.extensions["migrate"]`, so the
    first attribute read binds the real Flask-Migrate, which replaces this entry, and
    every caller keeps calling the library as documented.
    """

    def __init__(self, app):
        self._app = app

    def __getattr__(self, name):
        if name.startswith("__"):  # copy/pickle probes: not a migration
            raise AttributeError(name)
        from flask_migrate import Migrate  # noqa: PLC0415 - the point of this class

        Migrate(self._app, db, directory=str(MIGRATIONS))
        return getattr(self._app.extensions["migrate"], name)
