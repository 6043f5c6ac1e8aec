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
from ..models.moderation_rules import BlockedCommenter

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


def _chunks(values):
    values = sorted(v for v in values if v is not None)
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]


class Recent:
    """The batch's readers, texts and articles as the database knows them, plus the batch so far."""

    def __init__(self, subjects, now):
        self.blocked = set()  # (kind, value hash, site id or None)
        self.history = defaultdict(Counter)  # (site id, reader) -> Counter of statuses
        self.velocity = Counter()  # (site id, reader) -> comments inside the site's velocity window
        self.texts = defaultdict(set)  # (site id, body hash) -> article ids inside the repeat window
        self.surge = defaultdict(lambda: [0, 0])  # page id -> [comments, spam/rejected] inside the window
        if subjects:
            self._load(subjects, now)

    # -- reading -------------------------------------------------------------------------

    def _load(self, subjects, now):
        sites = {s.site.id: (s.site, s.conf) for s in subjects}
        readers = {s.reporter for s in subjects if s.reporter}
        self._load_blocks(subjects, sites)
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
                sa.select(Comment.body_hash, Comment.page_id).distinct()
                .where(Comment.site_id == site_id, Comment.body_hash.in_(chunk), Comment.created_at >= since)
            )
            for digest, page_id in rows:
                self.texts[(site_id, digest)].add(page_id)

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

    def other_articles(self, site_id, digest, page_id):
        return len(self.texts.get((site_id, digest), set()) - {page_id})

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
        self.texts[(site_id, subject.body_hash)].add(subject.page.id)
        counts = self.surge[subject.page.id]
        counts[0] += 1
        counts[1] += status in JUNK
