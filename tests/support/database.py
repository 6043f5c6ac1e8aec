"""The test database: the migrated schema built once per session, a fresh copy per test."""
import sqlite3
import tempfile
from contextlib import contextmanager

import sqlalchemy as sa
from flask_migrate import upgrade

from moderation.extensions import db

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


def reset_database(app):
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


@contextmanager
def recorded_statements(app):
    """The SQL statements `app`'s engine runs inside the block: a list filled as they run
    (tests that a lookup is batched, or costs no query at all)."""
    seen = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
