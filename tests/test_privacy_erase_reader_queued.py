"""`moderation erase --reader ID` also removes that reader's submissions still waiting in Redis
(the inbox, a drain job's claim list, quarantined jobs), matched by the identity the reader API
queued with them; reports sent from their addresses are linked as for an e-mail. Real Redis,
real RQ worker; the drain is held simply by not running the worker until the test says so."""
import json

import pytest
import sqlalchemy as sa
from rq.job import Job

from moderation.broker import CLAIM_PREFIX, INBOX
from moderation.extensions import db
from moderation.identity import anonymous, sso
from moderation.jobs.drain import _quarantine
from moderation.models import AuditEntry, Comment, Reader, TypoReport

from support.payloads import comment_payload, report_payload
from support.sso import sso_token

ANNA = "10.40.0.1"
BORIS = "10.40.0.2"


@pytest.fixture
def secret(app, secret):
    """conftest's secret, with the reader rate limits off (many submissions from one address)."""
    app.config["RATELIMIT_ENABLED"] = False
    return secret


def post(client, kind, payload, address, **credentials):
    response = client.post(f"/api/v1/{kind}", json=dict(payload, **credentials), environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 202, response.json
    return response.json


def stored_comments(app):
    with app.app_context():
        return sorted(c.body_raw for c in db.session.execute(sa.select(Comment)).scalars())


def stored_reports(app):
    with app.app_context():
        return sorted(r.comment or "" for r in db.session.execute(sa.select(TypoReport)).scalars())


def test_erase_reader_removes_their_queued_claimed_and_quarantined_submissions(app, client, runner, site,
                                                                                 secret, drain):
    broker = app.broker
    anna = {"sso": sso_token(secret, user={"id": "u-1", "username": "Анна", "email": "anna@mail.example"})}
    boris = {"sso": sso_token(secret, user={"id": "u-2", "username": "Борис"})}
    anna_key = sso.reader_key(site.id, "u-1")
    # Stored: one comment of each (Anna's address hash links her address's reports).
    post(client, "comments", comment_payload(body="Анна сохранена"), ANNA, **anna)
    post(client, "comments", comment_payload(body="Борис сохранён"), BORIS, **boris)
    drain()
    assert stored_comments(app) == ["Анна сохранена", "Борис сохранён"]

    # A drain job that claimed a batch and died before storing it (RQ will re-run it).
    post(client, "comments", comment_payload(body="Анна в захвате"), BORIS, **anna)  # another network: by identity
    post(client, "comments", comment_payload(body="Борис в захвате"), BORIS, **boris)
    with app.app_context():
        job = broker.request_drain()
        assert len(broker.claim(job.id, 1000)) == 2
    # Quarantined but not run yet.
    post(client, "comments", comment_payload(body="Анна в очереди задач"), ANNA, **anna)
    post(client, "comments", comment_payload(body="Борис в очереди задач"), BORIS, **boris)
    with app.app_context():
        for payload in broker.claim("setup", 1000):
            _quarantine(broker, payload)
        broker.release("setup")
    # Not drained yet: in the inbox. Her e-mail-less report, an anonymous report from her address
    # (linked, as in the database), Boris's report and comment.
    post(client, "reports", report_payload(comment="Анна нашла"), BORIS, **anna)
    post(client, "reports", report_payload(exact="запуске", prefix="о ", suffix="", comment="с её адреса"), ANNA)
    post(client, "reports", report_payload(exact="линия", prefix="", suffix="", comment="Борис нашёл"), BORIS,
         **boris)
    post(client, "comments", comment_payload(body="Борис во входящих"), BORIS, **boris)
    assert broker.redis.llen(INBOX) == 4

    dry = runner.invoke(args=["erase", "--reader", anna_key, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would remove 4 queued submission(s)" in dry.output and "1 comment(s)" in dry.output
    assert broker.redis.llen(INBOX) == 4

    result = runner.invoke(args=["erase", "--reader", anna_key, "--reason", "ticket 7"])
    assert result.exit_code == 0, result.output
    assert "removed 4 queued submission(s)" in result.output

    left = [json.loads(raw) for key in (INBOX, CLAIM_PREFIX + job.id) for raw in broker.redis.lrange(key, 0, -1)]
    assert sorted(p.get("body") or p.get("comment") for p in left) == ["Борис в захвате", "Борис во входящих",
                                                                       "Борис нашёл"]
    jobs = [j for j in Job.fetch_many(broker.queue.get_job_ids(), connection=broker.redis)
            if j is not None and j.func_name.endswith("process_submission")]
    assert [j.args[0]["body"] for j in jobs] == ["Борис в очереди задач"]

    drain()  # the held submissions of Boris are stored, nothing of Anna's arrives
    assert stored_comments(app) == ["", "Борис в захвате", "Борис в очереди задач", "Борис во входящих",
                                    "Борис сохранён"]
    assert stored_reports(app) == ["Борис нашёл"]
    with app.app_context():
        entry = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "person.erase")).scalar_one()
        assert entry.after["queued"] == 4 and entry.after["readers"] == [anna_key]
        assert db.session.execute(sa.select(Reader).where(Reader.key == anna_key)).scalar_one().display_name is None


def test_a_reader_with_nothing_stored_yet_is_erased_from_the_inbox(app, client, runner, site, drain):
    app.config["RATELIMIT_ENABLED"] = False
    answer = post(client, "comments", comment_payload(body="первый и в очереди"), ANNA)
    token = answer["reader"]
    post(client, "comments", comment_payload(body="второй и в очереди"), ANNA, reader=token)
    post(client, "comments", comment_payload(body="чужой"), BORIS)
    with app.app_context():
        key = anonymous.verify(site.id, token)
    assert key and key.startswith("anon:")
    result = runner.invoke(args=["erase", "--reader", key])
    assert result.exit_code == 0, result.output
    assert "removed 2 queued submission(s)" in result.output
    drain()
    assert stored_comments(app) == ["чужой"]
    with app.app_context():
        entry = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "person.erase")).scalar_one()
        assert entry.after["readers"] == [key] and entry.after["queued"] == 2 and entry.after["comments"] == []
    # Nothing queued and no row: an unknown reader, as before.
    again = runner.invoke(args=["erase", "--reader", "anon:nobody"])
    assert again.exit_code == 1 and "no reader" in again.output
