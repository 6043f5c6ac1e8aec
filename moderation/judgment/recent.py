"""What screening asks the database about one drain batch, read once per kind.

Screening a comment looks at its reader's earlier comments (blocks, history,
velocity), at its text elsewhere (cross-article repeats) and at its article
(surge). Asked comment by comment that was six SELECTs each, every one of them
flushing the comment before it: a 500-comment batch cost 3,000 queries and 500
single-row INSERTs. Here each kind is one query for the whole batch (one per
site where the window is a site setting), and the answers are kept current in
memory as each comment is decided, so comments of one batch still see each
other exactly as if they had been stored one by one.

Readers are people (docs/identity.md): history, velocity and repeats key on the comment's
reader (`Subject.who`); only a comment without one (an import, a payload queued before
readers existed) falls back to its address hash. The address and e-mail histories are still
read, as the *hint* that an anonymous reader's own history must agree with before it grants
anything (`Recent.record_of`), and the batch's readers' bans are one query too.

Clearing the anonymous id must not reset velocity: a reader id younger than the site's
`anonymous_address_hours` (identity/settings.py) is also counted by the anonymous (and
reader-less) comments from its address inside the velocity window (`Recent.recent_count`).
Signed-in readers' comments on that address are not counted, and an id older than the window
is counted by its own comments only, so a long-standing neighbour behind carrier NAT is not
held for someone else's burst.
"""
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from ..extensions import db
from ..identity.settings import anonymous_address_window
from ..models import Comment, Reader
from ..models.base import as_utc
from ..models.moderation_rules import BlockedCommenter
from ..models.spam import SpamSiteState
from ..privacy import hash_value
from ..services.readers import bans_of

# Values per IN (...) list: far below SQLite's bound-parameter limit at any batch size.
CHUNK = 400
JUNK = ("spam", "rejected")


@dataclass(frozen=True)
class Subject:
    """One comment about to be screened, with the keys the lookups use."""

    payload: dict
    site: object
    conf: dict
    page: object
    reporter: str | None
    email_hash: str | None
    body_hash: str
    reader_row: object = None  # the models.Reader (services.readers.resolve_readers), None without one

    @property
    def who(self):
        """Whose history this comment joins: its reader; without one, its address hash."""
        if self.reader_row is not None:
            return ("reader", self.reader_row.id)
        return ("address", self.reporter) if self.reporter else None

    @property
    def reader(self):
        """Who wrote it, for repeats: the reader; without one, address hash *and* e-mail hash."""
        if self.reader_row is not None:
            return ("reader", self.reader_row.id)
        return (self.reporter, self.email_hash)

    @property
    def hints(self):
        """The address and e-mail history keys (never a person: many readers share an address)."""
        return [key for key in (("address", self.reporter) if self.reporter else None,
                                ("email", self.email_hash) if self.email_hash else None) if key]


def _chunks(values):
    values = sorted(v for v in values if v is not None)
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]


class Recent:
    """The batch's readers, texts and articles as the database knows them, plus the batch so far."""

    def __init__(self, subjects, now):
        self.now = now
        self.blocked = set()  # (kind, value hash, site id or None)
        # (site id, ("reader", id) | ("address", hash) | ("email", hash)) -> Counter of statuses
        self.history = defaultdict(Counter)
        self.velocity = Counter()  # (site id, Subject.who) -> comments inside the site's velocity window
        # (site id, address hash) -> anonymous or reader-less comments from it inside that window
        self.address_velocity = Counter()
        self.bans = {}  # reader id -> services.readers.Ban, for the batch's banned readers
        # (site id, body hash) -> [(article id, reader, created_at), ...] inside the repeat window
        self.texts = defaultdict(list)
        self.autonomy = {}  # site id -> SpamSiteState (absent: never measured)
        self.surge = defaultdict(lambda: [0, 0])  # page id -> [comments, spam/rejected] inside the window
        if subjects:
            self._load(subjects, now)

    # -- reading -------------------------------------------------------------------------

    def _load(self, subjects, now):
        sites = {s.site.id: (s.site, s.conf) for s in subjects}
        addresses = {s.reporter for s in subjects if s.reporter}
        reader_ids = {s.reader_row.id for s in subjects if s.reader_row is not None}
        self._load_blocks(subjects, sites)
        self.bans = bans_of([s.reader_row for s in subjects], now)
        self.autonomy = {row.site_id: row for row in db.session.execute(
            sa.select(SpamSiteState).where(SpamSiteState.site_id.in_(list(sites)))).scalars()}
        for chunk in _chunks(reader_ids):
            rows = db.session.execute(
                sa.select(Comment.site_id, Comment.reader_id, Comment.status, sa.func.count())
                .where(Comment.reader_id.in_(chunk))
                .group_by(Comment.site_id, Comment.reader_id, Comment.status)
            )
            for site_id, reader_id, status, count in rows:
                self.history[(site_id, ("reader", reader_id))][status] += count
        # The address history: a reader-less comment's own, an anonymous reader's hint.
        for chunk in _chunks(addresses):
            rows = db.session.execute(
                sa.select(Comment.site_id, Comment.reporter_hash, Comment.status, sa.func.count())
                .where(Comment.site_id.in_(list(sites)), Comment.reporter_hash.in_(chunk))
                .group_by(Comment.site_id, Comment.reporter_hash, Comment.status)
            )
            for site_id, address, status, count in rows:
                self.history[(site_id, ("address", address))][status] += count
        self._load_email_history(subjects, sites)
        for site_id, (_site, conf) in sites.items():
            mine = [s for s in subjects if s.site.id == site_id]
            self._load_velocity(site_id, conf, {s.who for s in mine if s.who}, now)
            self._load_address_velocity(site_id, conf, {s.reporter for s in mine if self._fresh(s)}, now)
            self._load_texts(site_id, conf, {s.body_hash for s in mine}, now)
            if conf["surge_comments"]:
                self._load_surge(conf, {s.page.id for s in mine}, now)

    def _load_blocks(self, subjects, sites):
        values = {s.reporter for s in subjects} | {s.email_hash for s in subjects}
        for chunk in _chunks(values):
            rows = db.session.execute(
                sa.select(BlockedCommenter.kind, BlockedCommenter.value_hash, BlockedCommenter.site_id).where(
                    BlockedCommenter.value_hash.in_(chunk),
                    sa.or_(BlockedCommenter.site_id.is_(None), BlockedCommenter.site_id.in_(list(sites))),
                )
            )
            self.blocked.update((kind, value, site_id) for kind, value, site_id in rows)

    def _load_email_history(self, subjects, sites):
        """The e-mail history of the batch's anonymous readers who gave one (their hint, with
        the address's). Comments keep the e-mail as typed: matched as typed, hashed here."""
        emails = {s.payload["email"] for s in subjects
                  if s.email_hash and s.reader_row is not None and s.reader_row.kind == "anonymous"}
        for chunk in _chunks(emails):
            rows = db.session.execute(
                sa.select(Comment.site_id, Comment.email, Comment.status, sa.func.count())
                .where(Comment.site_id.in_(list(sites)), Comment.email.in_(chunk))
                .group_by(Comment.site_id, Comment.email, Comment.status)
            )
            for site_id, email, status, count in rows:
                self.history[(site_id, ("email", hash_value(email)))][status] += count

    def _load_velocity(self, site_id, conf, whos, now):
        since = now - timedelta(seconds=conf["velocity_seconds"])
        # By reader, `site_id + 0`: the same rows, but no index on site_id can be picked for it.
        # SQLite (no statistics) preferred ix_comment_body_hash (site_id, ...) and read every
        # comment of the site per batch (the drain slowed as the table grew); this way it seeks
        # ix_comment_reader_history (reader_id, status, created_at) per reader.
        columns = {"reader": (Comment.reader_id, Comment.site_id + 0),
                   "address": (Comment.reporter_hash, Comment.site_id)}
        for kind, (column, site_column) in columns.items():
            for chunk in _chunks({value for what, value in whos if what == kind}):
                rows = db.session.execute(
                    sa.select(column, sa.func.count())
                    .where(site_column == site_id, column.in_(chunk), Comment.created_at >= since)
                    .group_by(column)
                )
                for value, count in rows:
                    self.velocity[(site_id, (kind, value))] = count

    def _load_address_velocity(self, site_id, conf, addresses, now):
        since = now - timedelta(seconds=conf["velocity_seconds"])
        for chunk in _chunks(addresses):
            rows = db.session.execute(
                sa.select(Comment.reporter_hash, sa.func.count())
                .select_from(Comment).outerjoin(Reader, Reader.id == Comment.reader_id)
                .where(Comment.site_id == site_id, Comment.reporter_hash.in_(chunk), Comment.created_at >= since,
                       sa.or_(Comment.reader_id.is_(None), Reader.kind == "anonymous"))
                .group_by(Comment.reporter_hash)
            )
            for value, count in rows:
                self.address_velocity[(site_id, value)] = count

    def _fresh(self, subject):
        """An anonymous reader id younger than the site's address window, with an address."""
        reader = subject.reader_row
        if reader is None or reader.kind != "anonymous" or not subject.reporter:
            return False
        window = anonymous_address_window(subject.conf)
        return window > timedelta(0) and as_utc(reader.first_seen) >= self.now - window

    def _load_texts(self, site_id, conf, hashes, now):
        since = now - timedelta(hours=conf["repeat_hours"])
        for chunk in _chunks(hashes):
            rows = db.session.execute(
                sa.select(Comment.body_hash, Comment.page_id, Comment.reader_id, Comment.reporter_hash,
                          Comment.email, Comment.created_at)
                .where(Comment.site_id == site_id, Comment.body_hash.in_(chunk), Comment.created_at >= since)
            )
            for digest, page_id, reader_id, reporter, email, created_at in rows:
                # As Subject.reader: the person, or (for a reader-less row) its address and e-mail.
                reader = ("reader", reader_id) if reader_id is not None else (
                    reporter, hash_value(email) if email else None)
                self.texts[(site_id, digest)].append((page_id, reader, as_utc(created_at)))

    def _load_surge(self, conf, page_ids, now):
        since = now - timedelta(minutes=conf["surge_window_minutes"])
        for chunk in _chunks(page_ids):
            rows = db.session.execute(
                sa.select(Comment.page_id, sa.func.count(), sa.func.count().filter(Comment.status.in_(JUNK)))
                .where(Comment.page_id.in_(chunk), Comment.created_at >= since)
                .group_by(Comment.page_id)
            )
            for page_id, total, junk in rows:
                self.surge[page_id] = [total, junk]

    # -- answering -----------------------------------------------------------------------

    def is_blocked(self, kind, value, site_id):
        return bool(value) and ((kind, value, None) in self.blocked or (kind, value, site_id) in self.blocked)

    def _counts(self, site_id, key):
        seen = self.history.get((site_id, key), Counter())
        return seen["approved"], seen["rejected"] + seen["spam"]

    def record_of(self, subject):
        """(approved, rejected or spam) earlier comments by this comment's reader on its site.

        An anonymous reader's own approvals grant no more than their address or e-mail history
        agrees with (docs/identity.md): the approved count is at most the better hint's, so a
        fresh id is a reader without history and an id alone never earns trust. Rejections
        are the reader's own: a neighbour's behind the same address count for no one else.
        """
        site_id, who = subject.site.id, subject.who
        if who is None:
            return 0, 0
        approved, rejected = self._counts(site_id, who)
        if subject.reader_row is not None and subject.reader_row.kind == "anonymous":
            hinted = max((self._counts(site_id, key)[0] for key in subject.hints), default=0)
            approved = min(approved, hinted)
        return approved, rejected

    def recent_count(self, subject):
        """Earlier comments inside the velocity window: the reader's own; for a fresh anonymous
        id (`_fresh`) at least the anonymous comments from its address (a cleared id)."""
        return max(self._own_count(subject), self._address_count(subject))

    def counted_by_address(self, subject):
        """True when `recent_count` is the address's count, not the reader's own (the hold's
        reason says so: the moderator sees it may be a neighbour behind the same NAT)."""
        return self._address_count(subject) > self._own_count(subject)

    def _own_count(self, subject):
        return self.velocity[(subject.site.id, subject.who)] if subject.who else 0

    def _address_count(self, subject):
        return self.address_velocity[(subject.site.id, subject.reporter)] if self._fresh(subject) else 0

    def ban_of(self, subject):
        """The services.readers.Ban that holds this comment's reader, or None."""
        return self.bans.get(subject.reader_row.id) if subject.reader_row is not None else None

    def repeats(self, subject, now, wave_minutes):
        """The same text elsewhere: (other articles where this reader wrote it, readers who wrote
        it within `wave_minutes` counting this one, other articles where other readers wrote it)."""
        seen = self.texts.get((subject.site.id, subject.body_hash), ())
        page_id, reader = subject.page.id, subject.reader
        since = now - timedelta(minutes=wave_minutes)
        mine = {page for page, who, _ in seen if who == reader and page != page_id}
        wave = {who for _, who, at in seen if at is not None and at >= since} | {reader}
        theirs = {page for page, who, _ in seen if who != reader and page != page_id}
        return len(mine), len(wave), len(theirs)

    def article_counts(self, page_id):
        """(comments, spam/rejected) on this article inside the surge window, before this one."""
        total, junk = self.surge[page_id]
        return total, junk

    # -- the batch so far ----------------------------------------------------------------

    def record(self, subject, status):
        """A comment was decided: later comments of the batch count it as stored."""
        site_id = subject.site.id
        if subject.who:
            self.velocity[(site_id, subject.who)] += 1
        if subject.reporter and (subject.reader_row is None or subject.reader_row.kind == "anonymous"):
            self.address_velocity[(site_id, subject.reporter)] += 1
        for key in {subject.who, *subject.hints} - {None}:
            self.history[(site_id, key)][status] += 1
        self.texts[(site_id, subject.body_hash)].append((subject.page.id, subject.reader, self.now))
        counts = self.surge[subject.page.id]
        counts[0] += 1
        counts[1] += status in JUNK
