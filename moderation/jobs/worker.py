"""Our RQ worker: non-forking, app preloaded, every job inside an app context.

RQ's default worker forks per job (12 jobs/s measured here); SimpleWorker runs
jobs in-process, and batching (one drain job carries hundreds of submissions)
does the rest.
"""
import redis
from rq import SimpleWorker

from ..extensions import db
from .fixed_check import maybe_schedule as schedule_fixed_check


class AppWorker(SimpleWorker):
    """SimpleWorker bound to a Flask app."""

    def __init__(self, *args, app, **kwargs):
        super().__init__(*args, **kwargs)
        self.app = app

    def perform_job(self, job, queue, execution):
        with self.app.app_context():
            try:
                return super().perform_job(job, queue, execution)
            finally:
                db.session.remove()

    @property
    def dequeue_timeout(self):
        # Wake up at least every maintenance interval, so the checks below run
        # on an idle worker too (RQ's default waits ~7 minutes).
        return max(1, min(self.worker_ttl - 15, self.maintenance_interval))

    def run_maintenance_tasks(self):
        started = self.last_cleaned_at is None
        super().run_maintenance_tasks()
        self.ensure_drain()
        self.ensure_digests()
        if not started:
            # Not on a worker's first pass: a burst worker (tests, catch-ups) does
            # only what is queued; long-running workers keep retention going.
            from .retention import schedule_if_due  # noqa: PLC0415

            schedule_if_due(self.app)
        schedule_fixed_check(self.app)  # once per FIXED_CHECK_INTERVAL across all workers

    def ensure_drain(self):
        """Safety net: submissions in the inbox with no drain job queued get one.

        Covers a web process that died between queueing and requesting a drain,
        and a worker that was down while submissions arrived.
        """
        broker = self.app.broker
        try:
            if broker.inbox_length() and broker.queue.count == 0:
                broker.request_drain()
        except redis.RedisError:
            self.log.warning("maintenance: redis unavailable, drain check skipped")


    def ensure_digests(self):
        """Queue the notification digest check when it is due (see jobs.notify.schedule_digests)."""
        from .notify import schedule_digests  # noqa: PLC0415

        try:
            schedule_digests(self.app)
        except redis.RedisError:
            self.log.warning("maintenance: redis unavailable, digest check skipped")


def build_worker(app, name=None):
    broker = app.broker
    # The worker's own connection: long blocking reads, reconnects on its own.
    connection = redis.Redis.from_url(broker.url)
    queue = broker.queue.__class__(broker.queue.name, connection=connection)
    return AppWorker(
        [queue],
        connection=connection,
        app=app,
        name=name,
        maintenance_interval=app.config["WORKER_MAINTENANCE_INTERVAL"],
    )


def run_worker(app, burst=False, with_scheduler=True, name=None):
    """Work the queue; returns True if any job ran (burst mode ends when it is empty)."""
    worker = build_worker(app, name=name)
    return worker.work(burst=burst, with_scheduler=with_scheduler, logging_level="INFO")
