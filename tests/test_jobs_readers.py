"""The worker stores each submission with its reader, and screens by reader (docs/identity.md).

Through the real API and RQ worker: readers are resolved and stored, a banned reader's comment
is rejected with "banned until …", the moderators' premoderate/trust flags apply, and two
readers behind one address (carrier NAT) keep separate histories and flag separately.
"""
import time

import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.jobs import persist as persist_module
from moderation.jobs.persist import persist_batch
from moderation.models import Comment, CommentFlag, Reader, Site, TypoReport
from moderation.models.readers import BANNED_UNTIL_LIFTED

from support.payloads import ARTICLE, comment_payload, new_client_id, report_payload
from support.sso import sso_token
from support.database import recorded_statements

NAT = "10.20.0.1"  # one carrier address, many readers


class Browser:
    """A reader's browser: keeps the anonymous id it was issued, like the widget's localStorage."""

    def __init__(self, client, address=NAT, token=None):
        self.client, self.address, self.token, self.sso = client, address, token, None

    def post(self, path, payload):
        if self.sso:
            payload["sso"] = self.sso
        elif self.token:
            payload["reader"] = self.token
        response = self.client.post(path, json=payload, environ_base={"REMOTE_ADDR": self.address})
        assert response.status_code == 202, response.json
        self.token = self.token or response.json.get("reader")
        return payload["client_id"]

    def comment(self, site="test-site", **fields):
        return self.post("/api/v1/comments", comment_payload(site=site, **fields))

    def report(self, **fields):
        return self.post("/api/v1/reports", report_payload(**fields))

    def flag(self, comment_id, site="test-site"):
        return self.post(f"/api/v1/comments/{comment_id}/flags",
                         {"site": site, "reason": "abuse", "client_id": new_client_id()})


def stored(app, model, client_id):
    with app.app_context():
        row = db.session.execute(sa.select(model).where(model.client_id == client_id)).scalar_one()
        reader = db.session.get(Reader, row.reader_id) if row.reader_id else None
        return row.status, list(getattr(row, "spam_reasons", None) or []), reader and reader.to_dict()


def reader_of(app, client_id):
    with app.app_context():
        return db.session.execute(sa.select(Comment.reader_id).where(Comment.client_id == client_id)).scalar_one()


def set_reader(app, reader_id, **values):
    with app.app_context():
        reader = db.session.get(Reader, reader_id)
        for name, value in values.items():
            setattr(reader, name, value)
        db.session.commit()


@pytest.fixture
def relaxed(app, site):
    """Tests of history send several comments a minute: not about rate limits or velocity."""
    app.config["RATELIMIT_COMMENTS"] = "1000/minute"
    with app.app_context():
        db.session.get(Site, site.id).settings = {"velocity_count": 100}
        db.session.commit()


@pytest.fixture
def approve(app, client, staff):
    headers = staff.headers("moderator")

    def run(client_id):
        with app.app_context():
            comment_id = db.session.execute(sa.select(Comment.id).where(Comment.client_id == client_id)).scalar_one()
        assert client.post(f"/api/v1/moderation/comments/{comment_id}/approve", headers=headers).status_code == 200
        return comment_id

    return run


def test_each_submission_is_stored_with_its_reader(app, client, site, secret, drain):
    anonymous = Browser(client)
    first = anonymous.comment(author="Гость", email="guest@mail.example")
    second = anonymous.report()
    signed_in = Browser(client)
    signed_in.sso = sso_token(secret)
    third = signed_in.comment(author="typed, ignored")
    drain()
    _, _, reader = stored(app, Comment, first)
    assert reader["kind"] == "anonymous" and reader["id"].startswith("anon:") and reader["name"] == "Гость"
    assert stored(app, TypoReport, second)[2]["id"] == reader["id"]  # the same browser, the same reader
    _, _, signed = stored(app, Comment, third)
    assert (signed["id"], signed["kind"], signed["name"]) == (f"sso:{site.id}:u-42", "sso", "Анна К.")
    with app.app_context():
        comment = db.session.execute(sa.select(Comment).where(Comment.client_id == third)).scalar_one()
        assert comment.author == "Анна К."
        row = db.session.execute(sa.select(Reader).where(Reader.key == reader["id"])).scalar_one()
        assert row.email_hash and row.address_hash  # hashes, for the ban's reach, never the clear values
        assert "guest" not in row.email_hash


def test_a_banned_readers_comment_is_rejected_and_their_neighbour_is_not(app, client, site, secret, drain):
    troll = Browser(client)
    first = troll.comment(body="первый")
    drain()
    troll_id = reader_of(app, first)
    set_reader(app, troll_id, banned_until=BANNED_UNTIL_LIFTED, ban_reason="insults")
    neighbour = Browser(client)  # signed in, same carrier address
    neighbour.sso = sso_token(secret)
    later, other = troll.comment(body="опять я"), neighbour.comment(body="Хороший текст про трамвай")
    drain()
    status, reasons, _ = stored(app, Comment, later)
    assert status == "rejected" and reasons == ["banned until lifted: insults"]
    response = client.get(f"/api/v1/submissions/{later}", query_string={"site": "test-site"})
    assert response.json == {"id": later, "status": "rejected"}  # "not published", nothing more
    status, reasons, _ = stored(app, Comment, other)
    assert status == "pending" and not any("banned" in r for r in reasons)


def test_a_ban_for_days_says_until_when(app, client, site, drain):
    from datetime import datetime, timezone

    troll = Browser(client, address="10.20.9.9")
    troll_id = reader_of(app, (troll.comment(), drain())[0])
    until = datetime(2031, 5, 6, 7, 8, tzinfo=timezone.utc)
    set_reader(app, troll_id, banned_until=until)
    later = troll.comment(body="снова")
    drain()
    assert stored(app, Comment, later)[:2] == ("rejected", ["banned until 2031-05-06 07:08 UTC"])


def test_an_always_premoderated_reader_is_held_even_on_a_post_moderated_site(app, client, post_site, drain):
    reader = Browser(client)
    reader_id = reader_of(app, (reader.comment(site="post-site"), drain())[0])
    set_reader(app, reader_id, premoderate=True)
    later = reader.comment(site="post-site", body="ещё одно мнение")
    drain()
    assert stored(app, Comment, later)[:2] == ("pending", ["reader always pre-moderated (moderator's decision)"])


def test_a_trusted_reader_skips_pre_moderation(app, client, site, drain):
    reader = Browser(client)
    reader_id = reader_of(app, (reader.comment(), drain())[0])
    set_reader(app, reader_id, trusted=True)
    later = reader.comment(body="второе мнение")
    drain()
    assert stored(app, Comment, later)[:2] == ("approved", ["trusted reader (moderator's decision)"])


def test_two_readers_behind_one_address_keep_separate_histories(app, client, site, drain, approve, staff, relaxed):
    regular, newcomer = Browser(client), Browser(client)
    for n in range(3):
        sent = regular.comment(body=f"мнение {n}")
        drain()
        approve(sent)
    rejected = newcomer.comment(body="не то")
    drain()
    with app.app_context():
        comment_id = db.session.execute(sa.select(Comment.id).where(Comment.client_id == rejected)).scalar_one()
    response = client.post(f"/api/v1/moderation/comments/{comment_id}/reject", headers=staff.headers("moderator"))
    assert response.status_code == 200
    mine, theirs = regular.comment(body="ещё мнение"), newcomer.comment(body="моё первое нормальное")
    drain()
    # The regular's trust is theirs: the neighbour's rejection does not take it away ...
    assert stored(app, Comment, mine)[:2] == ("approved", ["trusted commenter (3 approved)"])
    # ... and the neighbour does not inherit the regular's approvals.
    assert stored(app, Comment, theirs)[0] == "pending"
    # Before readers both were one address hash: "3 approved, 1 rejected", trusted by no one.


def test_a_fresh_anonymous_id_earns_nothing_from_its_own_history_alone(app, client, site, drain, approve, relaxed):
    """An anonymous id's approvals count only as far as its address or e-mail history agrees:
    the same id from a new address, without the e-mail, is a reader without history."""
    reader = Browser(client, address="10.20.1.1")
    for n in range(3):
        sent = reader.comment(body=f"мнение {n}")
        drain()
        approve(sent)
    moved = Browser(client, address="10.20.1.2", token=reader.token)
    later = moved.comment(body="с другого адреса")
    drain()
    assert stored(app, Comment, later)[0] == "pending"


def test_flags_are_once_per_reader_not_per_address(app, client, site, drain, approve):
    with app.app_context():
        db.session.get(Site, site.id).flag_threshold = 2
        db.session.commit()
    comment_id = approve((Browser(client, address="10.20.5.5").comment(), drain())[0])
    first, second = Browser(client), Browser(client)
    first.flag(comment_id)
    first.flag(comment_id)  # the same reader again: one flag
    drain()
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(CommentFlag)).scalar_one() == 1
        assert db.session.get(Comment, comment_id).status == "approved"
    second.flag(comment_id)  # another reader on the same address counts
    drain()
    with app.app_context():
        flags = db.session.execute(sa.select(CommentFlag)).scalars().all()
        assert len(flags) == 2 and len({f.reader_id for f in flags}) == 2 and None not in {f.reader_id for f in flags}
        assert db.session.get(Comment, comment_id).status == "flagged"


def test_reader_lookups_do_not_grow_with_the_batch(app, site, monkeypatch):
    """Readers are resolved and screened per batch (a few statements), never per submission."""
    app.config["DRAIN_TRANSACTION_BUDGET"] = 3600
    monkeypatch.setitem(persist_module._rows_per_transaction, "n", 10_000)

    def batch(size):
        keys = [f"anon:batch{n % 7}-{size}" for n in range(size)]
        return [dict(comment_payload(body=f"текст номер {n}", email=f"r{n % 5}@mail.example"), type="comment",
                     site_id=site.id, reporter_hash=f"{n % 3:064x}", reporter_hash_prev=None,
                     received_at=time.time(), identity={"sso": None, "anon_key": keys[n]}, url=ARTICLE)
                for n in range(size)]

    counts = []
    with app.app_context():
        for size in (10, 200):
            with recorded_statements(app) as seen:
                assert persist_batch(batch(size)) == []
            counts.append(len(seen))
        assert db.session.execute(sa.select(sa.func.count()).select_from(Reader)).scalar_one() == 14
        assert None not in set(db.session.execute(sa.select(Comment.reader_id)).scalars())
    small, large = counts
    assert large <= small + 3, counts  # per batch, not per submission (SQLite may split a big INSERT)
