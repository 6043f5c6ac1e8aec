"""What screening asks the database about one drain batch, read once per kind.

Screening a comment looks at its reader's earlier comments (blocks, history,
velocity), at its text elsewhere (cross-article repeats) and at its article
(surge). Asked comment by comment that was six SELECTs each, every one of them
flushing the comment before it: a 500-comment batch cost 3,000 queries and 500
single-row INSERTs. Here each kind is one query for the whole batch (one per
site where the window is a site setting), and the answers are kept current in
memory as each comment is decided, so comments of one batch still see each
other exactly as if they had been stored one by one.
"""
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from ..extensions import db
from ..models import Comment
from ..models.base import as_utc
from ..models.moderation_rules import BlockedCommenter
from ..models.spam import SpamSiteState
from ..privacy import hash_value

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

    @property
    def reader(self):
        """Who wrote it, as far as we know: address hash *and* e-mail hash (never the text)."""
        return (self.reporter, self.email_hash)


def _chunks(values):
    values = sorted(v for v in values if v is not None)
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]


class Recent:
    """The batch's readers, texts and articles as the database knows them, plus the batch so far."""

    def __init__(self, subjects, now):
        self.now = now
        self.blocked = set()  # (kind, value hash, site id or None)
        self.history = defaultdict(Counter)  # (site id, reader) -> Counter of statuses
        self.velocity = Counter()  # (site id, reader) -> comments inside the site's velocity window
        # (site id, body hash) -> [(article id, reader, created_at), ...] inside the repeat window
        self.texts = defaultdict(list)
        self.autonomy = {}  # site id -> SpamSiteState (absent: never measured)
        self.surge = defaultdict(lambda: [0, 0])  # page id -> [comments, spam/rejected] inside the window
        if subjects:
            self._load(subjects, now)

    # -- reading -------------------------------------------------------------------------

    def _load(self, subjects, now):
        sites = {s.site.id: (s.site, s.conf) for s in subjects}
        readers = {s.reporter for s in subjects if s.reporter}
        self._load_blocks(subjects, sites)
        self.autonomy = {row.site_id: row for row in db.session.execute(
            sa.select(SpamSiteState).where(SpamSiteState.site_id.in_(list(sites)))).scalars()}
        for chunk in _chunks(readers):
            rows = db.session.execute(
                sa.select(Comment.site_id, Comment.reporter_hash, Comment.status, sa.func.count())
                .where(Comment.site_id.in_(list(sites)), Comment.reporter_hash.in_(chunk))
                .group_by(Comment.site_id, Comment.reporter_hash, Comment.status)
            )
            for site_id, reader, status, count in rows:
                self.history[(site_id, reader)][status] += count
        for site_id, (_site, conf) in sites.items():
            mine = [s for s in subjects if s.site.id == site_id]
            self._load_velocity(site_id, conf, {s.reporter for s in mine if s.reporter}, now)
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

    def _load_velocity(self, site_id, conf, readers, now):
        since = now - timedelta(seconds=conf["velocity_seconds"])
        for chunk in _chunks(readers):
            rows = db.session.execute(
                sa.select(Comment.reporter_hash, sa.func.count())
                .where(Comment.site_id == site_id, Comment.reporter_hash.in_(chunk), Comment.created_at >= since)
                .group_by(Comment.reporter_hash)
            )
            for reader, count in rows:
                self.velocity[(site_id, reader)] = count

    def _load_texts(self, site_id, conf, hashes, now):
        since = now - timedelta(hours=conf["repeat_hours"])
        for chunk in _chunks(hashes):
            rows = db.session.execute(
                sa.select(Comment.body_hash, Comment.page_id, Comment.reporter_hash, Comment.email,
                          Comment.created_at)
                .where(Comment.site_id == site_id, Comment.body_hash.in_(chunk), Comment.created_at >= since)
            )
            for digest, page_id, reporter, email, created_at in rows:
                reader = (reporter, hash_value(email) if email else None)
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

    def record_of(self, site_id, reader):
        """(approved, rejected or spam) earlier comments by this reader on this site."""
        if not reader:
            return 0, 0
        seen = self.history.get((site_id, reader), Counter())
        return seen["approved"], seen["rejected"] + seen["spam"]

    def recent_count(self, site_id, reader):
        return self.velocity[(site_id, reader)] if reader else 0

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
        if subject.reporter:
            self.history[(site_id, subject.reporter)][status] += 1
            self.velocity[(site_id, subject.reporter)] += 1
        self.texts[(site_id, subject.body_hash)].append((subject.page.id, subject.reader, self.now))
        counts = self.surge[subject.page.id]
        counts[0] += 1
        counts[1] += status in JUNK
