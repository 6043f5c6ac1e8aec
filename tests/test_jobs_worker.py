"""The `moderation worker` process and its safety net (AppWorker.ensure_drain)."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from moderation.broker import INBOX
from moderation.extensions import db
from moderation.jobs.worker import build_worker
from moderation.models import Comment, TypoReport

from support.payloads import comment_payload, report_payload


ROOT = Path(__file__).resolve().parent.parent


def client_ids(app, model):
    with app.app_context():
        return db.session.execute(sa.select(model.client_id).order_by(model.id)).scalars().all()


def inbox_payload(site_id, **overrides):
    """A report as the reader API queues it (validated, with site_id)."""
    payload = report_payload()
    payload.pop("site")
    payload.update(type="report", site_id=site_id, position=None, comment=None, kind="typo",
                   reporter_hash="cd" * 32, received_at=time.time())
    payload.update(overrides)
    return payload


def worker_env(app):
    env = dict(os.environ)
    env.pop("SECRET_KEY", None)
    env.update(
        MODERATION_ENV="testing",
        MODERATION_DATA_DIR=app.config["DATA_DIR"],
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        REDIS_URL=app.config["REDIS_URL"],
    )
    return env


def run_burst_worker(app):
    return subprocess.run(
        [sys.executable, "-m", "moderation", "worker", "--burst"],
        env=worker_env(app), cwd=ROOT, capture_output=True, text=True, timeout=90,
    )


@pytest.mark.slow
def test_worker_command_in_burst_mode_processes_a_posted_submission(app, client, site):
    payload = comment_payload()
    assert client.post("/api/v1/comments", json=payload).status_code == 202
    assert client_ids(app, Comment) == []

    done = run_burst_worker(app)

    assert done.returncode == 0, done.stderr
    assert client_ids(app, Comment) == [payload["client_id"]]
    assert app.broker.inbox_length() == 0
    assert app.broker.queue.count == 0
    assert client.get(f"/api/v1/submissions/{payload['client_id']}", query_string={"site": "test-site"}).json["status"] == "pending"


@pytest.mark.slow
def test_worker_command_drains_an_inbox_nobody_asked_to_drain(app, site):
    payload = inbox_payload(site.id)
    app.broker.redis.rpush(INBOX, json.dumps(payload, ensure_ascii=False))
    assert app.broker.queue.count == 0  # no drain job anywhere

    done = run_burst_worker(app)

    assert done.returncode == 0, done.stderr
    assert client_ids(app, TypoReport) == [payload["client_id"]]
    assert app.broker.inbox_length() == 0


def test_burst_worker_drains_an_inbox_without_a_job(app, site, drain):
    payloads = [inbox_payload(site.id) for _ in range(3)]
    app.broker.redis.rpush(INBOX, *[json.dumps(p, ensure_ascii=False) for p in payloads])
    assert app.broker.queue.count == 0

    drain()

    assert sorted(client_ids(app, TypoReport)) == sorted(p["client_id"] for p in payloads)
    assert app.broker.inbox_length() == 0


def test_ensure_drain_enqueues_one_job_when_inbox_has_items_and_queue_is_empty(app, site):
    app.broker.redis.rpush(INBOX, json.dumps(inbox_payload(site.id)))
    worker = build_worker(app)

    worker.ensure_drain()
    assert app.broker.queue.count == 1
    [job] = app.broker.queue.get_jobs()
    assert job.func_name == "moderation.jobs.drain.drain_inbox"

    worker.ensure_drain()  # a job is already waiting: no second one
    assert app.broker.queue.count == 1


def test_ensure_drain_does_nothing_for_an_empty_inbox(app, site):
    worker = build_worker(app)
    worker.ensure_drain()
    assert app.broker.queue.count == 0
