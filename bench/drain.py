"""Workload 3: a backlog of queued comment submissions drained by worker processes.

The backlog is built with the same Lua ingest script the web process runs, from
payloads the API's own validator produced, so the workers see exactly what a burst
of readers would have queued. Timing starts when the drain jobs are requested and
stops when the database holds every submission.
"""
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script too

from bench import ours  # noqa: E402

# The backlog is built here, out of the workers' sight (their periodic check would
# start draining a big backlog while it is still being written), then renamed to
# the inbox in one step when the clock starts.
STAGING = "bench:drain-backlog"


def fill_backlog(app, site_id, count, tag):
    """Stage `count` comment submissions (20 articles, 5,000 readers, distinct texts)."""
    from moderation.broker import DRAIN_FLAG, submission_key  # noqa: PLC0415
    from moderation.validators import validate_comment  # noqa: PLC0415
    import json  # noqa: PLC0415

    broker = app.broker
    broker.redis.delete(STAGING)
    now = time.time()
    with app.test_request_context():
        pipe = broker.redis.pipeline(transaction=False)
        for i in range(count):
            values, errors = validate_comment({
                "site": ours.SITE_KEY, "url": ours.article(100 + i % 20), "title": "Bench article",
                "author": f"Reader {i % 5000}", "body": f"Comment {tag}-{i}: what a day for the tram line, "
                f"number {i * 7919 % 100003} of many.", "client_id": f"d{tag}-{i:07d}", "elapsed_ms": 30000,
            })
            if errors:
                raise RuntimeError(f"backlog payload rejected: {errors}")
            values.pop("site", None)
            values.update(type="comment", site_id=site_id, reporter_hash=f"{i % 5000:064x}", received_at=now,
                          identity=ours.reader_identity(i))
            body = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
            broker._ingest(keys=[submission_key(site_id, values["client_id"]), STAGING, DRAIN_FLAG],
                           args=[body, broker.submission_ttl, 60_000], client=pipe)
            if i % 2000 == 1999:
                pipe.execute()
        pipe.execute()
    return broker.redis.llen(STAGING)


def run(app, site_id, count, workers, tag, timeout=900):
    """Returns submissions/s for `count` queued submissions and `workers` running workers."""
    before = ours.comment_count(app)
    queued = fill_backlog(app, site_id, count, tag)
    if queued < count:
        raise RuntimeError(f"only {queued} of {count} submissions queued")
    from moderation.broker import INBOX  # noqa: PLC0415

    if app.broker.inbox_length():
        raise RuntimeError("the inbox is not empty before the drain")
    started = time.perf_counter()
    app.broker.redis.rename(STAGING, INBOX)
    for _ in range(workers):
        app.broker.request_drain()  # one drain job per worker: each claims its own batches
    deadline = time.monotonic() + timeout
    while True:
        done = ours.comment_count(app) - before
        if done >= count:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"drain: {done} of {count} persisted after {timeout} s")
        time.sleep(0.1)
    return count / (time.perf_counter() - started)


def main(argv=None):
    """Only this workload: `python bench/drain.py [--sizes 10000 50000] [--workers 2] [--db URL]`."""
    import argparse  # noqa: PLC0415
    import tempfile  # noqa: PLC0415

    from bench.procs import Procs, local_redis, peak_rss_mb  # noqa: PLC0415

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-drain-") as tmp:
        with local_redis(tmp) as server, Procs(Path(tmp) / "logs") as procs:
            db_url = args.db or f"sqlite:///{tmp}/drain.db"
            app = ours.make_app(db_url, server.url, tmp)
            site_id = ours.prepare(app, [])
            workers = ours.start_workers(procs, ours.environment(db_url, server.url, tmp), args.workers)
            time.sleep(3)  # let them import, connect and register
            for size in args.sizes:
                rate = run(app, site_id, size, args.workers, f"x{size}")
                print(f"drain {size:>6,} submissions, {args.workers} workers: {rate:8.0f} submissions/s", flush=True)
            print("queue worker peak RSS (MB):", [peak_rss_mb(w.pid) for w in workers])


if __name__ == "__main__":
    main()
