"""`moderation erase EMAIL` and `moderation export EMAIL`, through the CLI, on data the real pipeline stored."""
import json

import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import AuditEntry, Comment, CommentFlag, TypoReport
from moderation.privacy import hash_email

from support.payloads import ARTICLE, comment_payload, new_client_id, report_payload

ANNA = "10.20.0.1"  # the person who asks
BORIS = "10.20.0.2"


def post(client, kind, payload, address):
    response = client.post(f"/api/v1/{kind}", json=payload, environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 202, response.json
    return payload["client_id"]


def comment_id(app, client_id):
    with app.app_context():
        return db.session.execute(sa.select(Comment.id).where(Comment.client_id == client_id)).scalar_one()


def world(app, client, drain, staff):
    """Anna: a published comment (later fixed by a moderator), a pending one, an error report, a flag.
    Boris: a published reply to Anna and his own report."""
    moderator = staff.headers()
    first = post(client, "comments", comment_payload(author="Анна", email="Anna@Mail.example",
                                                     body="Мой секрет: 12 345"), ANNA)
    drain()
    first_id = comment_id(app, first)
    assert client.post(f"/api/v1/moderation/comments/{first_id}/fix", headers=moderator,
                       json={"body": "Мой секрет: 12345"}).status_code == 200
    reply = post(client, "comments", comment_payload(author="Борис", email="boris@mail.example",
                                                     body="Отвечаю Анне", parent=first_id), BORIS)
    post(client, "comments", comment_payload(author="Анна", email="anna@mail.example ", body="Ещё одна мысль"), ANNA)
    post(client, "reports", report_payload(comment="нашла опечатку"), ANNA)
    post(client, "reports", report_payload(exact="запуске", prefix="о ", suffix=""), BORIS)
    drain()
    reply_id = comment_id(app, reply)
    assert client.post(f"/api/v1/moderation/comments/{reply_id}/approve", headers=moderator).status_code == 200
    post(client, f"comments/{reply_id}/flags", {"site": "test-site", "reason": "abuse", "client_id": new_client_id()},
         ANNA)
    drain()
    return first_id, reply_id


def test_export_gives_one_persons_data_as_json(app, client, runner, site, drain, staff):
    first_id, reply_id = world(app, client, drain, staff)

    result = runner.invoke(args=["export", " ANNA@mail.example"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["email"] == "anna@mail.example"
    assert [(c["id"], c["status"], c["body"]) for c in data["comments"]] == [
        (first_id, "approved", "Мой секрет: 12345"), (first_id + 2, "pending", "Ещё одна мысль")]
    assert {c["url"] for c in data["comments"]} == {ARTICLE}
    assert all(c["created_at"] for c in data["comments"])
    linked = data["address_linked"]
    assert [r["comment"] for r in linked["reports"]] == ["нашла опечатку"]  # not Boris's report
    assert [(f["comment"], f["reason"]) for f in linked["flags"]] == [(reply_id, "abuse")]
    assert "Борис" not in result.output and "boris" not in result.output

    narrow = json.loads(runner.invoke(args=["export", "anna@mail.example", "--no-address-linked"]).output)
    assert "address_linked" not in narrow and len(narrow["comments"]) == 2

    unknown = runner.invoke(args=["export", "nobody@mail.example"])
    assert unknown.exit_code == 1 and "no comments with this e-mail address" in unknown.output


def test_erase_anonymizes_keeps_threads_audits_and_is_idempotent(app, client, runner, site, drain, staff):
    first_id, reply_id = world(app, client, drain, staff)

    dry = runner.invoke(args=["erase", "anna@mail.example", "--dry-run"])
    assert dry.exit_code == 0 and "Would erase 2 comment(s), 1 error report(s) and 1 flag(s)" in dry.output
    with app.app_context():
        assert db.session.get(Comment, first_id).email == "Anna@Mail.example"
        assert db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "person.erase")).first() is None

    result = runner.invoke(args=["erase", "anna@mail.example", "--reason", "request #42"])
    assert result.exit_code == 0, result.output
    assert "Erased 2 comment(s)" in result.output
    with app.app_context():
        for row in db.session.execute(sa.select(Comment).where(Comment.author != "Борис")).scalars():
            assert (row.author, row.email, row.reporter_hash, row.body_raw, row.body_hash) == ("", None, None, "", None)
            assert "удалён по просьбе автора" in row.body_html
        published, pending = db.session.get(Comment, first_id), db.session.get(Comment, first_id + 2)
        assert published.status == "approved" and pending.status == "rejected"
        reply = db.session.get(Comment, reply_id)
        assert (reply.author, reply.parent_id, reply.status) == ("Борис", first_id, "approved")
        assert reply.email == "boris@mail.example" and reply.reporter_hash
        reports = {r.comment: r.reporter_hash for r in db.session.execute(sa.select(TypoReport)).scalars()}
        assert reports["нашла опечатку"] is None and all(h for c, h in reports.items() if c != "нашла опечатку")
        assert [f.reporter_hash for f in db.session.execute(sa.select(CommentFlag)).scalars()] == [None]
        # The moderator's fix no longer quotes Anna; the erasure is audited without her e-mail in clear.
        fix = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "comment.fix")).scalar_one()
        assert (fix.before["body"], fix.after["body"]) == ("[erased]", "[erased]")
        entry = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "person.erase")).scalar_one()
        entry_id = entry.id
        assert entry.after["subject"] == hash_email("anna@mail.example")
        assert entry.after["comments"] == [first_id, first_id + 2] and entry.reason == "request #42"
        dump = repr(db.session.execute(sa.text("SELECT * FROM audit_entry")).all())
        assert "anna@mail.example" not in dump.lower() and "12345" not in dump
        everything = repr([db.session.execute(sa.text(f"SELECT * FROM {t}")).all() for t in ("comment", "typo_report")])
        assert "Анна" not in everything and "секрет" not in everything and "anna@" not in everything.lower()
    # Readers see the thread with a tombstone in place of Anna's words.
    listed = client.get("/api/v1/comments", query_string={"site": "test-site", "url": ARTICLE}).json
    [thread] = listed["comments"]
    assert thread["author"] == "" and "удалён" in thread["body_html"]
    assert [r["author"] for r in thread["replies"]] == ["Борис"]

    again = runner.invoke(args=["erase", "Anna@Mail.example"])
    assert again.exit_code == 0 and "Nothing left to erase" in again.output, again.output
    assert f"audit entry #{entry_id}" in again.output
    with app.app_context():
        assert db.session.execute(
            sa.select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.action == "person.erase")
        ).scalar_one() == 1


def test_erase_of_an_unknown_email_says_so_and_fails(app, runner, site):
    result = runner.invoke(args=["erase", "nobody@mail.example"])
    assert result.exit_code == 1
    assert "no comments with this e-mail address (nothing erased)" in result.output


def test_dashboard_erase_author_is_admin_only_confirmed_and_audited(app, client, auth, site, drain, staff):
    first_id, reply_id = world(app, client, drain, staff)
    path = f"/dashboard/comments/{first_id}/erase-author"

    auth.login(role="moderator")
    assert "Erase this author" not in client.get(f"/dashboard/comments/{first_id}").get_data(as_text=True)
    assert client.post(path, data={"csrf_token": auth.csrf("/dashboard/"), "confirm": "yes"}).status_code == 403
    auth.logout()

    admin = auth.create(role="admin")
    auth.login(email=admin)
    assert "Erase this author" in client.get(f"/dashboard/comments/{first_id}").get_data(as_text=True)
    assert client.post(path, data={"confirm": "yes"}).status_code == 400  # no CSRF token
    unconfirmed = client.post(path, data={"csrf_token": auth.csrf("/dashboard/")})
    assert unconfirmed.status_code == 400
    assert "Tick the confirmation" in unconfirmed.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Comment, first_id).author == "Анна"

    done = client.post(path, data={"csrf_token": auth.csrf("/dashboard/"), "confirm": "yes", "reason": "GDPR"})
    assert done.status_code == 302
    with app.app_context():
        assert [c.author for c in db.session.execute(sa.select(Comment).order_by(Comment.id)).scalars()] == [
            "", "Борис", ""]
        entry = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "person.erase")).scalar_one()
        assert (entry.actor_label, entry.reason) == (admin, "GDPR")
        assert entry.after["subject"] == hash_email("anna@mail.example")
    page = client.get(f"/dashboard/comments/{first_id}").get_data(as_text=True)
    assert "Erased 2 comment(s)" in page and "Erase this author" not in page


def test_dashboard_erase_author_also_removes_their_queued_submissions(app, client, auth, site, drain, staff):
    first_id, _ = world(app, client, drain, staff)
    # Not drained yet: Anna's new comment waits in the Redis inbox, Boris's too.
    post(client, "comments", comment_payload(author="Анна", email="anna@mail.example", body="ещё в очереди"), ANNA)
    post(client, "comments", comment_payload(author="Борис", email="boris@mail.example", body="Борис ждёт"), BORIS)
    auth.login(email=auth.create(role="admin"))
    done = client.post(f"/dashboard/comments/{first_id}/erase-author",
                       data={"csrf_token": auth.csrf("/dashboard/"), "confirm": "yes"})
    assert done.status_code == 302
    assert "Removed 1 of their submission(s) still waiting" in client.get(done.location).get_data(as_text=True)
    drain()
    with app.app_context():
        bodies = set(db.session.execute(sa.select(Comment.body_raw)).scalars())
    assert "Борис ждёт" in bodies and "ещё в очереди" not in bodies
