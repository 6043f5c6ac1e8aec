"""Privacy of reader rows: `moderation erase --reader ID`, erasure by e-mail covering readers,
the per-person export listing them, and retention of anonymous readers like address hashes."""
import json
from datetime import timedelta

import sqlalchemy as sa

from moderation.extensions import db
from moderation.jobs.retention import run_retention
from moderation.models import AuditEntry, Comment, Reader
from moderation.models.base import utcnow
from moderation.privacy import hash_email
from moderation.services import readers as reader_service

from support.readers import make_reader, reader_comment


def reader_row(app, reader_id):
    with app.app_context():
        row = db.session.get(Reader, reader_id)
        if row is not None:
            db.session.expunge(row)
        return row


def comment_row(app, comment_id):
    with app.app_context():
        row = db.session.get(Comment, comment_id)
        db.session.expunge(row)
        return row


def test_erase_reader_clears_the_row_and_their_comments(app, runner, site):
    reader = make_reader(app, site.id, name="Анна", email="anna@mail.example", address="10.0.0.1")
    other = make_reader(app, site.id, name="Борис", address="10.0.0.2")
    mine = reader_comment(app, reader, body="Моё мнение", address="10.0.0.1")
    theirs = reader_comment(app, other, body="Чужое мнение", address="10.0.0.2")
    dry = runner.invoke(args=["erase", "--reader", reader.key, "--dry-run"])
    assert dry.exit_code == 0 and "1 comment(s)" in dry.output and "1 reader row(s)" in dry.output, dry.output
    assert reader_row(app, reader.id).display_name == "Анна"
    result = runner.invoke(args=["erase", "--reader", reader.key, "--reason", "ticket 12"])
    assert result.exit_code == 0, result.output
    row = reader_row(app, reader.id)
    assert row.display_name is None and row.email_hash is None and row.address_hash is None
    erased = comment_row(app, mine)
    assert erased.body_raw == "" and erased.author == "" and erased.reporter_hash is None
    assert comment_row(app, theirs).body_raw == "Чужое мнение"
    assert reader_row(app, other.id).display_name == "Борис"
    with app.app_context():
        entry = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "person.erase")).scalar_one()
        assert entry.after["readers"] == [reader.key] and entry.reason == "ticket 12"
        assert "Анна" not in json.dumps(entry.to_dict(), ensure_ascii=False)


def test_erase_reader_keeps_a_ban_in_force(app, runner, site):
    reader = make_reader(app, site.id, name="Тролль")
    with app.app_context():
        from moderation.auth import create_user
        admin, _ = create_user("admin-erase@news.example", "admin")
        db.session.commit()
        reader_service.ban(reader.key, admin, days=30)
    assert runner.invoke(args=["erase", "--reader", reader.key]).exit_code == 0
    assert reader_row(app, reader.id).own_ban_in_force()


def test_erase_reader_usage_and_unknown_reader(app, runner, site):
    assert runner.invoke(args=["erase"]).exit_code != 0
    assert runner.invoke(args=["erase", "a@b.example", "--reader", "anon:x"]).exit_code != 0
    result = runner.invoke(args=["erase", "--reader", "anon:nobody"])
    assert result.exit_code == 1 and "no reader" in result.output


def test_erasure_by_email_covers_reader_rows_and_the_export_lists_them(app, runner, site):
    reader = make_reader(app, site.id, sso_user="4711", name="Анна К.", email="anna@mail.example")
    reader_comment(app, reader, email="anna@mail.example")
    # A reader row known only by the e-mail's hash (an SSO claim, no comment stored with it).
    quiet = make_reader(app, site.id, sso_user="4712", name="Анна тоже", email="Anna@Mail.example")
    exported = runner.invoke(args=["export", "anna@mail.example"])
    assert exported.exit_code == 0, exported.output
    data = json.loads(exported.output)
    assert {r["id"] for r in data["readers"]} == {reader.key, quiet.key}
    assert all("email_hash" not in r and "address_hash" not in r for r in data["readers"])
    result = runner.invoke(args=["erase", "anna@mail.example"])
    assert result.exit_code == 0 and "2 reader row(s)" in result.output, result.output
    for r in (reader, quiet):
        row = reader_row(app, r.id)
        assert row.display_name is None and row.email_hash is None
    with app.app_context():
        assert db.session.execute(sa.select(Reader).where(
            Reader.email_hash == hash_email("anna@mail.example"))).scalar_one_or_none() is None


def retention(app, **kwargs):
    with app.app_context():
        return run_retention(**kwargs)


def test_retention_removes_old_anonymous_readers_like_address_hashes(app, site):
    now = utcnow()
    old_anon = make_reader(app, site.id, name="Старый", address="10.0.0.1", now=now - timedelta(days=200))
    old_banned = make_reader(app, site.id, name="Тролль", address="10.0.0.2", now=now - timedelta(days=200))
    old_sso = make_reader(app, site.id, sso_user="9", name="Подписчик", email="s@mail.example",
                          address="10.0.0.3", now=now - timedelta(days=200))
    fresh = make_reader(app, site.id, name="Новый", address="10.0.0.4")
    old_comment = reader_comment(app, old_anon, created_at=now - timedelta(days=200), status="approved")
    fresh_comment = reader_comment(app, fresh)
    with app.app_context():
        db.session.get(Reader, old_banned.id).banned_until = now + timedelta(days=5)
        db.session.commit()
    dry = retention(app, now=now, dry_run=True)
    assert dry[0]["readers"] == 3
    assert reader_row(app, old_anon.id) is not None
    result = retention(app, now=now)
    assert result[0]["readers"] == 3
    assert reader_row(app, old_anon.id) is None  # the id no longer links that browser's comments
    assert comment_row(app, old_comment).reader_id is None and comment_row(app, old_comment).body_raw
    banned = reader_row(app, old_banned.id)
    assert banned is not None and banned.address_hash is None  # a ban outlives retention, its hashes do not
    sso = reader_row(app, old_sso.id)
    assert sso.display_name == "Подписчик" and sso.email_hash is None and sso.address_hash is None
    kept = reader_row(app, fresh.id)
    assert kept.address_hash is not None and comment_row(app, fresh_comment).reader_id == fresh.id
    assert retention(app, now=now)[0]["readers"] == 0


def test_retention_unlinks_an_active_anonymous_readers_old_rows_like_their_address_hashes(app, site, runner):
    """An anonymous reader still commenting keeps the id, but their rows older than
    retention_days lose it, as they lose the address hash; a signed-in reader's stay linked."""
    from moderation.models import CommentFlag, TypoReport  # noqa: PLC0415

    now = utcnow()
    old = now - timedelta(days=200)
    regular = make_reader(app, site.id, name="Завсегдатай", address="10.0.0.5")  # seen today
    account = make_reader(app, site.id, sso_user="77", name="Подписчик", address="10.0.0.6")
    old_mine = reader_comment(app, regular, body="давнее", created_at=old, status="approved", address="10.0.0.5")
    new_mine = reader_comment(app, regular, body="свежее", status="approved", address="10.0.0.5")
    old_account = reader_comment(app, account, body="давнее подписчика", created_at=old, status="approved",
                                 address="10.0.0.6")
    with app.app_context():
        report = TypoReport(site_id=site.id, page_id=db.session.get(Comment, old_mine).page_id, exact="текст",
                            client_id="retention-report-1", reader_id=regular.id, created_at=old)
        flag = CommentFlag(comment_id=old_account, client_id="retention-flag-1", reason="spam",
                           reader_id=regular.id, created_at=old)
        recent_flag = CommentFlag(comment_id=new_mine, client_id="retention-flag-2", reason="spam",
                                  reader_id=account.id)
        db.session.add_all([report, flag, recent_flag])
        db.session.commit()
        report_id, flag_id, recent_flag_id = report.id, flag.id, recent_flag.id

    dry = runner.invoke(args=["retention", "run", "--dry-run"])
    assert dry.exit_code == 0 and "3 anonymous reader link(s)" in dry.output, dry.output
    assert comment_row(app, old_mine).reader_id == regular.id
    result = runner.invoke(args=["retention", "run"])
    assert result.exit_code == 0 and "3 anonymous reader link(s)" in result.output, result.output

    assert comment_row(app, old_mine).reader_id is None and comment_row(app, old_mine).reporter_hash is None
    assert comment_row(app, new_mine).reader_id == regular.id  # within retention: still theirs
    assert comment_row(app, old_account).reader_id == account.id  # the newsroom's account keeps its rows
    with app.app_context():
        assert db.session.get(TypoReport, report_id).reader_id is None
        assert db.session.get(CommentFlag, flag_id).reader_id is None
        assert db.session.get(CommentFlag, recent_flag_id).reader_id == account.id
        # The reader panel's history now reaches back as far as the address's did.
        assert reader_service.reader_history([regular.id])[regular.id]["approved"] == 1
    assert reader_row(app, regular.id) is not None  # active: the id stays
    assert retention(app, now=now)[0]["reader_links"] == 0


def test_retention_takes_an_old_readers_votes_and_keeps_the_totals(app, site):
    from moderation.models import CommentVote  # noqa: PLC0415

    now = utcnow()
    old_anon = make_reader(app, site.id, name="Старый", address="10.0.0.1", now=now - timedelta(days=200))
    fresh = make_reader(app, site.id, name="Новый", address="10.0.0.4")
    comment_id = reader_comment(app, fresh, status="approved")
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        comment.likes = 2
        db.session.add_all([CommentVote(client_id="vote-old-0001", comment_id=comment_id, reader_id=old_anon.id,
                                        value=1),
                            CommentVote(client_id="vote-new-0001", comment_id=comment_id, reader_id=fresh.id,
                                        value=1)])
        db.session.commit()
    retention(app, now=now)
    with app.app_context():
        assert db.session.execute(sa.select(CommentVote.reader_id)).scalars().all() == [fresh.id]
        assert db.session.get(Comment, comment_id).likes == 2
