"""Retention: after a site's `retention_days`, reader hashes and e-mails are deleted.

What goes, per site, on rows older than N days (by `created_at`):
comments lose `email` and `reporter_hash`, error reports lose `reporter_hash`,
reader flags (on that site's comments) lose `reporter_hash`. The words stay:
they were published or decided, and the moderation history needs them.
E-mail hashes are not stored on comment rows (they are computed when a block is
made); active blocks keep theirs until an admin lifts the block.

Readers (models.readers.Reader) not seen for N days: an anonymous reader's id links that
browser's comments as an address hash did, so it goes like one — their rows are unlinked
(`reader_id` NULL) and the reader deleted, unless a ban on them is still in force (a ban
outlives retention as a block does). Signed-in (SSO) readers are the newsroom's accounts:
the row stays, its e-mail and address hashes go.

It runs as an RQ job, one of the periodic jobs in `moderation.tasks.PERIODIC`: every
worker's maintenance loop queues it at most once per RETENTION_INTERVAL (default one
hour) across all workers (a Redis key with a TTL decides who; why not RQ's cron: see
`moderation.tasks`). The job goes through the normal queue (failed registry) like
every other job.
`moderation retention run` does the same by hand.
"""
from datetime import datetime, timedelta, timezone

import redis
import sqlalchemy as sa

from . import in_app_context

DEFAULT_RETENTION_DAYS = 90


def retention_days(site):
    """The site's `retention_days` setting, else the default (bad values too)."""
    value = (site.settings or {}).get("retention_days", DEFAULT_RETENTION_DAYS)
    try:
        days = int(value)
    except (TypeError, ValueError):
        return DEFAULT_RETENTION_DAYS
    return days if days >= 1 else DEFAULT_RETENTION_DAYS


def _count(model, *where):
    from ..extensions import db  # noqa: PLC0415

    return db.session.execute(sa.select(sa.func.count()).select_from(model).where(*where)).scalar_one()


def _update(model, where, values, dry_run):
    from ..extensions import db  # noqa: PLC0415

    if dry_run:
        return _count(model, *where)
    return db.session.execute(
        sa.update(model).where(*where).values(**values).execution_options(synchronize_session=False)
    ).rowcount


def purge_site(site, now=None, dry_run=False):
    """Clear one site's old hashes and e-mails (no commit). Returns counts of rows changed."""
    from ..models import Comment, CommentFlag, TypoReport  # noqa: PLC0415

    now = now or datetime.now(timezone.utc)
    cutoff = now - timedelta(days=retention_days(site))
    comments = _update(
        Comment,
        (Comment.site_id == site.id, Comment.created_at < cutoff,
         sa.or_(Comment.email.is_not(None), Comment.reporter_hash.is_not(None))),
        {"email": None, "reporter_hash": None}, dry_run,
    )
    reports = _update(
        TypoReport,
        (TypoReport.site_id == site.id, TypoReport.created_at < cutoff, TypoReport.reporter_hash.is_not(None)),
        {"reporter_hash": None}, dry_run,
    )
    on_site = sa.select(Comment.id).where(Comment.site_id == site.id).scalar_subquery()
    flags = _update(
        CommentFlag,
        (CommentFlag.comment_id.in_(on_site), CommentFlag.created_at < cutoff, CommentFlag.reporter_hash.is_not(None)),
        {"reporter_hash": None}, dry_run,
    )
    readers = _purge_readers(site, now, cutoff, dry_run)
    return {"site": site.key, "days": retention_days(site), "comments": comments, "reports": reports,
            "flags": flags, "readers": readers}


def _purge_readers(site, now, cutoff, dry_run):
    """Old anonymous readers unlinked and deleted (kept while banned); old SSO readers' hashes cleared."""
    from ..extensions import db  # noqa: PLC0415
    from ..models import Comment, CommentFlag, Reader, TypoReport  # noqa: PLC0415

    old = (Reader.site_id == site.id, Reader.last_seen < cutoff)
    not_banned = sa.or_(Reader.banned_until.is_(None), Reader.banned_until <= now)
    stale = sa.select(Reader.id).where(*old, Reader.kind == "anonymous", not_banned)
    hashed = sa.or_(Reader.email_hash.is_not(None), Reader.address_hash.is_not(None))
    if dry_run:
        return _count(Reader, *old, Reader.kind == "anonymous", not_banned) + _count(
            Reader, *old, sa.or_(Reader.kind != "anonymous", sa.not_(not_banned)), hashed)
    ids = list(db.session.execute(stale).scalars())
    for model in (Comment, TypoReport, CommentFlag):  # not left to ON DELETE: SQLite may not enforce it
        for chunk in range(0, len(ids), 500):
            _update(model, (model.reader_id.in_(ids[chunk:chunk + 500]),), {"reader_id": None}, False)
    deleted = 0
    from ..models import CommentVote  # noqa: PLC0415

    for chunk in range(0, len(ids), 500):
        # A vote is keyed on its reader: it goes with them (the comment keeps its totals).
        db.session.execute(sa.delete(CommentVote).where(CommentVote.reader_id.in_(ids[chunk:chunk + 500]))
                           .execution_options(synchronize_session=False))
        deleted += db.session.execute(
            sa.delete(Reader).where(Reader.id.in_(ids[chunk:chunk + 500])).execution_options(synchronize_session=False)
        ).rowcount
    cleared = _update(Reader, (*old, hashed), {"email_hash": None, "address_hash": None}, False)
    return deleted + cleared


@in_app_context
def run_retention(site_ids=None, now=None, dry_run=False):
    """The job: every site (or the given ids), one transaction. Returns per-site counts."""
    from ..extensions import db  # noqa: PLC0415
    from ..models import Site  # noqa: PLC0415

    from ..privacy import address_salts  # noqa: PLC0415

    try:
        address_salts()  # an idle service still rotates (and so destroys) old salts
    except redis.RedisError:
        pass  # retention below needs only the database
    query = sa.select(Site).order_by(Site.id)
    if site_ids:
        query = query.where(Site.id.in_(list(site_ids)))
    results = [purge_site(site, now, dry_run) for site in db.session.execute(query).scalars()]
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    return results
