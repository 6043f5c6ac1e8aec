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
