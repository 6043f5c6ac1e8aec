"""One unit of work: a database transaction that takes its write lock up front and
is redone whole when the database says "locked" or "try again".

The dashboard, the moderation API and the reader API all go through this module
(`init_app` wraps their views), so a moderator's click, a sign-in and a reader's
status lookup meet a busy database the same way: they wait and succeed, and only
a database that stays unavailable for `DB_RETRY_BUDGET` seconds becomes a 503.

Why this is needed on SQLite: a transaction that reads first and writes later
(every moderation action) cannot wait for the lock. When the worker holds the
write lock, or committed since this transaction's first read, SQLite refuses the
upgrade at once with "database is locked" without calling the busy handler
(waiting could deadlock). A write unit therefore starts with BEGIN IMMEDIATE: it
queues for the write lock before it reads anything, and then cannot fail on it.
SQLite's busy handler backs off to one poll per 100 ms, which misses the short
gaps the worker leaves between its drain transactions (moderation/jobs/persist.py),
so `begin_sqlite` polls for the lock in short rounds instead.

PostgreSQL waits on row locks by itself; a deadlock, a serialization failure or a
dropped connection is retried the same way.
"""
import functools
import random
import time
from contextvars import ContextVar

from flask import current_app, request
from sqlalchemy.exc import DBAPIError, OperationalError

from .extensions import db

# Inside a write unit: the next transaction this thread begins takes the write lock first.
_WRITE = ContextVar("moderation_write_unit", default=False)
# Inside any unit: a nested unit is part of the outer one (only the outer one retries).
_ACTIVE = ContextVar("moderation_unit_active", default=False)

# SQLSTATEs that mean "run the transaction again": serialization failure, deadlock,
# lock not available, and the connection-level classes (admin shutdown, connection lost).
_PG_RETRY = {"40001", "40P01", "55P03"}
_PG_RETRY_CLASSES = ("08", "57P")

# Milliseconds SQLite's own busy handler waits within one round of `begin_sqlite`;
# its first polls are dense (after 1, 3, 8, 18 ms), its later ones 100 ms apart.
SQLITE_LOCK_ROUND_MS = 20

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def is_retryable(exc):
    """True for errors that a fresh attempt of the same unit of work can get past."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if not isinstance(exc, OperationalError):
        return False
    orig = exc.orig
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if code:
        return code in _PG_RETRY or code.startswith(_PG_RETRY_CLASSES)
    text = str(orig).lower()
    return "locked" in text or "busy" in text


def in_write_unit():
    return _WRITE.get()


def unit_of_work(fn=None, *, write=True):
    """Run `fn` as one unit of work, redone whole on a retryable database error.

    `write=True`: on SQLite its transactions begin with BEGIN IMMEDIATE (the write
    lock first); a read transaction left open by a request hook (the signed-in
    user, the API token) is ended first, since it cannot be upgraded safely.
    The function commits what it means to keep; whatever it left open is rolled
    back at the end. After `DB_RETRY_BUDGET` seconds the last error is raised
    (the error handlers answer 503 with Retry-After). A unit inside a unit is
    part of the outer one.
    """
    if fn is None:
        return functools.partial(unit_of_work, write=write)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if _ACTIVE.get():
            return fn(*args, **kwargs)
        deadline = time.monotonic() + current_app.config["DB_RETRY_BUDGET"]
        attempt = 0
        active = _ACTIVE.set(True)
        try:
            while True:
                if write:
                    db.session.rollback()
                writing = _WRITE.set(write)
                try:
                    return fn(*args, **kwargs)
                except Exception as exc:
                    db.session.rollback()
                    if not is_retryable(exc) or time.monotonic() >= deadline:
                        raise
                    attempt += 1
                    current_app.logger.info("database busy (%s); attempt %d of %s", exc.orig, attempt + 1,
                                            getattr(fn, "__name__", "unit"))
                finally:
                    if write:
                        db.session.rollback()  # nothing of the unit stays open, holding the lock
                    _WRITE.reset(writing)
                # Jittered, growing pause: retries of several units do not march in step.
                time.sleep(min(0.5, 0.01 * 2 ** min(attempt, 6)) * random.uniform(0.5, 1.0))
        finally:
            _ACTIVE.reset(active)

    return wrapper


def begin_sqlite(conn, default_begin, busy_timeout):
    """The SQLite `begin` event: BEGIN IMMEDIATE inside a write unit, polled in short rounds.

    Each round lets SQLite's busy handler wait at most SQLITE_LOCK_ROUND_MS (its
    dense first polls) and then asks again, up to the connection's busy timeout,
    so a waiting moderator gets the lock in the first gap the worker leaves.
    """
    if not _WRITE.get():
        conn.exec_driver_sql(default_begin)
        return
    deadline = time.monotonic() + busy_timeout
    conn.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_LOCK_ROUND_MS}")
    try:
        while True:
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                return
            except OperationalError as exc:
                if not is_retryable(exc) or time.monotonic() >= deadline:
                    raise
    finally:
        conn.exec_driver_sql(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")


def _wrap(view, write_on_unsafe):
    read_unit = unit_of_work(view, write=False)
    write_unit = unit_of_work(view, write=True)

    @functools.wraps(view)
    def dispatch(*args, **kwargs):
        if write_on_unsafe and request.method not in SAFE_METHODS:
            return write_unit(*args, **kwargs)
        return read_unit(*args, **kwargs)

    return dispatch


def init_app(app, write_blueprints=("dashboard", "moderation_api"), read_blueprints=("api",)):
    """Every view of these blueprints is a unit of work: registered ones now, so a new
    route cannot forget it. POSTs of the dashboard and the moderation API are write
    units; the reader API never writes the database (it queues), so its views retry
    their reads without taking the write lock."""
    for endpoint, view in list(app.view_functions.items()):
        blueprint = endpoint.rpartition(".")[0]
        if blueprint in write_blueprints:
            app.view_functions[endpoint] = _wrap(view, write_on_unsafe=True)
        elif blueprint in read_blueprints:
            app.view_functions[endpoint] = _wrap(view, write_on_unsafe=False)
