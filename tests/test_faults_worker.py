"""Faults in the queue workers: kill -9 in the middle of a batch, and a poison submission.

Each test runs real `moderation worker` processes against the test's database and
Redis, submits N = 2,000 submissions through the reader API and ends by counting.
"""
import json
import re
import time
from datetime import datetime, timezone

import pytest
from rq.job import Job

from moderation.broker import CLAIM_PREFIX, INBOX

from support.accounts import AuthActions
from support.faults import (
    N, Processes, assert_exactly_once, flask_sender, post_all, post_in_background, stored_ids,
    submissions, wait_for,
)


pytestmark = [pytest.mark.faults, pytest.mark.timeout(300)]


def claims(app):
    """{claim key: items} of the drain jobs holding submissions right now."""
    redis = app.broker.redis
    return {key.decode(): redis.llen(key) for key in redis.scan_iter(match=CLAIM_PREFIX + "*")}


def test_worker_killed_mid_batch_loses_nothing_and_doubles_nothing(app, make_app, site, tmp_path):
    """kill -9 a worker holding a claim of a batch; a new worker re-runs the abandoned job
    (moderation.jobs.recovery re-queues it within seconds) and finishes the claim."""
    ingest = make_app(RATELIMIT_ENABLED=False)
    items = submissions(N)
    procs = Processes(app, tmp_path / "logs")
    try:
        # Half the submissions wait in the inbox, so the first batch is a full one.
        first = post_all(flask_sender(ingest), items[: N // 2])
        assert len(first.acked) == N // 2

        doomed = procs.worker("doomed")
        held = wait_for(lambda: {k: n for k, n in claims(app).items() if n}, 60, "the worker claims a batch",
                        interval=0.02)
        time.sleep(0.3)  # well into persisting the batch
        procs.kill9(doomed)
        [(claim_key, claimed)] = held.items()
        job_id = claim_key.removeprefix(CLAIM_PREFIX)
        assert app.broker.redis.llen(claim_key) == claimed, "the batch finished before the kill"
        assert claimed == app.config["DRAIN_BATCH_SIZE"]
        assert len(stored_ids(app)) < N // 2

        # The rest arrives while the replacement starts.
        thread, rest = post_in_background(flask_sender(ingest), items[N // 2:])
        procs.worker("replacement")
        thread.join(240)
        rest.acked |= first.acked
        rest.statuses.update(first.statuses)
        assert not rest.failed and not rest.server_errors
        found = assert_exactly_once(app, rest, items)
        assert len(found) == N

        # The abandoned job was re-queued by the sweep (same id, claim finished), not failed.
        job = Job.fetch(job_id, connection=app.broker.redis)
        assert job.meta.get("abandoned") == 1
        # The claim is deleted just after the commit the count above saw: give it that moment.
        wait_for(lambda: not app.broker.redis.exists(claim_key), 30, "the re-run job released its claim")
        assert app.broker.queue.failed_job_registry.get_job_ids() == []
    finally:
        procs.stop_all()


def _make_due(app):
    """Make every scheduled retry due now (RQ's own retry path, without waiting minutes)."""
    registry = app.broker.queue.scheduled_job_registry
    for job_id in registry.get_job_ids():
        job = Job.fetch(job_id, connection=app.broker.redis)
        registry.schedule(job, datetime(2000, 1, 1, tzinfo=timezone.utc))


def test_poison_submission_is_failed_and_retryable_while_its_batch_is_stored(app, make_app, site, client,
                                                                             tmp_path):
    ingest = make_app(RATELIMIT_ENABLED=False)
    items = submissions(N)
    # A submission for a site deleted after it was queued: processing it raises LookupError.
    poison = dict(items[0][1], site_id=987654, type="report", client_id="poison-0000-aaaa",
                  reporter_hash="ab" * 32, received_at=time.time())
    poison.pop("site")
    first = post_all(flask_sender(ingest), items[:700])
    app.broker.redis.rpush(INBOX, json.dumps(poison, ensure_ascii=False))  # inside the second batch
    outcome = post_all(flask_sender(ingest), items[700:])
    outcome.acked |= first.acked
    assert len(outcome.acked) == N and not outcome.server_errors

    procs = Processes(app, tmp_path / "logs")
    try:
        procs.worker("worker-1")
        found = assert_exactly_once(app, outcome, items)
        assert len(found) == N and "poison-0000-aaaa" not in found

        failed = app.broker.queue.failed_job_registry

        def poison_failed():
            _make_due(app)
            return failed.get_job_ids()

        [job_id] = wait_for(poison_failed, 90, "the poison submission's job ends in the failed registry",
                            interval=0.5)
        job = Job.fetch(job_id, connection=app.broker.redis)
        assert job.func_name == "moderation.jobs.drain.process_submission"
        assert job.args[0]["client_id"] == "poison-0000-aaaa"
        assert "LookupError" in (job.latest_result().exc_string or "")
    finally:
        procs.stop_all()

    # The admin sees it on the queue health page, with its error and a retry button.
    auth = AuthActions(app, client)
    auth.login(email=auth.create("admin"))
    page = client.get("/dashboard/health").get_data(as_text=True)
    row = re.search(rf'<tr data-job="{job_id}">(.*?)</tr>', page, re.S)
    assert row, "the failed job is listed"
    assert "LookupError" in row.group(1)
    assert f'action="/dashboard/health/jobs/{job_id}/retry"' in page
    # Nothing of the batch was doubled by the isolation pass or the retries.
    assert len(stored_ids(app)) == N


def test_sweep_requeues_the_jobs_of_dead_workers_only(app, site):
    """The sweep itself, on real RQ registries: a marked worker whose alive key is gone is
    dead; a live one and a plain RQ worker (no mark) are left alone; a job abandoned more
    than MAX_ABANDONED times goes to the failed registry."""
    from rq.executions import prepare_execution
    from rq.job import JobStatus
    from rq.worker import SimpleWorker

    from moderation.jobs import recovery
    from moderation.jobs.worker import build_worker

    queue = app.broker.queue
    jobs = [app.broker.request_drain() for _ in range(3)]
    for job in jobs:
        queue.remove(job)
    dead, alive = build_worker(app, name="dead"), build_worker(app, name="alive")
    plain = SimpleWorker([queue], connection=queue.connection, name="plain")
    try:
        for worker in (dead, alive, plain):
            worker.register_birth()
        dead.liveness.stop()  # what kill -9 does to the beat (the key expires)
        dead.liveness = None
        for worker, job in zip((dead, alive, plain), jobs):
            prepare_execution(worker, job)
            job.set_status(JobStatus.STARTED)

        assert recovery.sweep(queue) == [jobs[0].id]

        assert queue.get_job_ids() == [jobs[0].id]
        assert sorted(queue.started_job_registry.get_job_ids(cleanup=False)) == sorted([jobs[1].id, jobs[2].id])
        requeued = Job.fetch(jobs[0].id, connection=queue.connection)
        assert requeued.get_status() == JobStatus.QUEUED and requeued.meta["abandoned"] == 1
        assert recovery.sweep(queue) == []  # nothing else is dead

        # The same job keeps dying: after MAX_ABANDONED re-queues it is failed instead.
        queue.remove(requeued)
        requeued.meta["abandoned"] = recovery.MAX_ABANDONED
        requeued.save_meta()
        prepare_execution(dead, requeued)
        requeued.set_status(JobStatus.STARTED)
        assert recovery.sweep(queue) == [jobs[0].id]
        assert queue.get_job_ids() == []
        assert queue.failed_job_registry.get_job_ids() == [jobs[0].id]
    finally:
        for worker in (alive, dead):
            if worker.liveness is not None:
                worker.liveness.stop()


def test_a_worker_does_not_trust_missing_keys_until_it_has_beaten_for_a_ttl(app):
    from moderation.jobs import recovery

    liveness = recovery.Liveness(app.broker.url, "fresh", ttl=2)
    try:
        liveness.start()
        assert not liveness.trusted
        assert recovery.sweep(app.broker.queue, liveness) == []
        wait_for(lambda: liveness.trusted, 10, "trusted after a TTL of successful beats")
        assert app.broker.redis.exists(recovery.alive_key("fresh"))
    finally:
        liveness.stop()
    assert not app.broker.redis.exists(recovery.alive_key("fresh"))
