"""Screening a batch at once decides exactly what screening one by one would, in a few queries."""
import random
import re
import time
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from moderation.extensions import db
from moderation.jobs import persist as persist_module
from moderation.jobs.persist import persist_batch
from moderation.models import BlockedCommenter, Comment, Page, Site
from moderation.models.sites import url_hash
from moderation.privacy import hash_value

from support.payloads import ORIGIN, new_client_id
from support.database import recorded_statements

SETTINGS = {"velocity_count": 2, "surge_comments": 12, "surge_min_comments": 4, "surge_spam_share": 0.5,
            "trusted_after": 2, "banned_words": ["casino"], "suspect_words": ["idiot"]}
READERS = [f"{n:064x}" for n in range(1, 6)]


def make_sites(app):
    with app.app_context():
        sites = [Site(key=f"batch-{n}", name=f"Batch {n}", allowed_origins=[ORIGIN], moderation_mode="pre",
                      language="en", settings=dict(SETTINGS)) for n in range(2)]
        db.session.add_all(sites)
        db.session.flush()
        long_ago = datetime.now(timezone.utc) - timedelta(days=3)
        for site in sites:
            old = Page(site_id=site.id, url=f"{ORIGIN}/old", url_hash=url_hash(f"{ORIGIN}/old"))
            db.session.add(old)
            db.session.flush()
            # Reader 1 was approved twice long ago (trusted); reader 5 is blocked by e-mail.
            for n in range(2):
                db.session.add(Comment(client_id=new_client_id(), site_id=site.id, page_id=old.id, author="Old",
                                       body_raw="old", body_html="<p>old</p>", status="approved",
                                       reporter_hash=READERS[0], spam_reasons=[], created_at=long_ago))
            db.session.add(BlockedCommenter(site_id=site.id, kind="email", value_hash=hash_value("bad@x.example")))
        db.session.commit()
        return [site.id for site in sites]


def payloads(site_id, seed=7, readers=False):
    """`readers`: each address is one anonymous reader too (as queued by the reader API)."""
    rng = random.Random(seed)
    bodies = ["Great piece.", "Visit www.cheap.example now", "Same words everywhere, on every article of the site", "casino bonus",
              "You idiot", "Thanks for the tram story", "Same words everywhere, on every article of the site"]
    out = []
    for i in range(60):
        reader = rng.choice(READERS)
        out.append({
            "type": "comment", "site_id": site_id, "url": f"{ORIGIN}/a/{rng.randrange(4)}", "title": "A",
            "author": f"Reader {READERS.index(reader)}", "body": rng.choice(bodies) + ("" if i % 3 else f" #{i}"),
            "email": "bad@x.example" if reader == READERS[4] else None, "client_id": new_client_id(),
            "reporter_hash": reader, "received_at": time.time(), "elapsed_ms": 1000 if i % 11 == 0 else 30000,
            "honeypot": "x" if i == 17 else "",
        })
        if readers:
            out[-1]["identity"] = {"sso": None, "anon_key": f"anon:s{site_id}-r{READERS.index(reader)}"}
    return out


def decisions(app, client_ids):
    with app.app_context():
        rows = {c.client_id: c for c in db.session.execute(
            sa.select(Comment).where(Comment.client_id.in_(client_ids))).scalars()}
        # Surge reasons name the minute it ends; the two runs may straddle a minute.
        return [(rows[c].status, [re.sub(r"\d\d:\d\d", "HH:MM", r) for r in rows[c].spam_reasons or []])
                for c in client_ids]


def test_one_batch_decides_like_one_by_one(app, redis_server):
    batch_site, single_site = make_sites(app)
    together, alone = payloads(batch_site), payloads(single_site)
    with app.app_context():
        assert persist_batch(together) == []
        for payload in alone:
            assert persist_batch([payload]) == []
    got = decisions(app, [p["client_id"] for p in together])
    expected = decisions(app, [p["client_id"] for p in alone])
    assert got == expected
    # The batch really exercised the steps that look at earlier comments of the same batch.
    reasons = " ".join(r for _, rs in got for r in rs)
    for fragment in ("comments within", "the same text from this reader", "bot wave", "surge:", "blocked commenter (email)",
                     "trusted commenter", "banned word", "suspect word", "honeypot", "a link from"):
        assert fragment in reasons, fragment


def test_one_batch_of_readers_decides_like_one_by_one(app, redis_server):
    """The reader-keyed lookups (history, velocity, repeats, bans) keep the batch equivalence."""
    batch_site, single_site = make_sites(app)
    together, alone = payloads(batch_site, readers=True), payloads(single_site, readers=True)
    with app.app_context():
        assert persist_batch(together) == []
        for payload in alone:
            assert persist_batch([payload]) == []
        assert db.session.execute(sa.select(sa.func.count()).select_from(Comment).where(
            Comment.reader_id.is_(None), Comment.author != "Old")).scalar_one() == 0
    got = decisions(app, [p["client_id"] for p in together])
    assert got == decisions(app, [p["client_id"] for p in alone])
    reasons = " ".join(r for _, rs in got for r in rs)
    for fragment in ("comments within", "the same text from this reader", "bot wave", "blocked commenter (email)"):
        assert fragment in reasons, fragment


def test_screening_queries_do_not_grow_with_the_batch(app, redis_server, monkeypatch):
    # One transaction for the whole batch: the time-bounded split (persist.py) adds the
    # batch's queries once per transaction, however long a loaded machine takes.
    app.config["DRAIN_TRANSACTION_BUDGET"] = 3600
    monkeypatch.setitem(persist_module._rows_per_transaction, "n", 10_000)
    site_id = make_sites(app)[0]
    counts = []
    with app.app_context():
        for size, seed in ((10, 1), (200, 2)):
            batch = payloads(site_id, seed)[:size] if size <= 60 else None
            if batch is None:
                batch = [dict(p, client_id=new_client_id()) for _ in range(4) for p in payloads(site_id, seed)][:size]
            with recorded_statements(app) as seen:
                assert persist_batch(batch) == []
            counts.append(len(seen))
    small, large = counts
    assert large <= small + 2, counts  # per batch, not per comment (SQLite may split a big INSERT)


def test_screening_never_reads_every_comment_of_the_site(app, redis_server):
    """Each of the batch's lookups seeks by reader, address, text, e-mail or article: none is
    answered by walking a site's comments (site_id alone), which grows with the table. SQLite,
    without statistics, picked ix_comment_body_hash (site_id, ...) for the reader velocity."""
    site_id = make_sites(app)[0]
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            return  # the plans below are SQLite's (EXPLAIN QUERY PLAN)
        engine = db.engine
        assert persist_batch(payloads(site_id, 3, readers=True)) == []  # readers and history exist
    seen = []

    def record(_conn, _cursor, statement, parameters, *_args):
        if statement.lstrip().upper().startswith("SELECT") and " comment" in statement:
            seen.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        with app.app_context():
            assert persist_batch(payloads(site_id, 4, readers=True)) == []
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert seen
    with app.app_context():
        for statement, parameters in seen:
            raw = db.session.connection().connection.driver_connection
            plan = " | ".join(row[-1] for row in raw.execute("EXPLAIN QUERY PLAN " + statement, parameters))
            assert "(site_id=?)" not in plan, (statement, plan)
