"""`moderation erase` also removes the reader's submissions still waiting in Redis (the inbox,
a drain job's claim list, quarantined jobs in the queue and the failed registry), with the
real Redis and real RQ; another reader's submissions stay and are stored by the next drain."""
import json
import threading

import sqlalchemy as sa
from rq.job import Job
from rq.registry import FailedJobRegistry

from moderation.broker import CLAIM_PREFIX, INBOX
from moderation.extensions import db
from moderation.jobs.drain import _quarantine, process_submission
from moderation.jobs.persist import persist_batch
from moderation.models import Comment, TypoReport
from moderation.models.notifications import ReaderSubscription
from moderation.services import erasure

from support.payloads import comment_payload, new_client_id, report_payload

ANNA = "10.30.0.1"
BORIS = "10.30.0.2"


def post(client, kind, payload, address):
    response = client.post(f"/api/v1/{kind}", json=payload, environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 202, response.json
    return payload["client_id"]


def take(app, job_id):
    """Move everything in the inbox into `job_id`'s claim list (what a drain job does first)."""
    with app.app_context():
        return app.broker.claim(job_id, 1000)


def comments(app):
    with app.app_context():
        return {(c.author, c.body_raw) for c in db.session.execute(sa.select(Comment)).scalars()}


def test_erase_removes_queued_claimed_and_quarantined_submissions(app, client, runner, site, drain):
    broker = app.broker
    # A poison submission of Anna's, failed for good: its job sits in the failed registry.
    post(client, "comments", comment_payload(author="Анна", email="anna@mail.example", body="в карантине"), ANNA)
    [poison] = take(app, "setup")
    broker.release("setup")
    poison.update(site_id=10**6, client_id=new_client_id())  # no such site: storing it raises
    broker.queue.enqueue(process_submission, poison, failure_ttl=365 * 24 * 3600)
    drain()
    failed = FailedJobRegistry(queue=broker.queue)
    assert len(failed.get_job_ids()) == 1

    # A drain job that claimed a batch and died before storing it (RQ will re-run it).
    post(client, "comments", comment_payload(author="Анна", email="Anna@Mail.example ", body="в захвате"), ANNA)
    post(client, "reports", report_payload(comment="Анна нашла"), ANNA)  # linked by her address
    post(client, "comments", comment_payload(author="Борис", email="boris@mail.example", body="Борис в захвате"),
         BORIS)
    post(client, "reports", report_payload(exact="запуске", prefix="о ", suffix="", comment="Борис нашёл"), BORIS)
    with app.app_context():
        job = broker.request_drain()
    assert len(take(app, job.id)) == 4
    # Quarantined but not run yet: one of each reader's, in the queue.
    post(client, "comments", comment_payload(author="Анна", email="anna@mail.example", body="в очереди задач"),
         ANNA)
    post(client, "comments", comment_payload(author="Борис", body="Борис в очереди задач"), BORIS)
    for payload in take(app, "setup"):
        _quarantine(broker, payload)
    broker.release("setup")
    # Not drained yet: in the inbox.
    post(client, "comments", comment_payload(author="Анна", email="anna@mail.example", body="во входящих"), ANNA)
    post(client, "comments", comment_payload(author="Борис", body="Борис во входящих"), BORIS)
    # The dashboard's item claims share the prefix and are strings: left alone.
    broker.redis.set(CLAIM_PREFIX + "comment:1", "moderator 7")

    dry = runner.invoke(args=["erase", "anna@mail.example", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would remove 5 queued submission(s)" in dry.output
    assert broker.redis.llen(INBOX) == 2 and len(failed.get_job_ids()) == 1

    result = runner.invoke(args=["erase", "anna@mail.example"])
    assert result.exit_code == 0, result.output
    assert "removed 5 queued submission(s)" in result.output

    everything = b" ".join(raw for key in (INBOX, CLAIM_PREFIX + job.id) for raw in broker.redis.lrange(key, 0, -1))
    assert "Анна".encode() not in everything and "anna@".encode() not in everything.lower()
    assert [json.loads(raw)["body"] for raw in broker.redis.lrange(INBOX, 0, -1)] == ["Борис во входящих"]
    assert broker.redis.llen(CLAIM_PREFIX + job.id) == 2
    assert failed.get_job_ids() == []
    assert broker.redis.get(CLAIM_PREFIX + "comment:1") == b"moderator 7"
    jobs = [j for j in Job.fetch_many(broker.queue.get_job_ids(), connection=broker.redis)
            if j is not None and j.func_name.endswith("process_submission")]
    assert [j.args[0]["author"] for j in jobs] == ["Борис"]

    drain()
    assert comments(app) == {("Борис", "Борис в захвате"), ("Борис", "Борис в очереди задач"),
                             ("Борис", "Борис во входящих")}
    with app.app_context():
        assert [r.comment for r in db.session.execute(sa.select(TypoReport)).scalars()] == ["Борис нашёл"]


def test_erase_with_nothing_stored_but_something_queued_erases_it(app, client, runner, site, drain):
    post(client, "comments", comment_payload(author="Анна", email="anna@mail.example", body="только в очереди"),
         ANNA)
    result = runner.invoke(args=["erase", "anna@mail.example"])
    assert result.exit_code == 0, result.output
    assert "removed 1 queued submission(s)" in result.output
    drain()
    assert comments(app) == set()
    again = runner.invoke(args=["erase", "anna@mail.example"])
    assert again.exit_code == 0 and "Nothing left to erase" in again.output, again.output


def test_erase_deletes_follow_up_subscriptions(app, client, runner, site, drain):
    post(client, "comments", comment_payload(author="Анна", email="anna@mail.example",
                                             notify_email="Anna@Mail.example"), ANNA)
    post(client, "reports", report_payload(notify_email="anna@mail.example"), "10.30.0.9")
    post(client, "reports", report_payload(exact="запуске", prefix="о ", suffix="",
                                           notify_email="boris@mail.example"), BORIS)
    drain()
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(ReaderSubscription)).scalar_one() == 3
    result = runner.invoke(args=["erase", "anna@mail.example"])
    assert result.exit_code == 0, result.output
    assert "2 follow-up subscription(s)" in result.output
    with app.app_context():
        assert [s.email for s in db.session.execute(sa.select(ReaderSubscription)).scalars()] == [
            "boris@mail.example"]


def test_erase_waits_for_a_worker_storing_her_claim_then_erases_the_stored_row(app, client, site):
    """A drain job that is running and holds her submission in memory: erase must not report it
    gone while the worker can still store it; it waits for the claim's release, and the row the
    worker stored is then erased from the database."""
    broker = app.broker
    post(client, "comments", comment_payload(author="Анна", email="anna@mail.example", body="в работе"), ANNA)
    with app.app_context():
        job = broker.request_drain()
        job.set_status("started")
    batch = take(app, job.id)
    result = {}

    def run_erase():
        with app.app_context():
            result["queued"] = erasure.erase_queued("anna@mail.example", wait=30)

    eraser = threading.Thread(target=run_erase)
    eraser.start()
    eraser.join(0.5)
    assert eraser.is_alive()  # waiting on the running job, not removing under its feet
    with app.app_context():  # the "worker" stores its batch, then releases the claim
        persist_batch(batch)
        broker.release(job.id)
    eraser.join(30)
    assert not eraser.is_alive()
    assert result["queued"].busy == 0 and result["queued"].total == 0
    with app.app_context():
        found = erasure.find("anna@mail.example")
        assert [c.body_raw for c in found.comments] == ["в работе"]  # now the database erasure gets it
