"""Turn queued payloads into rows: idempotent on (site, client_id), a batch in time-bounded transactions."""
import time
from datetime import datetime, timezone

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from .. import metrics
from ..extensions import db
from ..models import Comment, CommentFlag, Page, ReportCluster, Site, TypoReport
from ..models.base import utcnow
from ..judgment.anchors import same_spot
from ..models.clusters import cluster_key
from ..models.sites import url_hash
from ..identity.edge import Identity
from ..judgment import screening, suggestions
from ..notify import events as notify
from ..privacy import hash_email, rekey_addresses
from ..services import votes
from ..services.readers import resolve_readers
from ..sanitizer import render_comment

# Errors that say "try again later", not "this submission is broken".
TRANSIENT = (OperationalError, PoolTimeout)


class PoisonSubmission(Exception):
    """This one payload cannot be processed; the rest of its batch can."""


def _is_transient(exc):
    if isinstance(exc, TRANSIENT):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def _when(epoch):
    return datetime.fromtimestamp(epoch, timezone.utc) if epoch else None


def _submission_key(payload):
    # client_ids are unique per site (the broker's dedup key says the same).
    return payload["site_id"], payload["client_id"]


def _existing_client_ids(payloads):
    """The (site_id, client_id) pairs of `payloads` already stored, of any kind."""
    wanted = {_submission_key(p) for p in payloads}
    client_ids = {client_id for _, client_id in wanted}
    found = set()
    queries = [sa.select(model.site_id, model.client_id).where(model.client_id.in_(client_ids))
               for model in (TypoReport, Comment)]
    queries.append(sa.select(Comment.site_id, CommentFlag.client_id)
                   .join(Comment, CommentFlag.comment_id == Comment.id).where(CommentFlag.client_id.in_(client_ids)))
    for query in queries:
        found.update((site_id, client_id) for site_id, client_id in db.session.execute(query))
    found.update(votes.existing_client_ids(client_ids))
    return found & wanted


def _pages(payloads):
    """Page rows for every (site, url) in the batch, created when missing."""
    wanted = {(p["site_id"], p["url"]) for p in payloads}
    hashes = {url_hash(url) for _, url in wanted}
    pages = {
        (page.site_id, page.url): page
        for page in db.session.execute(sa.select(Page).where(Page.url_hash.in_(hashes))).scalars()
    }
    for site_id, url in sorted(wanted - set(pages)):
        page = Page(site_id=site_id, url=url, url_hash=url_hash(url))
        try:
            with db.session.begin_nested():
                db.session.add(page)
        except IntegrityError:
            # Another worker created it a moment ago.
            page = db.session.execute(
                sa.select(Page).where(Page.site_id == site_id, Page.url_hash == url_hash(url))
            ).scalar_one()
        pages[(site_id, url)] = page
    return pages


# Clusters of a page compared with a report whose exact key is new (the newest first).
NEARBY_CLUSTERS = 300


def _clusters(reports):
    """ReportCluster rows for every same-spot key among (payload, page) pairs.

    The exact key (same selection, same 16 characters around it) finds most;
    otherwise `same_spot` compares the page's recent clusters (wider, narrower or
    overlapping selections; other spacing or case).
    """
    wanted = {}
    for payload, page in reports:
        key = cluster_key(page.id, payload["exact"], payload.get("prefix") or "", payload.get("suffix") or "")
        wanted.setdefault(key, (payload, page))
    if not wanted:
        return {}
    found = {
        c.key: c
        for c in db.session.execute(sa.select(ReportCluster).where(ReportCluster.key.in_(list(wanted)))).scalars()
    }
    nearby = {}  # page id -> its recent clusters, for reports that are not an exact match
    for key, (payload, page) in wanted.items():
        if key in found:
            continue
        if page.id not in nearby:
            nearby[page.id] = db.session.execute(
                sa.select(ReportCluster).where(ReportCluster.page_id == page.id)
                .order_by(ReportCluster.id.desc()).limit(NEARBY_CLUSTERS)
            ).scalars().all()
        spot = (payload.get("prefix") or "", payload["exact"], payload.get("suffix") or "")
        match = next((c for c in nearby[page.id] if same_spot((c.prefix, c.exact, c.suffix), spot)), None)
        if match is not None:
            found[key] = match  # a wider, narrower or overlapping selection of a known spot
            continue
        cluster = ReportCluster(
            key=key, site_id=payload["site_id"], page_id=page.id, exact=payload["exact"],
            prefix=payload.get("prefix") or "", suffix=payload.get("suffix") or "",
            status="new", report_count=0, first_reported_at=_when(payload.get("received_at")) or utcnow(),
            last_reported_at=_when(payload.get("received_at")) or utcnow(),
            machine_suggestion=suggestions.for_report(payload, page.site.language),
        )
        try:
            with db.session.begin_nested():
                db.session.add(cluster)
        except IntegrityError:  # another worker created it a moment ago
            cluster = db.session.execute(
                sa.select(ReportCluster).where(ReportCluster.key == key)
            ).scalar_one()
        found[key] = cluster
        nearby[page.id].insert(0, cluster)
    return found


def _readers(payloads):
    """{submission key: Reader or None}: who sent each payload (the identity the reader API
    verified and queued), in a few statements for the whole batch. A payload queued before
    readers existed (or an import) has no identity and no reader."""
    submissions = [
        dict(Identity.resolve_args(p.get("identity")), site_id=p["site_id"],
             name=p.get("author") if p.get("type") == "comment" else None,
             email_hash=hash_email(p["email"]) if p.get("type") == "comment" and p.get("email") else None,
             address_hash=p.get("reporter_hash"))
        for p in payloads
    ]
    return dict(zip((_submission_key(p) for p in payloads), resolve_readers(submissions)))


def _report(payload, page, reader):
    return TypoReport(
        client_id=payload["client_id"],
        site_id=payload["site_id"],
        page_id=page.id,
        exact=payload["exact"],
        prefix=payload.get("prefix") or "",
        suffix=payload.get("suffix") or "",
        position=payload.get("position"),
        suggestion=payload.get("suggestion"),
        comment=payload.get("comment"),
        kind=payload.get("kind") or "typo",
        status="new",
        reporter_hash=payload.get("reporter_hash"),
        reader_id=reader.id if reader else None,
        submitted_at=_when(payload.get("received_at")),
    )


def _comment(payload, page, site, parents, verdict, reader):
    parent = parents.get(payload.get("parent"))
    if parent is not None and parent.page_id != page.id:
        parent = None  # a reply must stay on its article
    if title := payload.get("title"):
        if page.title != title:
            page.title = title
    if verdict.status == "approved":
        page.bump()
    # Column values, not an ORM object: see _write for why.
    return {
        "client_id": payload["client_id"],
        "site_id": site.id,
        "page_id": page.id,
        "parent_id": parent.id if parent else None,
        "thread_id": (parent.thread_id or parent.id) if parent else None,
        "author": payload["author"],
        "email": payload.get("email"),
        "body_raw": payload["body"],
        "body_html": render_comment(payload["body"]),
        "body_hash": verdict.body_hash,
        "status": verdict.status,
        "spam_score": verdict.score,
        "spam_reasons": verdict.reasons,
        "reporter_hash": payload.get("reporter_hash"),
        "reader_id": reader.id if reader else None,
        "created_at": utcnow(),
        "submitted_at": _when(payload.get("received_at")),
    }


def model_scores_first(payloads):
    """{submission key: spam model score} of the comments in `payloads`, taken before their
    write transaction: scoring is pure CPU, and on SQLite the worker's transactions begin with
    BEGIN IMMEDIATE, so inside one it held the database's one write lock and the other worker
    waited. A transaction this opened (the model's version check) is ended here; one the
    caller had open is left alone. {} when there is nothing to score."""
    comments = [p for p in payloads if p.get("type") == "comment"]
    if not comments:
        return {}
    ours = not db.session().in_transaction()
    try:
        scores = screening.model_scores([(p["author"], p["body"]) for p in comments])
    finally:
        if ours and db.session().in_transaction():
            db.session.rollback()  # a read only: nothing to keep
    return dict(zip((_submission_key(p) for p in comments), scores))


def _write(payloads, scores=None):
    """Add the rows for `payloads` to the session (no commit). Returns rows added.
    `scores`: model_scores_first(payloads), when taken before the transaction."""
    seen = _existing_client_ids(payloads)
    fresh = []
    for payload in payloads:
        if _submission_key(payload) in seen:
            continue  # the widget retried, or this batch is a replay after a crash
        seen.add(_submission_key(payload))
        fresh.append(payload)
    if not fresh:
        return 0
    # Before any lookup by address hash: rows under a reader's previous-salt hash
    # move to the current one (salt rotation, see privacy.py).
    rekey_addresses(fresh)
    site_ids = {p["site_id"] for p in fresh}
    sites = {s.id: s for s in db.session.execute(sa.select(Site).where(Site.id.in_(site_ids))).scalars()}
    missing = site_ids - set(sites)
    if missing:
        raise LookupError(f"site ids {sorted(missing)} no longer exist")
    readers = _readers(fresh)
    flags = [p for p in fresh if p.get("type") == "flag"]
    reader_votes = [p for p in fresh if p.get("type") == "vote"]
    fresh = [p for p in fresh if p.get("type") not in ("flag", "vote")]
    added = _flags(flags, sites, readers) if flags else 0
    if reader_votes:
        added += votes.store(reader_votes, sites, readers, _submission_key)
    if not fresh:
        return added
    pages = _pages(fresh)
    parent_ids = {p["parent"] for p in fresh if p.get("type") == "comment" and p.get("parent")}
    parents = {}
    if parent_ids:
        parents = {
            c.id: c for c in db.session.execute(sa.select(Comment).where(Comment.id.in_(parent_ids))).scalars()
        }
    clusters = _clusters([(p, pages[(p["site_id"], p["url"])]) for p in fresh if p.get("type") == "report"])
    # All comments screened up front: a few queries for the batch, not several per comment.
    comments = [p for p in fresh if p.get("type") == "comment"]
    verdicts = dict(zip(
        (_submission_key(p) for p in comments),
        screening.screen_all([(p, sites[p["site_id"]], pages[(p["site_id"], p["url"])], readers[_submission_key(p)])
                              for p in comments],
                             scores=[scores[_submission_key(p)] for p in comments] if scores else None),
    ))
    rows, comment_rows = [], []
    for payload in fresh:
        page = pages[(payload["site_id"], payload["url"])]
        kind = payload.get("type")
        if kind == "report":
            report = _report(payload, page, readers[_submission_key(payload)])
            cluster = clusters[cluster_key(page.id, report.exact, report.prefix, report.suffix)]
            report.cluster = cluster
            # A decided spot answers its new readers at once.
            report.status, report.correction = cluster.status, cluster.correction
            report.decided_at, report.decided_by_id = cluster.decided_at, cluster.decided_by_id
            cluster.report_count = (cluster.report_count or 0) + 1
            cluster.last_reported_at = report.submitted_at or cluster.last_reported_at
            db.session.add(report)
            rows.append(report)
        elif kind == "comment":
            comment_rows.append(
                _comment(payload, page, sites[payload["site_id"]], parents, verdicts[_submission_key(payload)],
                         readers[_submission_key(payload)]))
        else:
            raise ValueError(f"unknown submission type {kind!r}")
    if comment_rows:
        # One executemany for the batch's comments (the table, not the ORM entity: ORM bulk
        # INSERT splits rows by which values are None). Through the unit of work a self-referential
        # table (replies point at comments) is flushed one INSERT per row.
        db.session.execute(sa.insert(Comment.__table__), comment_rows)
    return added + len(rows) + len(comment_rows)


def _flags(payloads, sites, readers):
    """Store reader flags (one per reader per comment); enough of them send a
    published comment to the Flagged queue, with the reasons for the moderator.

    "One per reader" is per person (`readers`: submission key -> Reader): two readers behind
    one address both count. A flag without a reader (queued before readers existed) is one
    per address hash, as it was."""
    from ..services.audit import audit  # noqa: PLC0415 - avoids an import cycle

    comment_ids = {p["comment_id"] for p in payloads}
    comments = {
        c.id: c for c in db.session.execute(sa.select(Comment).where(Comment.id.in_(comment_ids))).scalars()
    }
    done = set()
    for row in db.session.execute(
        sa.select(CommentFlag.comment_id, CommentFlag.reporter_hash, CommentFlag.reader_id).where(
            CommentFlag.comment_id.in_(comment_ids)
        )
    ):
        done.add((row.comment_id, ("reader", row.reader_id)) if row.reader_id is not None
                 else (row.comment_id, row.reporter_hash))
    added = 0
    for payload in payloads:
        comment = comments.get(payload["comment_id"])
        reader = readers.get(_submission_key(payload))
        address = payload.get("reporter_hash") or ""
        if reader is not None:
            keys = [(payload["comment_id"], ("reader", reader.id))]
        else:
            # Flags are not re-keyed on rotation: the previous-salt hash counts as the same reader.
            keys = [(payload["comment_id"], address), (payload["comment_id"], payload.get("reporter_hash_prev"))]
        if comment is None or comment.site_id != payload["site_id"] or any(k[1] and k in done for k in keys):
            continue  # deleted meanwhile, or this reader flagged it already
        done.add(keys[0])
        db.session.add(CommentFlag(client_id=payload["client_id"], comment_id=comment.id, reason=payload["reason"],
                                   reporter_hash=address, reader_id=reader.id if reader else None))
        added += 1
    db.session.flush()
    for comment in comments.values():
        if comment.status != "approved":
            continue
        counts = dict(
            db.session.execute(
                sa.select(CommentFlag.reason, sa.func.count())
                .where(CommentFlag.comment_id == comment.id)
                .group_by(CommentFlag.reason)
            ).all()
        )
        if sum(counts.values()) >= sites[comment.site_id].flag_threshold:
            reasons = [f"flagged by readers: {r} ×{n}" for r, n in sorted(counts.items())]
            comment.status = "flagged"
            comment.spam_reasons = list(comment.spam_reasons or []) + reasons
            comment.page.bump()
            audit(None, "comment.flagged", comment, before={"status": "approved"},
                  after={"status": "flagged"}, reason="; ".join(reasons))
    return added


def persist_one(payload, notify_after=True):
    """One submission in its own transaction. Raises PoisonSubmission if it is broken."""
    try:
        _write([payload])
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        if _is_transient(exc):
            raise
        raise PoisonSubmission(payload.get("client_id")) from exc
    if notify_after:
        notify.persisted([payload])


# Rows in a batch's first transaction; later ones are sized by the time the last one took.
FIRST_TRANSACTION_ROWS = 50
_rows_per_transaction = {"n": FIRST_TRANSACTION_ROWS}  # learned per process, kept across batches


@metrics.DRAIN_BATCH.time()
def persist_batch(payloads):
    """Persist a batch; returns the payloads that failed on their own (poison).

    The batch is stored in consecutive transactions, each sized to hold the database
    about DRAIN_TRANSACTION_BUDGET seconds: SQLite has one write lock, and a moderator's
    click or a sign-in waits for it (moderation/db_retry.py). A 500-comment batch in one
    transaction held it for seconds under load. Each part is idempotent on client_id, so
    a job replayed after a crash between two parts stores the rest once. After each part
    the worker pauses DRAIN_LOCK_PAUSE seconds (SQLite only) so a waiting writer gets in.
    """
    cfg = current_app.config
    budget = cfg["DRAIN_TRANSACTION_BUDGET"]
    pause = cfg["DRAIN_LOCK_PAUSE"] if db.engine.dialect.name == "sqlite" else 0
    poisoned = []
    start = 0
    while start < len(payloads):
        size = max(1, _rows_per_transaction["n"])
        part = payloads[start:start + size]
        started = time.monotonic()
        poisoned += _persist_part(part)
        elapsed = time.monotonic() - started
        start += len(part)
        if len(part) == size:
            # Aim at the budget; change at most ×2 or ÷2 at a time (one slow part is noise).
            wanted = size * budget / max(elapsed, 1e-3)
            _rows_per_transaction["n"] = int(min(max(wanted, size / 2, 1), size * 2, cfg["DRAIN_BATCH_SIZE"]))
        if pause and start < len(payloads):
            time.sleep(pause)
    return poisoned


def _persist_part(payloads):
    """One transaction for `payloads`; on a non-transient failure, one per submission."""
    try:
        scores = model_scores_first(payloads)
        _write(payloads, scores)
        db.session.commit()
        notify.persisted(payloads)  # one notify job per transaction, never one per item
        return []
    except Exception as exc:
        db.session.rollback()
        if _is_transient(exc):
            raise
        current_app.logger.warning("batch of %d failed (%s); isolating", len(payloads), exc)
    poisoned = []
    for payload in payloads:
        try:
            persist_one(payload, notify_after=False)
        except PoisonSubmission:
            current_app.logger.exception("poison submission %s", payload.get("client_id"))
            poisoned.append(payload)
    notify.persisted([p for p in payloads if p not in poisoned])
    return poisoned
