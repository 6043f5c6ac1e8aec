"""Readers: who wrote a submission, and what moderators decided about that person.

`resolve_reader` runs where submissions are stored (the worker), with identities the
reader API verified before queueing (identity.sso, identity.anonymous). The moderation
actions (ban, unban, trust, premoderate) are checked and audited like decisions on
comments (services/moderation.py). `is_banned` applies a ban to the person, not to the
address: see docs/identity.md.
"""
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from ..db_retry import unit_of_work
from ..extensions import db
from ..identity import settings as identity_settings
from ..identity.sso import SsoIdentity
from ..models import Comment, Reader, Site
from ..models.base import as_utc, isoformat, utcnow
from ..models.readers import BANNED_UNTIL_LIFTED
from ..privacy import hash_email
from ..schemas.limits import MAX_BAN_DAYS
from .audit import Target, audit
from .common import Invalid, NotFound, clean_reason, require

# A ban on a reader also holds, for anonymous readers only, on their e-mail hash and, for the
# site's `anonymous_address_hours` (identity/settings.py; this by default) after the banned
# reader was last seen there or banned, on their address hash: a troll who clears the id (or
# signs out) is still banned. Short, as carrier NAT puts many readers behind one address: an
# innocent neighbour is held back for hours, not for the ban.
ADDRESS_BAN_WINDOW = timedelta(hours=identity_settings.DEFAULTS["anonymous_address_hours"])
TARGET_TYPE = "reader"


# -- who wrote it ------------------------------------------------------------------------

def _find(key):
    return db.session.execute(sa.select(Reader).where(Reader.key == key)).scalar_one_or_none()


def _who(sso, anon_key, name, email_hash):
    """(key, kind, name, email_hash) of a submission's reader, or None without an identity."""
    if isinstance(sso, dict):
        sso = SsoIdentity.from_payload(sso)
    if sso is not None:
        return sso.reader_key, "sso", sso.username, (hash_email(sso.email) if sso.email else email_hash)
    if anon_key:
        return anon_key, "anonymous", name, email_hash
    return None


def _seen(reader, site_id, name, email_hash, address_hash, now):
    """What this submission tells about its reader, applied to the row (no flush)."""
    if reader.site_id != site_id:
        # Keys carry or are bound to their site (identity.*): this is a bug, not a reader.
        raise ValueError(f"reader {reader.key!r} belongs to another site")
    reader.last_seen = max(as_utc(reader.last_seen), now)
    if name:
        reader.display_name = name
    # Only what this submission brought replaces what we knew: no e-mail this time keeps the last one.
    if email_hash:
        reader.email_hash = email_hash
    if address_hash:
        reader.address_hash = address_hash


def resolve_reader(site_id, sso=None, anon_key=None, name=None, email_hash=None, address_hash=None, now=None):
    """The Reader behind one submission, created on first sight, its last-seen data updated.

    `sso`: a verified SsoIdentity (or its `as_payload()` dict from the queue), which wins;
    its username is the name and its e-mail the e-mail. Otherwise `anon_key`: the key from
    `identity.anonymous.verify`/`issue` (the reader API always has one). Neither: None.
    `email_hash` / `address_hash`: privacy.hash_email / hash_address of this submission.
    Flushes, does not commit: it is part of the caller's transaction (a worker batch).
    """
    now = now or utcnow()
    who = _who(sso, anon_key, name, email_hash)
    if who is None:
        return None
    key, kind, name, email_hash = who
    reader = _find(key)
    if reader is None:
        reader = Reader(key=key, site_id=site_id, kind=kind, first_seen=now, last_seen=now)
        try:
            with db.session.begin_nested():
                db.session.add(reader)
        except IntegrityError:  # another worker stored the same reader a moment ago
            reader = _find(key)
    _seen(reader, site_id, name, email_hash, address_hash, now)
    db.session.flush()
    return reader


# Keys per IN (...) list: far below SQLite's bound-parameter limit.
CHUNK = 400


def resolve_readers(submissions, now=None):
    """resolve_reader for a worker batch, in a few statements instead of a few per submission:
    one SELECT per CHUNK keys, the new readers in one INSERT, one executemany UPDATE for
    what the batch tells about them (`_store_seen`).

    `submissions`: [{"site_id", "sso", "anon_key", "name", "email_hash", "address_hash"}, ...]
    (resolve_reader's arguments). Returns the Readers (None without an identity) in order; a
    reader seen twice in the batch is one row, updated in submission order. Flushes, no commit.
    """
    now = now or utcnow()
    wanted = [_who(s.get("sso"), s.get("anon_key"), s.get("name"), s.get("email_hash")) for s in submissions]
    keys = sorted({who[0] for who in wanted if who})
    found = {}
    for start in range(0, len(keys), CHUNK):
        found.update((r.key, r) for r in db.session.execute(
            sa.select(Reader).where(Reader.key.in_(keys[start:start + CHUNK]))).scalars())
    new = {}
    for submission, who in zip(submissions, wanted):
        if who and who[0] not in found and who[0] not in new:
            new[who[0]] = Reader(key=who[0], site_id=submission["site_id"], kind=who[1], first_seen=now, last_seen=now)
    if new:
        try:
            with db.session.begin_nested():
                db.session.add_all(new.values())
        except IntegrityError:
            # Another worker stored one of them a moment ago: one by one, each in its savepoint.
            return [resolve_reader(now=now, **{k: s.get(k) for k in RESOLVE_ARGS}) for s in submissions]
        found.update(new)
    readers, seen = [], {}  # seen: reader -> its columns after this batch (SEEN_COLUMNS)
    for submission, who in zip(submissions, wanted):
        reader = found[who[0]] if who else None
        if reader is not None:
            columns = seen.get(reader) or {name: getattr(reader, name) for name in SEEN_COLUMNS}
            seen[reader] = _seen_columns(reader, columns, submission["site_id"], who[2], who[3],
                                         submission.get("address_hash"), now)
        readers.append(reader)
    _store_seen(seen)
    db.session.flush()
    return readers


SEEN_COLUMNS = ("last_seen", "display_name", "email_hash", "address_hash")


def _seen_columns(reader, columns, site_id, name, email_hash, address_hash, now):
    """_seen on a dict of SEEN_COLUMNS (the batch's values so far) instead of on the row."""
    if reader.site_id != site_id:
        raise ValueError(f"reader {reader.key!r} belongs to another site")
    columns = dict(columns, last_seen=max(as_utc(columns["last_seen"]), now))
    if name:
        columns["display_name"] = name
    if email_hash:
        columns["email_hash"] = email_hash
    if address_hash:
        columns["address_hash"] = address_hash
    return columns


def _store_seen(seen):
    """The batch's last-seen data in one executemany UPDATE, the rows' loaded values set to
    match (nothing left for the flush): the unit of work cost more per reader than the SQL."""
    def loaded(reader, name):  # SQLite hands datetimes back without their zone
        return as_utc(reader.last_seen) if name == "last_seen" else getattr(reader, name)

    changed = {reader: columns for reader, columns in seen.items()
               if any(columns[name] != loaded(reader, name) for name in SEEN_COLUMNS)}
    if not changed:
        return
    table = Reader.__table__
    db.session.execute(
        table.update().where(table.c.id == sa.bindparam("reader_id"))
        .values({name: sa.bindparam(f"new_{name}") for name in SEEN_COLUMNS}),
        [dict({f"new_{name}": columns[name] for name in SEEN_COLUMNS}, reader_id=reader.id)
         for reader, columns in changed.items()],
    )
    for reader, columns in changed.items():
        for name in SEEN_COLUMNS:
            set_committed_value(reader, name, columns[name])


RESOLVE_ARGS = ("site_id", "sso", "anon_key", "name", "email_hash", "address_hash")


# -- history -----------------------------------------------------------------------------

HISTORY_STATUSES = ("approved", "rejected", "spam")


def reader_history(reader_ids):
    """{reader id: {"approved": n, "rejected": n, "spam": n}}: decided comments per reader
    (services.moderation.author_history, keyed on the person instead of the address)."""
    ids = {i for i in reader_ids if i is not None}
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(Comment.reader_id, Comment.status, sa.func.count())
        .where(Comment.reader_id.in_(ids), Comment.status.in_(HISTORY_STATUSES))
        .group_by(Comment.reader_id, Comment.status)
    ).all()
    history = {i: dict.fromkeys(HISTORY_STATUSES, 0) for i in ids}
    for reader_id, status, count in rows:
        history[reader_id][status] = count
    return history


# -- bans --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Ban:
    """A ban in force. `by`: "reader" (their own), "email" or "address" (derived)."""

    until: object  # datetime; BANNED_UNTIL_LIFTED for "until lifted"
    reason: str | None
    by: str

    @property
    def until_lifted(self):
        return as_utc(self.until) == BANNED_UNTIL_LIFTED


def is_banned(reader, now=None):
    """The Ban that holds this reader's submissions at `now`, or None.

    Their own ban first. Then, for an anonymous reader only, another banned reader of the
    site with the same e-mail hash, or with the same address hash, last seen there or banned
    within the site's address window (`anonymous_address_hours`). An SSO reader is a known account: only their own ban counts (a
    typed, unverified e-mail or a shared address must not lock out a signed-in reader).
    """
    if reader is None:
        return None
    return bans_of([reader], now).get(reader.id)


def bans_of(readers, now=None):
    """{reader id: Ban} for the readers held by a ban at `now` (is_banned's rules), in one
    query for the whole list (a worker batch) whatever its length."""
    now = now or utcnow()
    readers = [r for r in readers if r is not None]
    bans = {r.id: Ban(as_utc(r.banned_until), r.ban_reason, "reader") for r in readers if r.own_ban_in_force(now)}
    derived = [r for r in readers if r.id not in bans and r.kind == "anonymous" and (r.email_hash or r.address_hash)]
    if not derived:
        return bans
    emails = sorted({r.email_hash for r in derived if r.email_hash})
    addresses = sorted({r.address_hash for r in derived if r.address_hash})
    windows = address_windows({r.site_id for r in derived})
    since = now - max(windows.values())
    banned = db.session.execute(
        sa.select(Reader).where(
            Reader.site_id.in_(sorted(windows)), Reader.banned_until > now,
            sa.or_(Reader.email_hash.in_(emails),
                   sa.and_(Reader.address_hash.in_(addresses),
                           sa.or_(Reader.last_seen >= since, Reader.banned_at >= since))))
        .order_by(Reader.banned_until.desc(), Reader.id)
    ).scalars().all()

    def recent_there(other):
        """The banned reader was seen at (or banned since) their address within its site's window."""
        latest = max(as_utc(t) for t in (other.last_seen, other.banned_at or other.last_seen))
        return windows[other.site_id] > timedelta(0) and latest >= now - windows[other.site_id]

    for reader in derived:
        for by, same in (("email", lambda o: reader.email_hash and o.email_hash == reader.email_hash),
                         ("address", lambda o: reader.address_hash and o.address_hash == reader.address_hash
                          and recent_there(o))):
            other = next((o for o in banned if o.site_id == reader.site_id and o.id != reader.id and same(o)), None)
            if other is not None:
                bans[reader.id] = Ban(as_utc(other.banned_until), other.ban_reason, by)
                break
    return bans


def address_windows(site_ids):
    """{site id: its anonymous address window} (identity.settings.anonymous_address_window), in
    one query whatever the number of sites."""
    ids = sorted(set(site_ids))
    if not ids:
        return {}
    settings = dict(db.session.execute(sa.select(Site.id, Site.settings).where(Site.id.in_(ids))).all())
    return {i: identity_settings.anonymous_address_window(settings.get(i)) for i in ids}


# -- moderators' decisions -------------------------------------------------------------

def load_reader(reader_key, actor):
    """The reader with this public key, if the actor may moderate comments on its site."""
    require(actor, "comments")
    reader = _find(reader_key) if isinstance(reader_key, str) else None
    if reader is None or not actor.can_site(reader.site_id):
        raise NotFound("no such reader")  # "missing" and "not yours" alike
    return reader


def _state(reader):
    return {"banned_until": isoformat(reader.banned_until), "trusted": bool(reader.trusted),
            "premoderate": bool(reader.premoderate)}


def _decide(reader_key, actor, action, change, reason=None):
    reader = load_reader(reader_key, actor)
    reason = clean_reason(reason)
    before, before_reason = _state(reader), reader.ban_reason
    change(reader)
    if _state(reader) == before and reader.ban_reason == before_reason:
        return reader  # nothing changes (unban of a reader not banned): no audit noise
    audit(actor, action, Target(TARGET_TYPE, reader.id, reader.site_id),
          before=before, after=_state(reader), reason=reason)
    db.session.commit()
    return reader


def _days(days):
    if days is None:
        return None
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_BAN_DAYS:
        raise Invalid("invalid fields", {"days": f"days must be a whole number from 1 to {MAX_BAN_DAYS}"})
    return days


@unit_of_work
def ban(reader_key, actor, days=None, reason=None, now=None):
    """Ban for `days` (1..MAX_BAN_DAYS) or, with None, until lifted. Their later comments are
    stored as rejected (the caller's screening asks `is_banned`)."""
    days = _days(days)
    now = now or utcnow()

    def change(reader):
        reader.banned_until = BANNED_UNTIL_LIFTED if days is None else now + timedelta(days=days)
        reader.banned_at = now
        reader.ban_reason = clean_reason(reason)

    return _decide(reader_key, actor, "reader.ban", change, reason)


@unit_of_work
def unban(reader_key, actor, reason=None):
    def change(reader):
        reader.banned_until = reader.banned_at = reader.ban_reason = None

    return _decide(reader_key, actor, "reader.unban", change, reason)


@unit_of_work
def trust(reader_key, actor, on=True, reason=None):
    """Trusted (their comments may skip the pre-moderation queue); `on=False` undoes it.
    Trust and always-pre-moderate exclude each other: setting one clears the other."""
    def change(reader):
        reader.trusted = bool(on)
        if on:
            reader.premoderate = False

    return _decide(reader_key, actor, "reader.trust", change, reason)


@unit_of_work
def premoderate(reader_key, actor, on=True, reason=None):
    """Always hold this reader's comments for a moderator, without telling them; `on=False` undoes it."""
    def change(reader):
        reader.premoderate = bool(on)
        if on:
            reader.trusted = False

    return _decide(reader_key, actor, "reader.premoderate", change, reason)
