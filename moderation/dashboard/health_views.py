"""GET /dashboard/health: Redis, the RQ workers, queue depth and failed jobs, for admins.

A failed job can be put back on its queue one at a time or all at once; every
retry leaves an audit entry ("job.retry", the job id in `after`, target_id 0
because RQ ids are not integers). With Redis down the page still renders and
says so, and a retry changes nothing.
"""
import redis
from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user
from rq import Worker
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job

from ..extensions import db
from ..services.audit import Target, audit
from . import bp
from .common import register_nav, requires

# Failed jobs listed on the page, newest first ("retry all" retries every failed job).
FAILED_SHOWN = 50
# The job is gone from the failed registry: retried by someone else, or expired.
GONE = (InvalidJobOperation, NoSuchJobError)

register_nav("dashboard.health", lazy_gettext("Queue health"), "admin")


def _last_line(text):
    lines = [line for line in (text or "").splitlines() if line.strip()]
    return lines[-1].strip() if lines else None


def _worker(worker):
    job = worker.get_current_job()
    return {"name": worker.name, "state": worker.get_state(), "heartbeat": worker.last_heartbeat,
            "job": job and (job.description or job.id)}


def _failed(job):
    result = job.latest_result()
    return {"id": job.id, "description": job.description, "enqueued_at": job.enqueued_at,
            "ended_at": job.ended_at or (result.created_at if result else None),
            "error": _last_line(result.exc_string if result else None)}


def snapshot(broker):
    """What the page shows; {"up": False, "error": ...} when Redis does not answer."""
    queue = broker.queue
    try:
        broker.ping()
        registry = queue.failed_job_registry
        ids = registry.get_job_ids(0, FAILED_SHOWN - 1, desc=True)
        jobs = [job for job in Job.fetch_many(ids, connection=queue.connection) if job is not None]
        return {
            "up": True,
            "workers": [_worker(w) for w in Worker.all(queue=queue)],
            "depth": broker.depth(),
            "inbox": broker.inbox_length(),
            "queued": queue.count,
            "scheduled": queue.scheduled_job_registry.count,
            "failed_total": registry.count,
            "failed": [_failed(job) for job in jobs],
        }
    except (redis.RedisError, OSError) as exc:
        current_app.logger.warning("dashboard health: redis down: %s", exc)
        return {"up": False, "error": str(exc)}


def _audit(jobs):
    for job in jobs:
        audit(current_user, "job.retry", Target("job", 0), after={"job_id": job.id, "description": job.description})
    db.session.commit()


@bp.get("/health")
@requires("admin")
def health():
    """The queue health page: always 200 for an admin, Redis up or down. 403 for other roles."""
    return render_template("dashboard/health.html", state=snapshot(current_app.broker))


@bp.post("/health/jobs/<job_id>/retry")
@requires("admin")
def retry_job(job_id):
    """Put one failed job back on its queue, audited; redirects to the health page.

    403 for non-admins, 400 without a valid CSRF token, 404 if the job is not
    (or no longer) among the failed jobs. With Redis down: a flashed error.
    """
    registry = current_app.broker.queue.failed_job_registry
    try:
        job = registry.requeue(job_id)
    except GONE:
        abort(404)
    except (redis.RedisError, OSError):
        flash(_("Redis is down: nothing was retried."), "error")
        return redirect(url_for("dashboard.health"))
    _audit([job])
    flash(_("Job %(id)s is queued again.", id=job.id))
    return redirect(url_for("dashboard.health"))


@bp.post("/health/jobs/retry-all")
@requires("admin")
def retry_all():
    """Put every failed job back on its queue, one audit entry each; redirects to the health page.

    403 for non-admins, 400 without a valid CSRF token. With Redis down: a flashed error.
    """
    registry = current_app.broker.queue.failed_job_registry
    retried = []
    try:
        for job_id in registry.get_job_ids():
            try:
                retried.append(registry.requeue(job_id))
            except GONE:
                continue
    except (redis.RedisError, OSError):
        flash(_("Redis is down: %(n)d jobs were queued again, the others were not.", n=len(retried)), "error")
    else:
        flash(_("%(n)d jobs queued again.", n=len(retried)))
    _audit(retried)
    return redirect(url_for("dashboard.health"))
