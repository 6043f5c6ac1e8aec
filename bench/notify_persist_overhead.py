"""Benchmark (not a test): what notifications add to the worker's persist path.

    .venv/bin/python bench/notify_persist_overhead.py [--batches 10] [--size 500]

Builds an app on a throwaway SQLite file and a private redis-server, then times
`persist_batch` over BATCHES batches of SIZE submissions (half reports on a few
spots, half comments on a pre-moderated site, so every batch has new clusters and
pending comments) and, separately, the post-commit `notify.events.persisted` call
alone (two indexed queries and at most two enqueues per batch). Prints ms per batch.
"""
import argparse
import socket
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402

from moderation import create_app  # noqa: E402
from moderation.embedded_redis import EmbeddedRedis  # noqa: E402
from moderation.extensions import db  # noqa: E402
from moderation.jobs import persist  # noqa: E402
from moderation.models import Site  # noqa: E402
from moderation.notify import events  # noqa: E402


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def batch(site_id, size, n):
    url = f"https://news.example/article-{n}"
    out = []
    for i in range(size):
        base = {"client_id": str(uuid.uuid4()), "site_id": site_id, "url": url, "received_at": time.time()}
        if i % 2:
            out.append(dict(base, type="report", exact=f"word{i % 7}", prefix="a ", suffix=" b", kind="typo"))
        else:
            out.append(dict(base, type="comment", author="Reader", body=f"comment {n}-{i} on the tram line"))
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--size", type=int, default=500)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    server = EmbeddedRedis(tmp / "redis", port=free_port())
    server.start()
    try:
        app = create_app({"ENV_NAME": "testing", "DATA_DIR": str(tmp), "REDIS_URL": server.url,
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db"})
        with app.app_context():
            upgrade()
            site = Site(key="bench", name="Bench", allowed_origins=["https://news.example"], moderation_mode="pre")
            db.session.add(site)
            db.session.commit()
            whole, notify_only = [], []
            for n in range(args.batches):
                payloads = batch(site.id, args.size, n)
                started = time.perf_counter()
                assert persist.persist_batch(payloads) == []
                whole.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                events.persisted(payloads)  # the same call again, timed alone
                notify_only.append((time.perf_counter() - started) * 1000)
            jobs = [job.func_name for job in app.broker.queue.get_jobs()]
        print(f"persist_batch of {args.size} (notify included): median {statistics.median(whole):.1f} ms")
        print(f"notify.events.persisted alone:            median {statistics.median(notify_only):.1f} ms")
        print(f"dispatch jobs queued: {sum(j.endswith('dispatch') for j in jobs)} for {args.batches} batches "
              f"(+ the same number again from the timed repeat)")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
