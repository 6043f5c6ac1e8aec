"""Moderators during a comment burst (issue 13): action latency and answers >= 500.

    python bench/moderator_burst.py [--comments 4000] [--moderators 6] [--actions 200] [--workers 1] [--db URL]

The production way on loopback: gunicorn -w 4 wsgi:app, a redis-server, `moderation
worker` process(es), SQLite (or --db / TEST_DATABASE_URL, e.g. under
tools/with_postgres.sh). A backlog of --comments comment submissions (the same Lua
ingest as the web process, bench/drain.py) is handed to the workers; from the moment
the first of them is stored, --moderators threads approve, reject and spam --actions
pending comments in all through the moderation API over HTTP. Prints every action's
latency (p50, p99, max), the number of answers >= 500 (the goal: 0), how many actions
ran while the burst was being stored, and the drain rate; `--json` writes them.
Before issue 13: 155 of 200 actions answered 503 on SQLite.
"""
import argparse
import json
import os
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script too

from bench import drain, ours  # noqa: E402
from bench.procs import Procs, local_redis  # noqa: E402

ACTIONS = ("approve", "reject", "spam")


def seed_targets(app, site_id, count):
    """`count` pending comments to decide, and one token per moderator; returns (ids, tokens)."""
    import sqlalchemy as sa  # noqa: PLC0415

    from moderation.extensions import db  # noqa: PLC0415
    from moderation.models import Comment, Page  # noqa: PLC0415
    from moderation.models.sites import url_hash  # noqa: PLC0415

    with app.app_context():
        url = ours.article(900)
        page = Page(site_id=site_id, url=url, url_hash=url_hash(url), title="Bench article", comments_version=1)
        db.session.add(page)
        db.session.flush()
        db.session.execute(sa.insert(Comment), [{
            "client_id": f"target-{i}", "site_id": site_id, "page_id": page.id, "author": f"Reader {i}",
            "body_raw": f"Pending comment {i}", "body_html": f"<p>Pending comment {i}</p>", "status": "pending",
            "spam_score": 0.1, "spam_reasons": [], "reporter_hash": f"{i:064x}",
        } for i in range(count)])
        db.session.commit()
        ids = db.session.execute(
            sa.select(Comment.id).where(Comment.client_id.like("target-%")).order_by(Comment.id)).scalars().all()
        db.session.remove()
    return ids


def issue_tokens(app, n):
    from moderation.auth import create_user  # noqa: PLC0415
    from moderation.extensions import db  # noqa: PLC0415
    from moderation.models import ApiToken  # noqa: PLC0415

    tokens = []
    with app.app_context():
        for i in range(n):
            user, _ = create_user(f"moderator-{i}-{time.time_ns()}@news.example", "moderator")
            row, token = ApiToken.issue(user)
            db.session.add(row)
            tokens.append(token)
        db.session.commit()
        db.session.remove()
    return tokens


def act(base, token, comment_id, action):
    """One moderation action over HTTP; returns (status, seconds)."""
    body = b"" if action == "approve" else json.dumps({"reason": "bench"}).encode()
    headers = {"Authorization": "Bearer " + token}
    if body:
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(f"{base}/api/v1/moderation/comments/{comment_id}/{action}", data=body,
                                 method="POST", headers=headers)
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            resp.read()
            status = resp.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    return status, time.perf_counter() - started


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def measure(db_url, comments, moderators, actions, workers, tmp):
    tmp = Path(tmp)
    with local_redis(tmp) as redis_server, Procs(tmp / "logs") as procs:
        data_dir = tmp / "data"
        data_dir.mkdir(exist_ok=True)
        app = ours.make_app(db_url, redis_server.url, data_dir)
        site_id = ours.prepare(app, [])
        ids = seed_targets(app, site_id, actions)
        tokens = issue_tokens(app, moderators)
        env = ours.environment(db_url, redis_server.url, data_dir)
        base, _web = ours.start_web(procs, env, 4, name="burst-web")
        for n in range(workers):
            procs.start(f"burst-worker-{n}", [sys.executable, "-m", "moderation", "worker"], env=env)
        time.sleep(3)  # let the workers import, connect and register
        queued = drain.fill_backlog(app, site_id, comments, f"burst{time.time_ns()}")
        if queued < comments:
            raise RuntimeError(f"only {queued} of {comments} submissions queued")
        from moderation.broker import INBOX  # noqa: PLC0415

        before = ours.comment_count(app)
        started = time.perf_counter()
        app.broker.redis.rename(drain.STAGING, INBOX)
        for _ in range(workers):
            app.broker.request_drain()
        while ours.comment_count(app) == before:
            time.sleep(0.02)

        results, lock = [], threading.Lock()
        storing = threading.Event()
        storing.set()

        def moderator(token, mine):
            for n, comment_id in enumerate(mine):
                status, seconds = act(base, token, comment_id, ACTIONS[n % 3])
                with lock:
                    results.append((status, seconds, storing.is_set()))

        share = -(-actions // moderators)
        threads = [threading.Thread(target=moderator, args=(tokens[i], ids[i * share:(i + 1) * share]))
                   for i in range(moderators)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 900
        while ours.comment_count(app) - before < comments:
            if time.monotonic() > deadline:
                raise RuntimeError("the burst was not stored within 900 s")
            time.sleep(0.05)
        burst_s = time.perf_counter() - started
        storing.clear()
        for thread in threads:
            thread.join()
    latencies = [s for _, s, _ in results]
    return {
        "comments": comments, "moderators": moderators, "actions": len(results), "workers": workers,
        "server_errors": sum(1 for status, _, _ in results if status >= 500),
        "not_ok": sum(1 for status, _, _ in results if status != 200),
        "during_burst": sum(1 for _, _, during in results if during),
        "p50_ms": percentile(latencies, 0.5) * 1000, "p99_ms": percentile(latencies, 0.99) * 1000,
        "max_ms": max(latencies) * 1000, "burst_s": burst_s, "drain_per_s": comments / burst_s,
    }


def summary(r):
    return (f"  moderator actions during a burst of {r['comments']:,} comments ({r['moderators']} moderators, "
            f"{r['actions']} actions, {r['during_burst']} while storing): p50 {r['p50_ms']:.1f} ms  "
            f"p99 {r['p99_ms']:.1f} ms  max {r['max_ms']:.1f} ms  >=500: {r['server_errors']}  "
            f"not 200: {r['not_ok']}  burst stored in {r['burst_s']:.1f} s ({r['drain_per_s']:.0f}/s)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--comments", type=int, default=4000)
    parser.add_argument("--moderators", type=int, default=6)
    parser.add_argument("--actions", type=int, default=200)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--db", default=None, help="database URL (default: TEST_DATABASE_URL, else SQLite)")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-burst-") as tmp:
        db_url = args.db or os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp}/burst.db"
        if db_url.startswith("postgresql://"):
            db_url = "postgresql+psycopg://" + db_url[len("postgresql://"):]
        result = measure(db_url, args.comments, args.moderators, args.actions, args.workers, tmp)
    result["database"] = db_url.split(":", 1)[0].split("+")[0]
    print(summary(result), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(result))
    return 1 if result["server_errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
