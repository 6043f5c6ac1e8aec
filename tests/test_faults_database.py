"""The database is locked or goes away while the worker writes a batch.

SQLite: another connection holds `BEGIN EXCLUSIVE` longer than the worker's busy
timeout (15 s), so the worker's transaction fails with "database is locked".
PostgreSQL (TEST_DATABASE_URL): another connection holds `LOCK TABLE ... ACCESS
EXCLUSIVE`; once the worker's backend waits on it, that backend is terminated
(the database went away mid-transaction), then the lock is released.

Either way the drain job raises a transient error, RQ retries it with the same
id, the retry finishes the claim it left behind, and the count is exact: every
acknowledged submission of N = 2,000 is stored once.
"""
import contextlib
import sqlite3
import time

import pytest
import sqlalchemy as sa

from support.faults import (
    N, Processes, assert_exactly_once, flask_sender, post_all, post_in_background, submissions, wait_for,
)


pytestmark = [pytest.mark.faults, pytest.mark.timeout(300)]

BUSY_TIMEOUT = 15  # seconds: PRAGMA busy_timeout in moderation/__init__.py


@contextlib.contextmanager
def sqlite_lock(uri):
    conn = sqlite3.connect(uri.removeprefix("sqlite:///"), isolation_level=None, timeout=30)
    try:
        conn.execute("BEGIN EXCLUSIVE")
        yield conn
    finally:
        conn.execute("ROLLBACK")
        conn.close()


def _fault_sqlite(app, procs, worker):
    """Hold an exclusive lock until the worker's transaction has failed on it."""
    with sqlite_lock(app.config["SQLALCHEMY_DATABASE_URI"]):
        wait_for(lambda: "database is locked" in procs.log(worker), BUSY_TIMEOUT + 45,
                 "the worker's transaction fails on the lock", interval=0.5)
    return "database is locked"


def _fault_postgres(app, procs, worker):
    """Lock the submission tables; kill the worker's backend while it waits; unlock."""
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"], poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as locker, engine.connect() as admin:
            admin.execute(sa.text("SET application_name = 'fault-admin'"))
            admin.commit()
            locker.execute(sa.text("LOCK TABLE typo_report, comment IN ACCESS EXCLUSIVE MODE"))

            def waiting():
                rows = admin.execute(sa.text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")).scalars().all()
                admin.commit()
                return rows

            pids = wait_for(waiting, 60, "the worker waits on the lock", interval=0.2)
            time.sleep(0.5)
            for pid in pids:
                assert admin.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
            admin.commit()
            time.sleep(1)
            locker.rollback()
    finally:
        engine.dispose()
    wait_for(lambda: "terminating connection" in procs.log(worker), 30, "the worker saw its connection die",
             interval=0.5)
    return "terminating connection"


def test_database_locked_or_gone_while_the_worker_writes_retries_the_batch(app, make_app, site, tmp_path):
    ingest = make_app(RATELIMIT_ENABLED=False)
    items = submissions(N)
    dialect = sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name()
    if dialect not in ("sqlite", "postgresql"):
        pytest.skip(f"no database fault written for {dialect}")
    procs = Processes(app, tmp_path / "logs")
    try:
        first = post_all(flask_sender(ingest), items[: N // 2])  # waiting in the inbox
        assert len(first.acked) == N // 2
        worker = procs.worker("worker-1")
        thread, outcome = post_in_background(flask_sender(ingest), items[N // 2:])
        error = (_fault_sqlite if dialect == "sqlite" else _fault_postgres)(app, procs, worker)
        thread.join(240)
        outcome.acked |= first.acked
        assert not outcome.failed and not outcome.server_errors
        found = assert_exactly_once(app, outcome, items)
        assert len(found) == N
        log = procs.log(worker)
        assert error in log
        # RQ retried the failed drain job (same id) instead of giving up on it.
        assert "retry" in log.lower()
        assert app.broker.queue.failed_job_registry.get_job_ids() == []
    finally:
        procs.stop_all()
