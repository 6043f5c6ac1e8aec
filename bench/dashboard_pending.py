"""Benchmark (not a test): the Pending queue and the badge counts over a big backlog.

    .venv/bin/python bench/dashboard_pending.py [--count 100000] [--requests 200] [--check]

Builds an app on a throwaway SQLite file (or on DATABASE_URL, which must hold no
comments yet: rows are added, never removed), bulk-inserts COUNT pending comments
over 3 sites and 60 pages, starts a private redis-server, signs an editor in with
Flask's test client and times, in-process (server work plus the test client's
small overhead, no network):

* GET /dashboard/comments?status=pending           (first page)
* GET /dashboard/comments?status=pending&after=ID  (a keyset page 90% deep)
* GET /dashboard/counts.json                       (as polled: mostly the 3 s Redis cache)
* GET /dashboard/counts.json, cache emptied first  (the COUNT queries themselves: the queue
  version bumped first, as after every decision)

It prints p50/p95/max in ms and whether each p95 meets the goal (100 ms);
with --check it exits 1 if one does not. --limited signs in an editor limited
to two of the three sites (the site_id IN (...) path).
"""
import argparse
import hashlib
import os
import socket
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from moderation import create_app  # noqa: E402
from moderation.auth import create_user  # noqa: E402
from moderation.embedded_redis import EmbeddedRedis  # noqa: E402
from moderation.extensions import db  # noqa: E402
from moderation.models import Comment, Page, Site  # noqa: E402
from moderation.models.sites import url_hash  # noqa: E402
from moderation.services import queue_version  # noqa: E402

GOAL_MS = 100.0
CHUNK = 10_000
SITES = 3
PAGES_PER_SITE = 20
READERS = 5_000
PASSWORD = "benchmark password, not secret"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seed(count):
    """Sites, pages and `count` pending comments, inserted in chunks (executemany)."""
    if db.session.execute(sa.select(sa.func.count()).select_from(Comment)).scalar_one():
        raise SystemExit("the database already holds comments: point DATABASE_URL at an empty one")
    sites = [Site(name=f"Bench site {i}", allowed_origins=[f"https://site{i}.example"]) for i in range(SITES)]
    db.session.add_all(sites)
    db.session.flush()
    pages = []
    for site in sites:
        for n in range(PAGES_PER_SITE):
            url = f"https://{site.name.split()[-1]}.example/article-{n}"
            pages.append(Page(site_id=site.id, url=url, url_hash=url_hash(url), title=f"Article {n}"))
    db.session.add_all(pages)
    db.session.commit()
    page_refs = [(p.site_id, p.id) for p in pages]
    start = datetime.now(timezone.utc) - timedelta(days=30)
    step = timedelta(days=30) / count
    for first in range(0, count, CHUNK):
        rows = []
        for i in range(first, min(first + CHUNK, count)):
            site_id, page_id = page_refs[i % len(page_refs)]
            reader = hashlib.sha256(str(i % READERS).encode()).hexdigest()
            rows.append({
                "client_id": f"bench-{i}", "site_id": site_id, "page_id": page_id,
                "author": f"Reader {i % READERS}", "email": None,
                "body_raw": f"Comment number {i}: a few words about the article.",
                "body_html": f"<p>Comment number {i}: a few words about the article.</p>",
                "status": "pending", "spam_score": None, "spam_reasons": [], "reporter_hash": reader,
                "created_at": start + step * i,
            })
        db.session.execute(sa.insert(Comment), rows)
        db.session.commit()
    return [site.id for site in sites]


def sign_in(app, client, site_ids):
    with app.app_context():
        user, _ = create_user("bench-editor@news.example", "editor", PASSWORD)
        user.sites = [db.session.get(Site, sid) for sid in site_ids]
        db.session.commit()
    page = client.get("/dashboard/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post("/dashboard/login", data={
        "email": "bench-editor@news.example", "password": PASSWORD, "csrf_token": token})
    if response.status_code != 302:
        raise SystemExit(f"sign-in failed: {response.status_code}")


def measure(client, path, requests, before=None, warmup=5):
    """Milliseconds per request (after a few warm-up requests)."""
    timings = []
    for n in range(warmup + requests):
        if before:
            before()
        started = time.perf_counter()
        response = client.get(path)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"GET {path}: {response.status_code}")
        if n >= warmup:
            timings.append(elapsed)
    return timings


def summary(timings):
    ordered = sorted(timings)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * len(ordered)) - 1)]
    return statistics.median(ordered), p95, ordered[-1]


def run(args, tmp):
    redis_server = EmbeddedRedis(Path(tmp) / "redis", port=free_port())
    redis_server.start()
    try:
        app = create_app({
            "ENV_NAME": "development",
            "DATA_DIR": str(Path(tmp) / "instance"),
            "REDIS_URL": redis_server.url,
            "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.db",
        })
        started = time.perf_counter()
        with app.app_context():
            upgrade()
            site_ids = seed(args.count)
            dialect = db.engine.dialect.name
            deep = db.session.execute(
                sa.select(Comment.id).where(Comment.status == "pending").order_by(Comment.id)
                .offset(int(args.count * 0.9)).limit(1)
            ).scalar_one()
            db.session.remove()
        print(f"{args.count:,} pending comments on {dialect} ({SITES} sites, {SITES * PAGES_PER_SITE} pages): "
              f"seeded in {time.perf_counter() - started:.1f} s")
        client = app.test_client()
        limited = site_ids[:2] if args.limited else []
        sign_in(app, client, limited)
        cases = [
            ("comments, first page", "/dashboard/comments?status=pending", None),
            ("comments, 90% deep (after=)", f"/dashboard/comments?status=pending&after={deep}", None),
            ("counts.json", "/dashboard/counts.json", None),
            ("counts.json, cache emptied", "/dashboard/counts.json",
             # What a decision does: bump the version the cached counts are keyed by.
             lambda: app.broker.redis.incr(queue_version.VERSION_KEY)),
        ]
        print(f"editor: {'sites ' + ','.join(map(str, limited)) if limited else 'all sites'}; "
              f"{args.requests} requests each, in-process time")
        missed = []
        for label, path, before in cases:
            p50, p95, worst = summary(measure(client, path, args.requests, before))
            verdict = "ok" if p95 <= GOAL_MS else "MISSED"
            if p95 > GOAL_MS:
                missed.append(label)
            print(f"  {label:<30} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   max {worst:7.1f} ms   {verdict}")
        print(f"goal p95 <= {GOAL_MS:.0f} ms: " + ("met" if not missed else "missed by " + ", ".join(missed)))
        return 1 if missed and args.check else 0
    finally:
        redis_server.stop()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000, help="pending comments (default 100000)")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per case (default 200)")
    parser.add_argument("--limited", action="store_true", help="an editor limited to two of the three sites")
    parser.add_argument("--check", action="store_true", help="exit 1 if a p95 misses the goal")
    args = parser.parse_args(argv)
    if args.count < 100:
        parser.error("--count must be at least 100")
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp:
        return run(args, tmp)


if __name__ == "__main__":
    sys.exit(main())
