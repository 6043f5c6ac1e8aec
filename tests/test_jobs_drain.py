"""The drain job: Redis inbox -> database, through a real RQ worker.

Submissions go in through the reader API (or, where a test is about the broker
itself, straight into Redis) and come out as rows once `drain()` has run.
"""
import hashlib
import json
import re
import time
from datetime import datetime, timezone

import sqlalchemy as sa
from rq.job import Job

from moderation.broker import CLAIM_PREFIX, INBOX, submission_key
from moderation.extensions import db
from moderation.jobs.drain import drain_inbox
from moderation.jobs.persist import persist_batch
from moderation.jobs.worker import run_worker
from moderation.models import Comment, Page, TypoReport
from moderation.privacy import hash_address

from support.payloads import ARTICLE, ORIGIN, comment_payload, report_payload


OTHER_ARTICLE = ORIGIN + "/2026/11/bus-depot"
HEX64 = re.compile(r"^[0-9a-f]{64}$")


# -- helpers ----------------------------------------------------------------------

def post(client, kind, payload):
    response = client.post(f"/api/v1/{kind}", json=payload)
    assert response.status_code == 202, response.json
    return payload["client_id"]


def rows(app, model, **where):
    with app.app_context():
        query = sa.select(model).order_by(model.id)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        found = db.session.execute(query).scalars().all()
        db.session.expunge_all()
        return found


def count(app, model):
    with app.app_context():
        return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def queued_report(site_id, **overrides):
    """A report payload as the reader API puts it in the inbox (validated, with site_id)."""
    payload = report_payload()
    payload.pop("site")
    payload.update(
        type="report", site_id=site_id, position=None, comment=None, kind="typo",
        reporter_hash="ab" * 32, received_at=time.time(),
    )
    payload.update(overrides)
    return payload


def fast_forward_retries(app):
    """Make every job waiting in RQ's ScheduledJobRegistry due now and run a burst
    worker with its scheduler, until no retry is pending (RQ's own retry path,
    without waiting out the retry intervals)."""
    queue = app.broker.queue
    registry = queue.scheduled_job_registry
    for _ in range(10):
        job_ids = registry.get_job_ids()
        if not job_ids:
            return
        for job_id in job_ids:
            job = Job.fetch(job_id, connection=app.broker.redis)
            registry.schedule(job, datetime(2000, 1, 1, tzinfo=timezone.utc))
        run_worker(app, burst=True, with_scheduler=True)
    raise AssertionError(f"retries still scheduled: {registry.get_job_ids()}")


# -- what the worker writes ------------------------------------------------------

def test_report_is_persisted_with_every_field(app, client, site, drain):
    payload = report_payload(position=1234, kind="fact", comment="Это ошибка в фамилии")
    post(client, "reports", payload)
    assert rows(app, TypoReport) == []

    drain()

    [report] = rows(app, TypoReport)
    assert report.client_id == payload["client_id"]
    assert report.site_id == site.id
    assert report.exact == "обьявил"
    assert report.prefix == "Вчера мэр "
    assert report.suffix == " о запуске"
    assert report.position == 1234
    assert report.suggestion == "объявил"
    assert report.comment == "Это ошибка в фамилии"
    assert report.kind == "fact"
    assert report.status == "new"
    assert report.submitted_at is not None
    [page] = rows(app, Page, id=report.page_id)
    assert page.url == ARTICLE
    assert page.site_id == site.id


def test_report_optional_fields_default(app, client, site, drain):
    payload = report_payload()
    del payload["suggestion"]
    post(client, "reports", payload)
    drain()

    [report] = rows(app, TypoReport)
    assert report.kind == "typo"
    assert report.position is None
    assert report.suggestion is None
    assert report.comment is None


def test_comment_is_persisted_with_every_field(app, client, site, drain):
    parent_id = post(client, "comments", comment_payload())
    drain()
    [parent] = rows(app, Comment, client_id=parent_id)

    payload = comment_payload(
        author="Борис", email="boris@mail.example", body="Согласен с Анной.",
        title="Трамвай: новая линия", parent=parent.id,
    )
    post(client, "comments", payload)
    drain()

    [reply] = rows(app, Comment, client_id=payload["client_id"])
    assert reply.site_id == site.id
    assert reply.page_id == parent.page_id
    assert reply.author == "Борис"
    assert reply.email == "boris@mail.example"
    assert reply.body_raw == "Согласен с Анной."
    assert reply.body_html == "<p>Согласен с Анной.</p>"
    assert reply.parent_id == parent.id
    assert reply.thread_id == parent.id
    assert reply.submitted_at is not None
    [page] = rows(app, Page, id=reply.page_id)
    assert page.url == ARTICLE
    assert page.title == "Трамвай: новая линия"


def test_reporter_hash_is_salted_and_never_the_address(app, client, site, drain):
    report_id = post(client, "reports", report_payload())
    comment_id = post(client, "comments", comment_payload())
    drain()

    [report] = rows(app, TypoReport, client_id=report_id)
    [comment] = rows(app, Comment, client_id=comment_id)
    with app.app_context():
        expected = hash_address("127.0.0.1")
    for stored in (report.reporter_hash, comment.reporter_hash):
        assert HEX64.match(stored), stored
        assert stored == expected
        assert "127.0.0.1" not in stored
        # Salted: not the plain digest anyone could recompute.
        assert stored != hashlib.sha256(b"127.0.0.1").hexdigest()
    # And the raw address is nowhere in the stored rows.
    with app.app_context():
        for table in ("typo_report", "comment"):
            dump = db.session.execute(sa.text(f"SELECT * FROM {table}")).all()
            assert "127.0.0.1" not in repr(dump)


def test_comment_html_is_sanitized_by_the_worker(app, client, site, drain):
    body = ('<script>alert("x")</script> see https://example.org and '
            '<a href="https://evil.example" onclick="steal()">this</a>')
    payload = comment_payload(body=body)
    post(client, "comments", payload)
    drain()

    [comment] = rows(app, Comment)
    assert comment.body_raw == body
    html = comment.body_html
    assert "<script" not in html
    assert "&lt;script&gt;" in html
    # The typed <a> is shown as text; only the two bare URLs became links, without handlers.
    assert "&lt;a href=" in html
    assert not any("onclick" in tag for tag in re.findall(r"<[^>]+>", html)), html
    links = re.findall(r"<a\b[^>]*>", html)
    assert len(links) == 2, html
    for tag in links:
        assert 'rel="nofollow ugc noopener"' in tag
    assert 'href="https://example.org"' in html
    assert 'href="https://evil.example"' in html


def test_pre_moderated_site_comment_is_pending(app, client, site, drain):
    post(client, "comments", comment_payload())
    drain()
    [comment] = rows(app, Comment)
    assert comment.status == "pending"
    listed = client.get("/api/v1/comments", query_string={"site": "test-site", "url": ARTICLE}).json
    assert listed["total"] == 0


def test_post_moderated_site_comment_is_approved(app, client, post_site, drain):
    payload = comment_payload(site="post-site")
    post(client, "comments", payload)
    drain()

    [comment] = rows(app, Comment)
    assert comment.status == "approved"
    assert comment.site_id == post_site.id
    [page] = rows(app, Page, id=comment.page_id)
    assert page.comments_version == 1
    listed = client.get("/api/v1/comments", query_string={"site": "post-site", "url": ARTICLE}).json
    assert listed["total"] == 1
    assert client.get(f"/api/v1/submissions/{payload['client_id']}", query_string={"site": "post-site"}).json["status"] == "published"


def test_reply_to_a_comment_on_another_page_loses_its_parent(app, client, site, drain):
    parent_id = post(client, "comments", comment_payload())
    drain()
    [parent] = rows(app, Comment, client_id=parent_id)

    same_page = post(client, "comments", comment_payload(parent=parent.id))
    elsewhere = post(client, "comments", comment_payload(url=OTHER_ARTICLE, parent=parent.id))
    drain()

    [kept] = rows(app, Comment, client_id=same_page)
    [dropped] = rows(app, Comment, client_id=elsewhere)
    assert kept.parent_id == parent.id
    assert dropped.parent_id is None
    assert dropped.thread_id is None
    assert dropped.page_id != parent.page_id
    [other_page] = rows(app, Page, id=dropped.page_id)
    assert other_page.url == OTHER_ARTICLE


# -- idempotency and batching ------------------------------------------------------

def test_same_payload_twice_in_one_batch_is_one_row(app, site, drain):
    payload = queued_report(site.id)
    assert app.broker.submit(payload) is True
    assert app.broker.submit(payload) is False  # the Lua dedup
    app.broker.redis.delete(submission_key(payload["site_id"], payload["client_id"]))
    assert app.broker.submit(payload) is True  # dedup bypassed: two copies queued
    assert app.broker.inbox_length() == 2

    drain()

    assert [r.client_id for r in rows(app, TypoReport)] == [payload["client_id"]]
    assert app.broker.inbox_length() == 0


def test_replay_after_persisting_does_not_duplicate_or_reset(app, client, site, drain):
    payload = report_payload()
    post(client, "reports", payload)
    drain()
    [first] = rows(app, TypoReport)
    with app.app_context():
        db.session.get(TypoReport, first.id).status = "rejected"
        db.session.commit()

    app.broker.redis.delete(submission_key(site.id, payload["client_id"]))
    post(client, "reports", payload)
    assert app.broker.inbox_length() == 1
    drain()

    [again] = rows(app, TypoReport)
    assert again.id == first.id
    assert again.status == "rejected"
    assert app.broker.inbox_length() == 0


def test_batch_larger_than_batch_size_is_fully_persisted(make_app, app, site):
    small = make_app(DRAIN_BATCH_SIZE=7, RATELIMIT_ENABLED=False)
    client = small.test_client()
    sent = []
    for i in range(30):
        if i % 2:
            sent.append(post(client, "comments", comment_payload(body=f"comment {i}")))
        else:
            sent.append(post(client, "reports", report_payload(exact=f"word{i}")))
    assert small.broker.inbox_length() == 30

    run_worker(small, burst=True, with_scheduler=False)

    stored = [r.client_id for r in rows(app, TypoReport)] + [c.client_id for c in rows(app, Comment)]
    assert sorted(stored) == sorted(sent)
    assert small.broker.inbox_length() == 0
    assert small.broker.redis.keys(CLAIM_PREFIX + "*") == []


# -- crash recovery ------------------------------------------------------------------

def test_leftover_claim_of_a_dead_job_is_finished_by_its_rerun(app, client, site, drain):
    sent = [post(client, "reports", report_payload()) for _ in range(3)]
    claimed = app.broker.claim("dead-job", 10)  # the worker dies holding these
    assert sorted(p["client_id"] for p in claimed) == sorted(sent)
    assert app.broker.inbox_length() == 0

    drain()  # the drain job queued by the POSTs finds an empty inbox
    assert rows(app, TypoReport) == []

    app.broker.queue.enqueue(drain_inbox, job_id="dead-job")  # RQ re-queues the same id
    drain()

    assert sorted(r.client_id for r in rows(app, TypoReport)) == sorted(sent)
    assert not app.broker.redis.exists(CLAIM_PREFIX + "dead-job")


def test_claim_committed_before_the_crash_is_not_persisted_twice(app, client, site, drain):
    sent = [post(client, "reports", report_payload()) for _ in range(3)]
    comment_id = post(client, "comments", comment_payload())
    claimed = app.broker.claim("dead-job", 10)
    assert len(claimed) == 4
    with app.app_context():
        # The batch was committed, then the worker died before deleting the claim.
        assert persist_batch(claimed[:2]) == []
    assert count(app, TypoReport) + count(app, Comment) == 2

    app.broker.queue.enqueue(drain_inbox, job_id="dead-job")
    drain()

    assert sorted(r.client_id for r in rows(app, TypoReport)) == sorted(sent)
    assert [c.client_id for c in rows(app, Comment)] == [comment_id]
    assert not app.broker.redis.exists(CLAIM_PREFIX + "dead-job")


def test_poison_submission_ends_in_failed_registry_and_the_rest_is_persisted(app, client, site, drain):
    before = post(client, "reports", report_payload())
    poison = queued_report(site_id=987654)  # no such site
    app.broker.redis.rpush(INBOX, json.dumps(poison, ensure_ascii=False))
    after = post(client, "comments", comment_payload())
    assert app.broker.inbox_length() == 3  # one batch

    drain()

    assert [r.client_id for r in rows(app, TypoReport)] == [before]
    assert [c.client_id for c in rows(app, Comment)] == [after]
    assert app.broker.inbox_length() == 0

    fast_forward_retries(app)

    queue = app.broker.queue
    failed_ids = queue.failed_job_registry.get_job_ids()
    assert len(failed_ids) == 1
    job = Job.fetch(failed_ids[0], connection=app.broker.redis)
    assert job.func_name == "moderation.jobs.drain.process_submission"
    assert job.args[0]["client_id"] == poison["client_id"]
    assert "LookupError" in (job.latest_result().exc_string or "")
    assert queue.scheduled_job_registry.get_job_ids() == []
    # The poison never became a row, and nothing was doubled by the retries.
    assert count(app, TypoReport) == 1
    assert count(app, Comment) == 1


def test_submission_queued_while_worker_is_down_is_processed_when_it_starts(app, client, site, drain):
    payload = comment_payload()
    post(client, "comments", payload)
    # No worker running: accepted and queued, but not in the database.
    assert rows(app, Comment) == []
    assert app.broker.depth() >= 1
    assert client.get(f"/api/v1/submissions/{payload['client_id']}", query_string={"site": "test-site"}).json["status"] == "queued"

    drain()

    assert [c.client_id for c in rows(app, Comment)] == [payload["client_id"]]
    assert client.get(f"/api/v1/submissions/{payload['client_id']}", query_string={"site": "test-site"}).json["status"] == "pending"
    assert app.broker.inbox_length() == 0


def test_submission_queued_while_a_drain_is_flagged_is_not_stranded(app, client, site, drain):
    """The race: a drain finds the inbox empty while ingest pushes under a still-set
    request flag. The drain's last look (finish_drain) must request another drain."""
    from moderation.broker import DRAIN_FLAG

    broker = app.broker
    broker.redis.set(DRAIN_FLAG, "1", px=60_000)  # "a drain is already requested"
    payload = comment_payload()
    assert client.post("/api/v1/comments", json=payload).status_code == 202
    assert broker.queue.count == 0  # ingest relied on the flag
    assert broker.finish_drain() == 1  # what a drain job does when its claim comes back empty
    assert broker.redis.exists(DRAIN_FLAG) == 0 and broker.queue.count == 1
    drain()
    with app.app_context():
        assert db.session.execute(
            sa.select(sa.func.count()).select_from(Comment).where(Comment.client_id == payload["client_id"])
        ).scalar_one() == 1


def test_idle_worker_wakes_up_for_maintenance(app):
    from moderation.jobs.worker import build_worker

    worker = build_worker(app)
    assert worker.dequeue_timeout <= app.config["WORKER_MAINTENANCE_INTERVAL"]
