"""Readers: signed anonymous ids, the reader of a submission, audited bans and their reach."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from moderation.auth import create_user
from moderation.extensions import db
from moderation.identity import anonymous
from moderation.identity.sso import SsoIdentity, reader_key
from moderation.models import AuditEntry, Comment, Page, Reader, Site
from moderation.models.base import as_utc, utcnow
from moderation.models.readers import BANNED_UNTIL_LIFTED
from moderation.models.sites import url_hash
from moderation.privacy import hash_email
from moderation.services import readers as service
from moderation.services.common import Invalid, NotFound, PermissionDenied

from support.payloads import ARTICLE


ADDRESS = "a" * 64


@pytest.fixture
def ctx(app, site):
    with app.app_context():
        yield


def user(role="editor", sites=()):
    row, _ = create_user(f"{role}-{len(sites)}-{utcnow().timestamp()}@news.example", role)
    row.sites = [db.session.get(Site, sid) for sid in sites]
    db.session.commit()
    return row


def anon(site_id, email=None, address=None, name="Гость"):
    key, _ = anonymous.issue(site_id)
    reader = service.resolve_reader(site_id, anon_key=key, name=name, address_hash=address,
                                    email_hash=hash_email(email) if email else None)
    db.session.commit()
    return reader


def other_site():
    row = Site(key="other-site", name="Other", allowed_origins=[])
    db.session.add(row)
    db.session.commit()
    return row


def audit_rows():
    return db.session.execute(sa.select(AuditEntry).order_by(AuditEntry.id)).scalars().all()


# -- anonymous ids -------------------------------------------------------------------------

def test_anonymous_ids_are_signed_and_bound_to_their_site(app, ctx, site):
    key, token = anonymous.issue(site.id)
    assert key.startswith("anon:") and anonymous.verify(site.id, token) == key
    assert anonymous.issue(site.id)[0] != key  # random, not derived from anything guessable
    random = key.split(":", 1)[1]
    value, signature = token.rsplit(".", 1)
    another = random[:-1] + ("B" if random[-1] == "A" else "A")
    forged = [
        f"{site.id}:{another}.{signature}",              # another id, the old signature
        f"{value}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}",  # a garbled signature
        f"{site.id}:{random}",                           # no signature at all
        token.replace(f"{site.id}:", f"{site.id + 1}:", 1),  # moved to another site
        "", "x" * 500, None, 42, "ünïcode.ß",
    ]
    for bad in forged:
        assert anonymous.verify(site.id, bad) is None, bad
    assert anonymous.verify(site.id + 1, token) is None  # issued for another site
    app.config["SECRET_KEY"] = "another-secret-key"
    assert anonymous.verify(site.id, token) is None  # only we can sign them


# -- resolving the reader of a submission -----------------------------------------------

def test_an_sso_reader_is_one_reader_across_addresses_and_names(ctx, site):
    who = SsoIdentity(reader_key(site.id, "u-1"), "u-1", "Анна", "anna@reader.example")
    first = service.resolve_reader(site.id, sso=who, name="ignored", address_hash="a" * 64)
    db.session.commit()
    assert (first.key, first.kind, first.display_name) == (f"sso:{site.id}:u-1", "sso", "Анна")
    assert first.email_hash == hash_email("Anna@Reader.example")
    # From the queue (a dict), another address, no e-mail typed: the same reader.
    again = service.resolve_reader(site.id, sso=who.as_payload(), address_hash="b" * 64,
                                   now=utcnow() + timedelta(minutes=5))
    db.session.commit()
    assert again.id == first.id and again.address_hash == "b" * 64
    assert again.email_hash == hash_email("anna@reader.example")
    assert as_utc(again.last_seen) > as_utc(again.first_seen)
    assert db.session.execute(sa.select(sa.func.count()).select_from(Reader)).scalar_one() == 1


def test_an_anonymous_reader_keeps_the_last_name_and_email(ctx, site):
    key, _ = anonymous.issue(site.id)
    service.resolve_reader(site.id, anon_key=key, name="Гость", email_hash=hash_email("g@x.example"))
    reader = service.resolve_reader(site.id, anon_key=key, name="Гость 2")
    assert (reader.kind, reader.display_name, reader.email_hash) == ("anonymous", "Гость 2", hash_email("g@x.example"))
    assert service.resolve_reader(site.id) is None  # no identity at all: no reader
    other = other_site()
    with pytest.raises(ValueError):
        service.resolve_reader(other.id, anon_key=key)


def test_two_workers_storing_one_new_reader_make_one_row(ctx, site, monkeypatch):
    key, _ = anonymous.issue(site.id)
    first = service.resolve_reader(site.id, anon_key=key, name="Гость")
    db.session.commit()
    real_find = service._find
    calls = []

    def find_late(k):  # the first lookup ran before the other worker's insert was visible
        calls.append(k)
        return None if len(calls) == 1 else real_find(k)

    monkeypatch.setattr(service, "_find", find_late)
    again = service.resolve_reader(site.id, anon_key=key, name="Гость 2")
    db.session.commit()
    assert again.id == first.id and again.display_name == "Гость 2" and len(calls) == 2
    assert db.session.execute(sa.select(sa.func.count()).select_from(Reader)).scalar_one() == 1


def test_history_counts_decided_comments_per_reader_not_per_address(ctx, site):
    page = Page(site_id=site.id, url=ARTICLE, url_hash=url_hash(ARTICLE))
    db.session.add(page)
    db.session.flush()
    anna, boris = anon(site.id, address=ADDRESS), anon(site.id, address=ADDRESS)  # one carrier NAT
    for n, (reader, status) in enumerate([(anna, "approved"), (anna, "approved"), (anna, "pending"),
                                          (boris, "rejected"), (boris, "spam")]):
        db.session.add(Comment(client_id=f"c-{n}", site_id=site.id, page_id=page.id, author="x", body_raw="x",
                               body_html="<p>x</p>", status=status, reporter_hash=ADDRESS, reader_id=reader.id))
    db.session.commit()
    assert service.reader_history([anna.id, boris.id, None]) == {
        anna.id: {"approved": 2, "rejected": 0, "spam": 0},
        boris.id: {"approved": 0, "rejected": 1, "spam": 1},
    }
    assert service.reader_history([]) == {}


# -- moderators' decisions, audited -----------------------------------------------------

def test_ban_for_days_and_until_lifted_then_unban_all_audited(ctx, site):
    editor = user()
    reader = anon(site.id)
    now = utcnow()
    service.ban(reader.key, editor, days=7, reason="  insults ", now=now)
    assert as_utc(reader.banned_until) == now + timedelta(days=7) and reader.ban_reason == "insults"
    found = service.is_banned(reader, now + timedelta(days=6))
    assert (found.by, found.reason, found.until_lifted) == ("reader", "insults", False)
    assert service.is_banned(reader, now + timedelta(days=7, seconds=1)) is None  # it ends by itself

    service.ban(reader.key, editor, reason="again")
    assert as_utc(reader.banned_until) == BANNED_UNTIL_LIFTED
    assert service.is_banned(reader, now + timedelta(days=9000)).until_lifted
    assert reader.to_dict()["banned_until"] == "9999-01-01T00:00:00Z"

    service.unban(reader.key, editor)
    assert reader.banned_until is None and service.is_banned(reader) is None
    service.unban(reader.key, editor)  # nothing to lift: no audit entry

    rows = audit_rows()
    assert [(r.action, r.target_type, r.target_id, r.site_id, r.actor_id) for r in rows] == [
        ("reader.ban", "reader", reader.id, site.id, editor.id),
        ("reader.ban", "reader", reader.id, site.id, editor.id),
        ("reader.unban", "reader", reader.id, site.id, editor.id),
    ]
    assert rows[0].before == {"banned_until": None, "trusted": False, "premoderate": False}
    assert rows[0].after["banned_until"].startswith(str((now + timedelta(days=7)).year))
    assert (rows[0].reason, rows[1].reason) == ("insults", "again")
    assert rows[1].after["banned_until"] == "9999-01-01T00:00:00Z"
    assert rows[2].after["banned_until"] is None


def test_trust_and_premoderate_exclude_each_other_and_are_audited(ctx, site):
    moderator = user("moderator")
    reader = anon(site.id)
    service.trust(reader.key, moderator)
    assert (reader.trusted, reader.premoderate) == (True, False)
    service.premoderate(reader.key, moderator, reason="pushes links")
    assert (reader.trusted, reader.premoderate) == (False, True)
    service.trust(reader.key, moderator)
    service.trust(reader.key, moderator, on=False)
    service.trust(reader.key, moderator, on=False)  # already so: no entry
    assert [(r.action, r.before, r.after, r.reason) for r in audit_rows()] == [
        ("reader.trust", {"banned_until": None, "trusted": False, "premoderate": False},
         {"banned_until": None, "trusted": True, "premoderate": False}, None),
        ("reader.premoderate", {"banned_until": None, "trusted": True, "premoderate": False},
         {"banned_until": None, "trusted": False, "premoderate": True}, "pushes links"),
        ("reader.trust", {"banned_until": None, "trusted": False, "premoderate": True},
         {"banned_until": None, "trusted": True, "premoderate": False}, None),
        ("reader.trust", {"banned_until": None, "trusted": True, "premoderate": False},
         {"banned_until": None, "trusted": False, "premoderate": False}, None),
    ]


@pytest.mark.parametrize("days", [0, -1, 3651, True, "7", 1.5])
def test_ban_days_must_be_a_sensible_whole_number(ctx, site, days):
    reader = anon(site.id)
    with pytest.raises(Invalid) as caught:
        service.ban(reader.key, user(), days=days)
    assert "days" in caught.value.fields
    assert audit_rows() == []


def test_readers_follow_the_role_and_site_rules_of_comments(ctx, site):
    other = other_site()
    reader = anon(site.id)
    with pytest.raises(NotFound):
        service.ban(reader.key, user("moderator", sites=[other.id]))  # not their site: not found
    with pytest.raises(NotFound):
        service.ban("anon:nobody", user())
    with pytest.raises(PermissionDenied):
        service.ban(reader.key, None)
    assert service.load_reader(reader.key, user("moderator", sites=[site.id])).id == reader.id
    assert audit_rows() == []


# -- how far a ban reaches ----------------------------------------------------------------


def test_an_anonymous_ban_follows_the_email_and_briefly_the_address(ctx, site):
    troll = anon(site.id, email="troll@x.example", address=ADDRESS)
    service.ban(troll.key, user(), days=30, reason="spam")
    now = utcnow()

    # The id cleared, the same e-mail: banned, for as long as the ban.
    same_email = anon(site.id, email="TROLL@x.example ", address="b" * 64)
    assert service.is_banned(same_email, now + timedelta(days=29)).by == "email"
    # The id cleared, no e-mail, the same address soon after: banned...
    same_address = anon(site.id, address=ADDRESS)
    found = service.is_banned(same_address, now)
    assert (found.by, found.reason) == ("address", "spam")
    # ...but only for a short time after the troll was last seen there.
    assert service.is_banned(same_address, now + service.ADDRESS_BAN_WINDOW + timedelta(minutes=1)) is None

    # A signed-in reader behind the same address, even with the typed e-mail, is not held back.
    signed_in = service.resolve_reader(
        site.id, sso=SsoIdentity(reader_key(site.id, "u-9"), "u-9", "Neighbour", "troll@x.example"),
        address_hash=ADDRESS)
    assert service.is_banned(signed_in, now) is None
    # Other readers, and the same e-mail on another site, are not affected either.
    assert service.is_banned(anon(site.id, email="kind@x.example", address="c" * 64), now) is None
    other = other_site()
    assert service.is_banned(anon(other.id, email="troll@x.example", address=ADDRESS), now) is None

    service.unban(troll.key, user())
    assert service.is_banned(same_email, now) is None and service.is_banned(same_address, now) is None


def test_a_signed_in_readers_ban_reaches_anonymous_use_of_their_email(ctx, site):
    banned = service.resolve_reader(
        site.id, sso=SsoIdentity(reader_key(site.id, "u-1"), "u-1", "Anna", "anna@reader.example"))
    db.session.commit()
    service.ban(banned.key, user())
    signed_out = anon(site.id, email="anna@reader.example")
    assert service.is_banned(signed_out).until_lifted


def test_an_expired_ban_reaches_no_one(ctx, site):
    troll = anon(site.id, email="troll@x.example", address=ADDRESS)
    then = utcnow() - timedelta(days=2)
    service.ban(troll.key, user(), days=1, now=then)
    assert service.is_banned(anon(site.id, email="troll@x.example", address=ADDRESS)) is None


def test_a_batch_of_known_readers_is_updated_in_one_statement_in_submission_order(app, ctx, site):
    """resolve_readers writes the batch's last-seen data (name, e-mail, address, time) in one
    executemany UPDATE, whatever the batch size; a reader seen twice keeps their last values,
    and what a submission did not bring (no e-mail) keeps the one before."""
    from support.database import recorded_statements

    keys = [anonymous.issue(site.id)[0] for _ in range(30)]
    service.resolve_readers([{"site_id": site.id, "anon_key": k, "name": "Old"} for k in keys])
    db.session.commit()
    before = as_utc(db.session.execute(sa.select(sa.func.max(Reader.last_seen))).scalar_one())
    submissions = [{"site_id": site.id, "anon_key": k, "name": f"Name {n}", "email_hash": hash_email(f"{n}@x.example"),
                    "address_hash": f"{n:064x}"} for n, k in enumerate(keys)]
    submissions.append({"site_id": site.id, "anon_key": keys[0], "name": "Last", "address_hash": "f" * 64})
    now = utcnow() + timedelta(minutes=5)
    with recorded_statements(app) as seen:
        readers = service.resolve_readers(submissions, now=now)
    updates = [s for s in seen if s.lstrip().upper().startswith("UPDATE")]
    assert len(updates) == 1, updates
    assert readers[0] is readers[-1] and not db.session.dirty
    db.session.commit()
    db.session.expire_all()
    rows = {r.key: r for r in db.session.execute(sa.select(Reader)).scalars()}
    first = rows[keys[0]]
    assert (first.display_name, first.email_hash, first.address_hash) == ("Last", hash_email("0@x.example"), "f" * 64)
    assert (rows[keys[7]].display_name, rows[keys[7]].address_hash) == ("Name 7", f"{7:064x}")
    assert all(as_utc(r.last_seen) == now > before for r in rows.values())
    # A reader whose submission changes nothing is not written at all.
    with recorded_statements(app) as seen:
        service.resolve_readers([{"site_id": site.id, "anon_key": keys[7], "name": "Name 7"}], now=now)
    assert not [s for s in seen if s.lstrip().upper().startswith("UPDATE")]
