"""Profile the drain path (persist_batch) in-process with pyinstrument.

    python bench/profile_drain.py [--count 5000] [--batch 500] [--html out.html]

The same payloads as the drain workload (bench/drain.py: 20 articles, 5,000
readers, distinct texts), persisted batch by batch in this process, so the
profile is the worker's own work without RQ or Redis round trips around it.
"""
import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import ours  # noqa: E402
from bench.procs import local_redis  # noqa: E402


def payloads(site_id, count, tag):
    from moderation.validators import validate_comment  # noqa: PLC0415

    now = time.time()
    out = []
    for i in range(count):
        values, errors = validate_comment({
            "site": ours.SITE_KEY, "url": ours.article(100 + i % 20), "title": "Bench article",
            "author": f"Reader {i % 5000}", "body": f"Comment {tag}-{i}: what a day for the tram line, "
            f"number {i * 7919 % 100003} of many.", "client_id": f"p{tag}-{i:07d}", "elapsed_ms": 30000,
        })
        assert not errors, errors
        values.pop("site", None)
        values.update(type="comment", site_id=site_id, reporter_hash=f"{i % 5000:064x}", received_at=now,
                      identity=ours.reader_identity(i))
        out.append(values)
    return out


class _NoProfiler:
    def start(self):
        pass

    stop = start


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--html")
    parser.add_argument("--no-profile", action="store_true",
                        help="no profiler: only the CPU time per submission (for A/B runs)")
    args = parser.parse_args(argv)
    if args.no_profile:
        Profiler = _NoProfiler  # noqa: N806
    else:
        from pyinstrument import Profiler  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        with local_redis(tmp) as server:
            os.environ.setdefault("MODERATION_ENV", "production")
            app = ours.make_app(args.db or f"sqlite:///{tmp}/p.db", server.url, tmp)
            site_id = ours.prepare(app, [])
            from moderation.jobs.persist import persist_batch  # noqa: PLC0415

            with app.test_request_context():
                items = payloads(site_id, args.count, "w")
                warm = payloads(site_id, args.batch, "warm")
            with app.app_context():
                persist_batch(warm)  # pages created, model loaded
                profiler = Profiler()
                started, cpu = time.perf_counter(), time.process_time()
                profiler.start()
                for first in range(0, len(items), args.batch):
                    assert persist_batch(items[first:first + args.batch]) == []
                profiler.stop()
                elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
            print(f"{args.count} submissions in {elapsed:.2f} s: {args.count / elapsed:.0f}/s in one process, "
                  f"CPU {1000 * cpu / args.count:.3f} ms per submission"
                  f"{'' if args.no_profile else ' (profiler included)'}")
            if args.no_profile:
                pass
            elif args.html:
                Path(args.html).write_text(profiler.output_html())
            else:
                print(profiler.output_text(unicode=True, color=False, show_all=False))


if __name__ == "__main__":
    main()
