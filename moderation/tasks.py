"""The task port: every RQ job this application queues, by name, with its options.

**By name.** A job is queued as its dotted path (`DRAIN`, `WEBHOOK`, ...); RQ imports
the function in the worker that runs it. So a web process (services, api, dashboard)
queues work without importing worker code (persist, screening, bleach, the spam
model): tests/test_task_port.py fails when one of those packages imports
`moderation.jobs`. Jobs take ids or plain data, never ORM objects, and every job runs
in an app context (`moderation.jobs.in_app_context`, our worker's `perform_job`).

**Options once.** `TASKS` holds each job's timeout, result and failure TTLs, retry
policy and default description; `enqueue` is the only caller of `Queue.enqueue`
(`moderation.jobs.recovery` re-queues an existing job, which is not a new one).

**Periodic jobs.** `PERIODIC` is the one table of jobs queued every so often:
retention, the already-fixed check, the notification digests. Every worker's
maintenance pass calls `schedule_due`, and for each entry a Redis ``SET lock NX EX
interval`` lets exactly one worker queue the job per interval, however many run.
RQ's own scheduler was considered and not used, in the RQ version we pin (3.0):
- `rq.cron.CronScheduler` is documented as "still in beta, use at your own risk"
  (python-rq.org/docs/cron); it runs as one more process (`rq cron`), and its timing
  lives in that process's memory with no lock across schedulers, so two of them (a
  second host, a restart overlap) queue every job twice;
- `enqueue_in` / `Repeat` (`RQScheduler`, started `with_scheduler`) needs a first job
  to be seeded and a chain that ends for good when one link is lost (a failed job, a
  Redis restart without AOF).
The lock needs nothing to seed and heals after a Redis flush: the next pass queues again.
"""
import logging
import uuid
from dataclasses import dataclass
from typing import Callable

import redis
from flask import current_app
from rq import Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job

from . import redis_keys

log = logging.getLogger(__name__)

DAY = 24 * 3600

# -- the jobs, by dotted path --------------------------------------------------------------
DRAIN = "moderation.jobs.drain.drain_inbox"
SUBMISSION = "moderation.jobs.drain.process_submission"  # one quarantined submission
NOTIFY_DISPATCH = "moderation.jobs.notify.dispatch"
WEBHOOK = "moderation.jobs.notify.deliver_webhook"
STAFF_MAIL = "moderation.jobs.notify.send_staff_mail"
DIGESTS = "moderation.jobs.notify.send_digests"
READER_FOLLOWUP = "moderation.jobs.notify.notify_readers"
READER_MAIL = "moderation.jobs.notify.send_reader_mail"
READER_CONFIRMATION = "moderation.jobs.notify.send_reader_confirmation"
PASSWORD_RESET_MAIL = "moderation.jobs.notify.send_password_reset"
RETENTION = "moderation.jobs.retention.run_retention"
FIXED_CHECK = "moderation.jobs.fixed_check.check_fixed_job"
LEARN = "moderation.jobs.learning.learn_pending"
RETRAIN = "moderation.jobs.learning.retrain_model"
RESCREEN = "moderation.jobs.rescreen.rescreen_comment"  # a comment its reader edited


def notify_retry(config):
    """Deliveries back off along NOTIFY_RETRY_INTERVALS (empty: no retries)."""
    intervals = list(config["NOTIFY_RETRY_INTERVALS"])
    return Retry(max=len(intervals), interval=intervals) if intervals else None


def _fixed_check_timeout(config):
    # The budget is checked between pages: one more fetch, and slack, may follow it.
    return int(config["FIXED_CHECK_BUDGET"] + 2 * config["FETCH_TIMEOUT"] + config["FIXED_CHECK_DELAY"] + 60)


@dataclass(frozen=True)
class Task:
    """RQ options of one job. `job_timeout` and `retry` may depend on the app's config
    (a function of it); `result_ttl` None keeps RQ's default."""

    description: str
    job_timeout: int | Callable
    failure_ttl: int
    result_ttl: int | None = None
    retry: Retry | Callable | None = None

    def options(self, config):
        resolve = lambda value: value(config()) if callable(value) else value  # noqa: E731
        options = {"job_timeout": resolve(self.job_timeout), "failure_ttl": self.failure_ttl,
                   "retry": resolve(self.retry)}
        if self.result_ttl is not None:
            options["result_ttl"] = self.result_ttl
        return options


_DELIVERY = {"job_timeout": 120, "result_ttl": 3600, "failure_ttl": 30 * DAY, "retry": notify_retry}

TASKS = {
    DRAIN: Task("drain submission inbox", job_timeout=300, result_ttl=60, failure_ttl=30 * DAY,
                retry=Retry(max=8, interval=[1, 2, 5, 10, 30, 60, 120, 300])),
    # A submission that makes processing raise: retried, then kept a year in the failed registry.
    SUBMISSION: Task("submission", job_timeout=60, failure_ttl=365 * DAY,
                     retry=Retry(max=3, interval=[10, 60, 300])),
    NOTIFY_DISPATCH: Task("notify", job_timeout=120, result_ttl=300, failure_ttl=30 * DAY, retry=notify_retry),
    WEBHOOK: Task("webhook", **_DELIVERY),
    STAFF_MAIL: Task("staff mail", **_DELIVERY),
    READER_FOLLOWUP: Task("reader follow-up", **_DELIVERY),
    READER_MAIL: Task("reader mail", **_DELIVERY),
    READER_CONFIRMATION: Task("reader confirmation", **_DELIVERY),
    # The link is made when the job runs; later than a few minutes a reset mail is no help.
    PASSWORD_RESET_MAIL: Task("password reset mail", job_timeout=120, result_ttl=3600, failure_ttl=7 * DAY,
                              retry=Retry(max=3, interval=[10, 60, 300])),
    RESCREEN: Task("re-screen an edited comment", job_timeout=60, result_ttl=300, failure_ttl=30 * DAY,
                   retry=Retry(max=3, interval=[5, 30, 300])),
    DIGESTS: Task("notification digests", job_timeout=600, result_ttl=300, failure_ttl=7 * DAY),
    RETENTION: Task("privacy retention", job_timeout=1800, result_ttl=DAY, failure_ttl=30 * DAY),
    FIXED_CHECK: Task("already-fixed check of open error reports", job_timeout=_fixed_check_timeout,
                      result_ttl=3600, failure_ttl=7 * DAY),
    # A locked or briefly unreachable database: try again, backing off to 5 minutes.
    LEARN: Task("spam model: learn from moderator decisions", job_timeout=600, result_ttl=300,
                failure_ttl=30 * DAY, retry=Retry(max=5, interval=[1, 5, 30, 60, 300])),
    RETRAIN: Task("spam model: retrain on all decisions", job_timeout=1800, result_ttl=300,
                  failure_ttl=30 * DAY, retry=Retry(max=3, interval=[30, 300, 900])),
}


def enqueue(name, *args, app=None, queue=None, description=None, job_id=None):
    """Queue job `name` (a path above) with its options. Returns the RQ job.

    `queue` defaults to the app's (`app`, else the current one); raises redis.RedisError
    when Redis is unreachable, as `Queue.enqueue` does.
    """
    task = TASKS[name]
    for arg in args:
        # An ORM object would be pickled with its state of now, and its session is gone
        # when the job runs: jobs take ids and read the current row themselves.
        if hasattr(arg, "_sa_instance_state"):
            raise TypeError(f"{name}: pass ids, not {type(arg).__name__} objects")
    if queue is None:
        queue = (app or current_app).broker.queue
    options = task.options(lambda: (app or current_app).config)
    return queue.enqueue(name, *args, job_id=job_id, description=description or task.description, **options)


# -- periodic jobs ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Periodic:
    """A job queued at most once per `interval(config)` seconds (<= 0: never) across workers."""

    name: str
    job: str
    interval: Callable
    lock: str
    # False: not on a worker's first maintenance pass (burst workers in tests and
    # catch-ups do only what is queued; long-running workers keep it going).
    on_first_pass: bool = True


PERIODIC = (
    Periodic("retention", RETENTION, lambda config: int(config.get("RETENTION_INTERVAL", 3600)),
             redis_keys.RETENTION_SCHEDULED, on_first_pass=False),
    Periodic("fixed check", FIXED_CHECK, lambda config: int(config["FIXED_CHECK_INTERVAL"] or 0),
             redis_keys.FIXED_CHECK_SCHEDULED),
    # The digest job decides who is due from `last_digest_at` in the database.
    Periodic("digests", DIGESTS, lambda config: int(config["DIGEST_CHECK_SECONDS"]),
             redis_keys.DIGEST_CHECK_SCHEDULED),
)
PERIODIC_BY_NAME = {entry.name: entry for entry in PERIODIC}


def schedule(app, name):
    """Queue periodic job `name` unless its interval lock is held. Returns the job or None."""
    entry = PERIODIC_BY_NAME[name]
    interval = entry.interval(app.config)
    if interval <= 0:
        return None
    if not app.broker.redis.set(entry.lock, "1", nx=True, ex=interval):
        return None
    return enqueue(entry.job, app=app)


def schedule_due(app, first_pass=False):
    """Every worker's maintenance: queue the periodic jobs that are due. Returns the jobs queued.

    A Redis error skips that entry (logged); the next pass tries again."""
    queued = []
    for entry in PERIODIC:
        if first_pass and not entry.on_first_pass:
            continue
        try:
            job = schedule(app, entry.name)
        except (redis.RedisError, OSError) as exc:
            log.warning("maintenance: redis unavailable, %s not scheduled (%s)", entry.name, exc)
            continue
        if job is not None:
            queued.append(job)
    return queued


# -- the spam model's learning queue (called by the service layer after a decision) ------------

def enqueue_learning(comment_ids, weight=1.0):
    """Queue decisions for learning. Returns the job that will learn them, or None if Redis is unavailable.

    `weight` > 1: a "Not spam" from the Spam queue (see spam_model.EXTRA_WEIGHT).
    Decisions wait in a Redis list (`redis_keys.LEARN_INBOX`) and one job takes them all
    (`moderation.jobs.learning.learn_pending`); the flag holds that job's id.

    A decision must never fail because learning is unavailable: the error is
    logged and the example is lost (the model learns from the next ones).
    """
    ids = [int(comment_id) for comment_id in comment_ids]
    if not ids:
        return None
    entries = ids if weight == 1.0 else [f"{cid}:{float(weight)}" for cid in ids]
    queue = current_app.broker.queue
    try:
        job_id = str(uuid.uuid4())
        pipe = queue.connection.pipeline()
        pipe.rpush(redis_keys.LEARN_INBOX, *entries)
        # The job id as the flag's value: later decisions find the job that will take them.
        pipe.set(redis_keys.LEARN_REQUESTED, job_id, nx=True, ex=3600)
        pipe.get(redis_keys.LEARN_REQUESTED)
        _, created, waiting = pipe.execute()
        if not created:
            try:
                return Job.fetch(waiting.decode(), connection=queue.connection)
            except NoSuchJobError:
                queue.connection.delete(redis_keys.LEARN_REQUESTED)  # stale flag: the next call queues a job
                return None
        return enqueue(LEARN, queue=queue, job_id=job_id)
    except redis.RedisError as exc:
        current_app.logger.warning("spam model: learning from comments %s not queued (%s)", ids, exc)
        return None
