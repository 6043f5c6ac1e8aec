"""Retention: a real worker's maintenance schedules the job; old hashes and e-mails go, new ones stay."""
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from moderation.extensions import db
from moderation.jobs.worker import build_worker
from moderation.models import Comment, CommentFlag, Site, TypoReport
from moderation.redis_keys import RETENTION_SCHEDULED as SCHEDULE_KEY

from support.payloads import comment_payload, new_client_id, report_payload

NOW = datetime.now(timezone.utc)


def post(client, kind, payload, address):
    response = client.post(f"/api/v1/{kind}", json=payload, environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 202, response.json
    return payload["client_id"]


def backdate(app, model, client_id, days):
    with app.app_context():
        db.session.execute(sa.update(model).where(model.client_id == client_id)
                           .values(created_at=NOW - timedelta(days=days)))
        db.session.commit()


def row(app, model, client_id):
    with app.app_context():
        item = db.session.execute(sa.select(model).where(model.client_id == client_id)).scalar_one()
        return {"email": getattr(item, "email", None), "hash": item.reporter_hash,
                "body": getattr(item, "body_raw", None)}


def seed(app, client, drain, site_key, ages):
    """One comment (with e-mail), one report and one flag per age in days, backdated."""
    made = {}
    for n, days in enumerate(ages):
        address = f"10.{len(site_key)}.{n}.1"
        comment = post(client, "comments", comment_payload(site=site_key, email=f"r{n}@mail.example",
                                                           body=f"текст {n}"), address)
        report = post(client, "reports", report_payload(site=site_key), address)
        drain()
        with app.app_context():
            comment_id = db.session.execute(sa.select(Comment.id).where(Comment.client_id == comment)).scalar_one()
            db.session.get(Comment, comment_id).status = "approved"
            db.session.commit()
        flag = {"site": site_key, "reason": "spam", "client_id": new_client_id()}
        post(client, f"comments/{comment_id}/flags", flag, f"10.99.{n}.9")
        drain()
        for model, client_id in ((Comment, comment), (TypoReport, report), (CommentFlag, flag["client_id"])):
            backdate(app, model, client_id, days)
        made[days] = {Comment: comment, TypoReport: report, CommentFlag: flag["client_id"]}
    return made


def test_worker_maintenance_runs_retention_per_site(app, client, site, post_site, drain):
    with app.app_context():
        db.session.get(Site, post_site.id).settings = {"retention_days": 7, "flag_threshold": 3}
        db.session.commit()
    default_site = seed(app, client, drain, "test-site", ages=(100, 30))  # default: 90 days
    short_site = seed(app, client, drain, "post-site", ages=(10, 3))  # 7 days
    # The burst workers above ran maintenance once each: a first pass never schedules retention.
    assert not app.broker.redis.exists(SCHEDULE_KEY)

    worker = build_worker(app)
    worker.last_cleaned_at = NOW  # a long-running worker's later maintenance pass
    worker.run_maintenance_tasks()
    worker.run_maintenance_tasks()  # at most one job per interval, however many passes or workers
    assert [job.description for job in app.broker.queue.get_jobs()] == ["privacy retention"]
    assert worker.work(burst=True, with_scheduler=False)

    for made, old, new in ((default_site, 100, 30), (short_site, 10, 3)):
        assert row(app, Comment, made[old][Comment]) == {"email": None, "hash": None, "body": "текст 0"}
        assert row(app, TypoReport, made[old][TypoReport])["hash"] is None
        assert row(app, CommentFlag, made[old][CommentFlag])["hash"] is None
        kept = row(app, Comment, made[new][Comment])
        assert kept["email"] == "r1@mail.example" and len(kept["hash"]) == 64
        assert len(row(app, TypoReport, made[new][TypoReport])["hash"]) == 64
        assert len(row(app, CommentFlag, made[new][CommentFlag])["hash"]) == 64


def test_retention_commands(app, client, runner, site, drain):
    made = seed(app, client, drain, "test-site", ages=(20,))
    assert runner.invoke(args=["retention", "run"]).output.startswith("test-site: older than 90 days, cleared 0")

    result = runner.invoke(args=["retention", "set", "test-site", "14"])
    assert result.exit_code == 0, result.output
    dry = runner.invoke(args=["retention", "run", "--dry-run"])
    assert dry.exit_code == 0 and "would clear 1 comment(s), 1 report(s), 1 flag(s)" in dry.output, dry.output
    assert row(app, Comment, made[20][Comment])["email"] == "r0@mail.example"

    result = runner.invoke(args=["retention", "run", "--site", "test-site"])
    assert result.exit_code == 0 and "cleared 1 comment(s), 1 report(s), 1 flag(s)" in result.output, result.output
    assert row(app, Comment, made[20][Comment])["email"] is None
    assert runner.invoke(args=["retention", "run"]).output.startswith("test-site: older than 14 days, cleared 0")

    unknown = runner.invoke(args=["retention", "run", "--site", "nope"])
    assert unknown.exit_code == 1 and "no site with key 'nope'" in unknown.output
    assert runner.invoke(args=["retention", "set", "test-site", "0"]).exit_code == 2  # 1..3650 days
