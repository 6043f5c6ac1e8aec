"""Our RQ worker: non-forking, app preloaded, every job inside an app context.

RQ's default worker forks per job (12 jobs/s measured here); SimpleWorker runs
jobs in-process, and batching (one drain job carries hundreds of submissions)
does the rest.

Faults it survives (docs/guarantees.md): a sibling worker killed mid-batch (its
job is re-queued by `recovery.sweep` within seconds, not RQ's six minutes), and
Redis going away (maintenance logs and carries on; `run_worker` starts a fresh
worker when RQ's loop gives up, instead of letting the process exit). With Redis
Sentinel the fresh worker's connection asks the sentinels for the master, so after
a failover it works against the promoted replica.
"""
import time

import redis
from rq import SimpleWorker

from .. import tasks
from ..extensions import db
from . import recovery, stop_requested

# Seconds between attempts to start a worker again while Redis is unreachable.
RESTART_PAUSE = 1.0


class AppWorker(SimpleWorker):
    """SimpleWorker bound to a Flask app."""

    def __init__(self, *args, app, redis_url=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.app = app
        self.redis_url = redis_url
        self.liveness = None

    def perform_job(self, job, queue, execution):
        with self.app.app_context():
            try:
                return super().perform_job(job, queue, execution)
            finally:
                db.session.remove()

    def request_stop(self, signum, frame):
        # A drain job in progress ends after its current transaction (and hands over).
        stop_requested.set()
        super().request_stop(signum, frame)

    @property
    def dequeue_timeout(self):
        # Wake up at least every maintenance interval, so the checks below run
        # on an idle worker too (RQ's default waits ~7 minutes).
        return max(1, min(self.worker_ttl - 15, self.maintenance_interval))

    def register_birth(self):
        super().register_birth()
        # Beat from now on: a kill -9 stops the beat, and the sweep notices.
        # Short timeouts: a dead Redis must not wedge the beat.
        client = None if self.redis_url else self.app.broker.connect(socket_connect_timeout=1, socket_timeout=1)
        self.liveness = recovery.Liveness(self.redis_url, self.name, client=client)
        self.liveness.start()
        recovery.mark(self.connection, self)

    def teardown(self):
        try:
            super().teardown()
        finally:
            if self.liveness is not None:
                self.liveness.stop()
                self.liveness = None

    def run_maintenance_tasks(self):
        started = self.last_cleaned_at is None
        # RQ calls this outside its own Redis error handling: an outage here
        # would end the worker. Log it; the next round tries again.
        try:
            super().run_maintenance_tasks()
        except (redis.RedisError, OSError) as exc:
            self.log.warning("maintenance: redis unavailable (%s)", exc)
        self.ensure_drain()
        self.recover_abandoned()
        # Retention, the fixed check, digests: each once per its interval across all workers.
        tasks.schedule_due(self.app, first_pass=started)

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

    def recover_abandoned(self):
        """Re-queue the jobs of workers that died mid-job (see moderation.jobs.recovery)."""
        for queue in self.queues:
            try:
                recovery.sweep(queue, self.liveness)
            except (redis.RedisError, OSError) as exc:
                self.log.warning("maintenance: redis unavailable, recovery sweep skipped (%s)", exc)


def build_worker(app, name=None):
    broker = app.broker
    # The worker's own connection: long blocking reads, reconnects on its own (through
    # Sentinel, to whichever master it names now).
    connection = broker.connect()
    queue = broker.queue.__class__(broker.queue.name, connection=connection)
    return AppWorker(
        [queue],
        connection=connection,
        app=app,
        name=name,
        maintenance_interval=app.config["WORKER_MAINTENANCE_INTERVAL"],
    )


def run_worker(app, burst=False, with_scheduler=True, name=None):
    """Work the queue; returns True if any job ran (burst mode ends when it is empty).

    Outside burst mode the process keeps working until it is asked to stop
    (SIGINT/SIGTERM): when RQ's loop gives up on a Redis error, a fresh worker
    starts once Redis answers again.
    """
    worked = False
    attempt = 0
    while True:
        worker = None
        try:
            # A restarted worker takes a new name: the old one may still look alive in Redis.
            worker = build_worker(app, name=f"{name}-{attempt}" if name and attempt else name)
            worked = worker.work(burst=burst, with_scheduler=with_scheduler, logging_level="INFO") or worked
        except (redis.RedisError, OSError) as exc:
            app.logger.warning("worker: redis unavailable (%s); starting again", exc)
        if burst or _asked_to_stop(worker):
            return worked
        time.sleep(RESTART_PAUSE)
        if _asked_to_stop(worker):  # SIGTERM while we paused
            return worked
        attempt += 1


def _asked_to_stop(worker):
    """SIGINT/SIGTERM reached this worker (RQ records the date of a warm shutdown request)."""
    return worker is not None and (worker._stop_requested or worker._shutdown_requested_date is not None)
