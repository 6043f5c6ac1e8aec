"""The queue health page: Redis, workers, counts and failed jobs (retry is audited)."""
import re
import time

import sqlalchemy as sa


from moderation.extensions import db
from moderation.jobs.drain import process_submission
from moderation.jobs.worker import build_worker
from moderation.models import AuditEntry

from support.accounts import AuthActions
from support.net import free_port
from support.payloads import comment_payload, report_payload



def fail_a_job(app, drain):
    """A submission for a site that does not exist: the job raises and lands in the failed registry."""
    payload = report_payload()
    payload.pop("site")
    payload.update(type="report", site_id=987654, position=None, comment=None, kind="typo",
                   reporter_hash="ab" * 32, received_at=time.time())
    job = app.broker.queue.enqueue(process_submission, payload, description=f"submission {payload['client_id']}")
    drain()
    assert job.id in app.broker.queue.failed_job_registry.get_job_ids()
    return job.id


def retries(app):
    with app.app_context():
        return [(e.actor_label, e.target_type, e.after["job_id"]) for e in db.session.execute(
            sa.select(AuditEntry).where(AuditEntry.action == "job.retry").order_by(AuditEntry.id)).scalars()]


def stat(page, name):
    return int(re.search(rf'data-stat="{name}">(\d+)<', page).group(1))


def test_failed_job_is_listed_and_retry_puts_it_back_on_the_queue(app, client, auth, site, drain):
    job_id = fail_a_job(app, drain)
    email = auth.create("admin")
    auth.login(email=email)

    page = client.get("/dashboard/health").get_data(as_text=True)
    row = re.search(rf'<tr data-job="{job_id}">(.*?)</tr>', page, re.S).group(1)
    assert "LookupError" in row  # the last line of the traceback
    assert stat(page, "failed") == 1

    token = auth.csrf("/dashboard/health")
    response = client.post(f"/dashboard/health/jobs/{job_id}/retry", data={"csrf_token": token})
    assert response.status_code == 302
    queue = app.broker.queue
    assert queue.get_job_ids() == [job_id]
    assert queue.failed_job_registry.get_job_ids() == []
    assert retries(app) == [(email, "job", job_id)]
    page = client.get("/dashboard/health").get_data(as_text=True)
    assert stat(page, "queued") == 1 and stat(page, "failed") == 0

    drain()  # it really runs again (and fails again: the site still does not exist)
    assert queue.failed_job_registry.get_job_ids() == [job_id]


def test_retry_all_requeues_every_failed_job_with_one_audit_entry_each(app, client, auth, site, drain):
    first, second = fail_a_job(app, drain), fail_a_job(app, drain)
    auth.login(role="admin")
    token = auth.csrf("/dashboard/health")
    assert client.post("/dashboard/health/jobs/retry-all", data={"csrf_token": token}).status_code == 302
    assert sorted(app.broker.queue.get_job_ids()) == sorted([first, second])
    assert sorted(job for _, _, job in retries(app)) == sorted([first, second])


def test_retry_without_csrf_token_is_refused(app, client, auth, site, drain):
    job_id = fail_a_job(app, drain)
    auth.login(role="admin")
    assert client.post(f"/dashboard/health/jobs/{job_id}/retry").status_code == 400
    assert client.post("/dashboard/health/jobs/retry-all", data={"csrf_token": "forged"}).status_code == 400
    assert app.broker.queue.failed_job_registry.get_job_ids() == [job_id]
    assert retries(app) == []


def test_retry_of_a_job_that_is_not_failed_is_404(app, client, auth, site):
    auth.login(role="admin")
    token = auth.csrf("/dashboard/health")
    assert client.post("/dashboard/health/jobs/no-such-job/retry", data={"csrf_token": token}).status_code == 404
    queued = app.broker.queue.enqueue(process_submission, {})
    assert client.post(f"/dashboard/health/jobs/{queued.id}/retry", data={"csrf_token": token}).status_code == 404
    assert retries(app) == []


def test_only_admins_see_queue_health(app, client, auth, site, drain):
    job_id = fail_a_job(app, drain)
    for role in ("moderator", "editor"):
        auth.login(role=role)
        assert client.get("/dashboard/health").status_code == 403
        token = auth.csrf("/dashboard/comments")
        assert client.post(f"/dashboard/health/jobs/{job_id}/retry", data={"csrf_token": token}).status_code == 403
        assert 'href="/dashboard/health"' not in client.get("/dashboard/comments").get_data(as_text=True)
        auth.logout()
    assert app.broker.queue.failed_job_registry.get_job_ids() == [job_id]


def test_counts_and_workers_are_shown(app, client, auth, site):
    assert client.post("/api/v1/comments", json=comment_payload()).status_code == 202  # no worker yet
    worker = build_worker(app, name="health-test-worker")
    worker.register_birth()
    try:
        auth.login(role="admin")
        page = client.get("/dashboard/health").get_data(as_text=True)
    finally:
        worker.register_death()
    assert 'data-redis="up"' in page
    assert stat(page, "inbox") == 1 and stat(page, "depth") == 2  # the submission and its drain job
    assert stat(page, "queued") == 1 and stat(page, "failed") == 0
    row = re.search(r'<tr data-worker="health-test-worker">(.*?)</tr>', page, re.S).group(1)
    assert re.search(r"<time datetime=", row)  # last heartbeat
    assert 'href="/dashboard/health"' in page  # in the navigation for admins


def test_page_renders_when_redis_is_down(app, make_app, site):
    down = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    client = down.test_client()
    auth = AuthActions(down, client)
    assert auth.login(role="admin").status_code == 302
    response = client.get("/dashboard/health")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'data-redis="down"' in page and "Redis is down." in page
    token = auth.csrf("/dashboard/health")
    response = client.post("/dashboard/health/jobs/retry-all", data={"csrf_token": token})
    assert response.status_code == 302
    assert retries(app) == []
