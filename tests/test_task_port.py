"""The task port (moderation.tasks): web-side code queues jobs by name, every name is a
real job, and the periodic table queues each job once per interval however many workers race."""
import ast
import importlib
import threading
from pathlib import Path

import pytest

from moderation import redis_keys, tasks
from moderation.jobs import in_app_context

from support.faults import wait_for

PACKAGE = Path(tasks.__file__).resolve().parent
# The packages a web process runs: they queue work, they never import worker code.
# notify too: the services emit events through it (notify.events, notify.followup).
WEB_SIDE = ("services", "api", "dashboard", "notify")


def _imported_modules(path, package):
    """Absolute names of every module `path` imports, at the top or inside a function."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[:len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def test_web_side_packages_never_import_worker_code():
    offenders = []
    for name in WEB_SIDE:
        for path in sorted((PACKAGE / name).rglob("*.py")):
            package = "moderation." + ".".join(path.relative_to(PACKAGE).parent.parts)
            for module in _imported_modules(path, package):
                if module == "moderation.jobs" or module.startswith("moderation.jobs."):
                    offenders.append(f"{path.relative_to(PACKAGE)}: {module}")
    assert offenders == []


def test_every_task_name_is_a_job_run_in_an_app_context():
    for name in tasks.TASKS:
        module, function = name.rsplit(".", 1)
        job = getattr(importlib.import_module(module), function)
        # in_app_context wraps it: the wrapper's code object is the decorator's.
        assert job.__code__ is in_app_context(lambda: None).__code__, name


def test_a_task_keeps_its_options(app):
    with app.app_context():
        job = tasks.enqueue(tasks.WEBHOOK, 7, "ping", [], description="webhook 7 test")
    assert job.func_name == "moderation.jobs.notify.deliver_webhook" and job.args == (7, "ping", [])
    assert (job.timeout, job.result_ttl, job.failure_ttl) == (120, 3600, 30 * 24 * 3600)
    assert job.retries_left == len(app.config["NOTIFY_RETRY_INTERVALS"])
    assert job.description == "webhook 7 test"


def test_a_task_refuses_orm_objects(app, site):
    with app.app_context():
        from moderation.extensions import db  # noqa: PLC0415
        from moderation.models import Site  # noqa: PLC0415

        with pytest.raises(TypeError, match="pass ids"):
            tasks.enqueue(tasks.WEBHOOK, db.session.get(Site, site.id), "ping", [])
    assert app.broker.queue.count == 0


def _queued(app):
    counts = {}
    for job in app.broker.queue.get_jobs():
        counts[job.func_name] = counts.get(job.func_name, 0) + 1
    return counts


def _race(apps, rounds=25):
    """Every app (its own Redis connection, like a worker process) runs maintenance at once."""
    barrier = threading.Barrier(len(apps))
    errors = []

    def worker(app):
        try:
            for _ in range(rounds):
                barrier.wait(timeout=10)
                tasks.schedule_due(app)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(app,)) for app in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []


def test_two_schedulers_racing_queue_each_periodic_job_once_per_interval(app, make_app):
    intervals = {"RETENTION_INTERVAL": 1, "FIXED_CHECK_INTERVAL": 1, "DIGEST_CHECK_SECONDS": 1}
    apps = [make_app(**intervals), make_app(**intervals)]
    once = {entry.job: 1 for entry in tasks.PERIODIC}

    _race(apps)
    assert _queued(app) == once

    # The interval ends (each lock's TTL runs out): one more of each, still not two.
    wait_for(lambda: not any(app.broker.redis.exists(entry.lock) for entry in tasks.PERIODIC), 5,
             "the interval locks to expire", interval=0.05)
    _race(apps)
    assert _queued(app) == {name: 2 for name in once}


def test_periodic_table_obeys_switches_and_the_first_pass(make_app, app):
    off = make_app(FIXED_CHECK_INTERVAL=0, DIGEST_CHECK_SECONDS=0)
    assert tasks.schedule_due(off, first_pass=True) == []  # retention waits for a later pass
    [job] = tasks.schedule_due(off)
    assert job.func_name == tasks.RETENTION and job.description == "privacy retention"
    assert 0 < app.broker.redis.ttl(redis_keys.RETENTION_SCHEDULED) <= 3600
    assert not app.broker.redis.exists(redis_keys.FIXED_CHECK_SCHEDULED)


def test_a_redis_outage_skips_the_periodic_jobs_and_logs(make_app, caplog):
    down = make_app(REDIS_URL="redis://127.0.0.1:1/0")
    assert tasks.schedule_due(down) == []
    assert "redis unavailable, retention not scheduled" in caplog.text

