"""The drain job: move queued submissions from the Redis inbox into the database."""
import time

from flask import current_app
from rq import get_current_job

from .. import tasks
from . import in_app_context, stop_requested
from .persist import PoisonSubmission, persist_batch, persist_one


@in_app_context
def drain_inbox():
    """Persist batches until the inbox is empty, the time budget is spent or the worker
    is asked to stop (then the next worker carries on).

    The claim is named after this job's id: if the worker dies mid-batch, RQ
    re-queues this job (same id) and the leftover claim is finished first.
    Transient database errors propagate so RQ retries with backoff; a
    submission that fails on its own is split off into its own job.
    Returns the number of submissions handled.
    """
    broker = current_app.broker
    job = get_current_job()
    job_id = job.id if job is not None else "inline"
    size = current_app.config["DRAIN_BATCH_SIZE"]
    deadline = time.monotonic() + current_app.config["DRAIN_TIME_BUDGET"]
    handled = 0
    while True:
        batch = broker.claim(job_id, size)
        if not batch:
            broker.finish_drain()
            break
        poisoned = persist_batch(batch)
        for payload in poisoned:
            _quarantine(broker, payload)
        broker.release(job_id)
        handled += len(batch)
        if time.monotonic() > deadline or stop_requested.is_set():
            if broker.inbox_length():
                broker.request_drain()  # hand over so other queues get a turn
            break
    return handled


def _quarantine(broker, payload):
    """One submission that makes processing raise: its own job, retried, then failed."""
    tasks.enqueue(tasks.SUBMISSION, payload, queue=broker.queue,
                  description=f"submission {payload.get('client_id', '?')}")


@in_app_context
def process_submission(payload):
    """Persist a single submission; raising leaves it in RQ's failed registry for a retry."""
    try:
        persist_one(payload)
    except PoisonSubmission as exc:
        raise exc.__cause__ or exc
    return payload.get("client_id")
