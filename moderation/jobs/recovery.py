"""Prompt recovery of drain jobs abandoned by a worker that died (kill -9, OOM, power).

RQ notices an abandoned job only when its StartedJobRegistry entry expires. For
our non-forking workers that entry lives for the job timeout plus 60 s (6
minutes), because a SimpleWorker cannot heartbeat while it runs a job. A drain
job holds a claim of up to `MODERATION_BATCH_SIZE` submissions, so six minutes
is six minutes of readers' words stuck in Redis.

So every AppWorker keeps a short-lived key, ``moderation:worker-alive:<name>``,
refreshed by a daemon thread (`Liveness`) every `BEAT_SECONDS` with a TTL of
`ALIVE_TTL`: it keeps beating while the main thread is deep in a database
transaction, and it stops with the process. During maintenance one worker
(`sweep`, under a short lock) looks at the started jobs: an execution whose worker
carries our mark but has no alive key is re-queued at once, at the front, with the
same job id, so the re-run finishes the leftover claim first (see
`moderation.broker`). Persisting is idempotent on client_id: nothing is doubled.

Two guards against declaring a live worker dead:
- the sweeping worker only trusts absence after it has itself reached Redis
  continuously for `ALIVE_TTL` seconds (after a Redis outage every worker has had
  time to beat again);
- a worker without our mark (a plain `rq worker`) is judged by RQ's own rules.

A job abandoned `MAX_ABANDONED` times (it kills every worker that runs it) is
moved to the failed registry, where the dashboard shows it with "retry".
"""
import logging
import os
import threading
import time

import redis
from rq.exceptions import NoSuchJobError
from rq.executions import Execution, ExecutionRegistry
from rq.job import Job, JobStatus
from rq.job_lifecycle import record_job_failure
from rq.worker import Worker

from ..redis_keys import RECOVERY_SWEEP_LOCK as SWEEP_LOCK
from ..redis_keys import worker_alive_key as alive_key

log = logging.getLogger(__name__)

# A field in RQ's worker hash: "this worker keeps an alive key" (so its absence means death).
MARK_FIELD = "moderation_alive_ttl"
BEAT_SECONDS = 2
ALIVE_TTL = 10
MAX_ABANDONED = 3


class Liveness:
    """A daemon thread that keeps this worker's alive key fresh while the process lives."""

    def __init__(self, url, worker_name, beat=BEAT_SECONDS, ttl=ALIVE_TTL, client=None):
        # Its own client (`client`, or one for `url`) with short timeouts: a dead Redis must
        # not wedge the beat.
        self.redis = client or redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        self.key = alive_key(worker_name)
        self.beat = beat
        self.ttl = ttl
        self._stop = threading.Event()
        self._thread = None
        self._healthy_since = None

    def beat_once(self):
        try:
            self.redis.set(self.key, os.getpid(), ex=self.ttl)
        except (redis.RedisError, OSError):
            self._healthy_since = None
            return False
        if self._healthy_since is None:
            self._healthy_since = time.monotonic()
        return True

    def _run(self):
        while not self._stop.wait(self.beat):
            self.beat_once()

    def start(self):
        self.beat_once()
        self._thread = threading.Thread(target=self._run, name="worker-liveness", daemon=True)
        self._thread.start()

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.beat + 2)
        try:
            self.redis.delete(self.key)
        except (redis.RedisError, OSError):
            pass  # it expires on its own
        self.redis.close()

    @property
    def trusted(self):
        """True once we have reached Redis without a break for a whole TTL."""
        since = self._healthy_since
        return since is not None and time.monotonic() - since >= self.ttl


def mark(connection, worker):
    """Record in RQ's worker hash that this worker keeps an alive key."""
    connection.hset(worker.key, MARK_FIELD, ALIVE_TTL)


def is_dead(connection, worker_name):
    """A worker is dead when it keeps an alive key and the key is gone, or RQ forgot it."""
    if not worker_name:
        return False  # no owner recorded: leave it to RQ's own cleanup
    if connection.exists(alive_key(worker_name)):
        return False
    worker_key = Worker.redis_worker_namespace_prefix + worker_name
    if not connection.exists(worker_key):
        return True  # RQ's worker hash expired: nobody heartbeats for it
    return bool(connection.hexists(worker_key, MARK_FIELD) or connection.hexists(worker_key, "death"))


def _requeue(queue, job, execution):
    """Put an abandoned job back at the front of its queue (same id), atomically with
    removing its dead execution; or fail it when it keeps killing workers."""
    connection = queue.connection
    abandoned = int(job.meta.get("abandoned", 0)) + 1
    job.meta["abandoned"] = abandoned
    with connection.pipeline(transaction=True) as pipe:
        pipe.delete(execution.key)
        pipe.zrem(queue.started_job_registry.key, execution.composite_key)
        ExecutionRegistry(job_id=job.id, connection=connection).remove(execution, pipeline=pipe)
        pipe.srem(execution.worker_executions_key, execution.composite_key)
        if abandoned > MAX_ABANDONED:
            record_job_failure(
                job, f"abandoned by {abandoned} workers that died running it (moderation.jobs.recovery)", pipe
            )
        else:
            # As RQ's own Job.retry does: no dependencies to check, inside our MULTI.
            queue._enqueue_job(job, pipeline=pipe, at_front=True)
        pipe.execute()
    return abandoned <= MAX_ABANDONED


def sweep(queue, liveness=None, lock_seconds=5):
    """Re-queue the started jobs of dead workers. Returns the ids re-queued (or failed).

    Safe to call from every worker: one sweeps at a time (a short Redis lock).
    Does nothing until `liveness` (the caller's own) is trusted.
    """
    if liveness is not None and not liveness.trusted:
        return []
    connection = queue.connection
    token = f"{os.getpid()}-{time.monotonic()}"
    if not connection.set(SWEEP_LOCK, token, nx=True, ex=lock_seconds):
        return []
    handled = []
    try:
        registry = queue.started_job_registry
        for job_id, execution_id in registry.get_job_and_execution_ids(cleanup=False):
            execution = Execution(id=execution_id, job_id=job_id, connection=connection)
            try:
                execution.refresh()
            except ValueError:
                continue  # its hash expired: RQ's registry cleanup owns it now
            if not is_dead(connection, execution.worker_name):
                continue
            try:
                job = Job.fetch(job_id, connection=connection, serializer=queue.serializer)
            except NoSuchJobError:
                connection.zrem(registry.key, execution.composite_key)
                continue
            if job.get_status() != JobStatus.STARTED:
                continue  # it finished while we looked
            requeued = _requeue(queue, job, execution)
            log.warning(
                "recovery: job %s (%s) of dead worker %s %s", job_id, job.description,
                execution.worker_name, "re-queued" if requeued else "failed: it keeps killing workers",
            )
            handled.append(job_id)
    finally:
        if connection.get(SWEEP_LOCK) == token.encode():
            connection.delete(SWEEP_LOCK)
    return handled
