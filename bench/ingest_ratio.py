"""Only workload 1 at one concurrency: our POST next to bare Flask, interleaved rounds.

    python bench/ingest_ratio.py [--connections 16] [--duration 5] [--rounds 3]

A quick check of the ingest-vs-ceiling ratio while working on the POST path; the
suite (bench/suite.py) remains the reference run.
"""
import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import ours, wrk  # noqa: E402
from bench.procs import Procs, local_redis  # noqa: E402
from bench.suite import HEADERS, WEB_WORKERS, comment_body, post_once, report_body, start_gunicorn  # noqa: E402


class _Run:  # what suite.start_gunicorn needs of a run
    def __init__(self, procs):
        self.procs = procs


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        with local_redis(tmp) as server, Procs(Path(tmp) / "logs") as procs:
            db_url = f"sqlite:///{tmp}/ours.db"
            app = ours.make_app(db_url, server.url, tmp)
            ours.prepare(app, [])
            base, _web = ours.start_web(procs, ours.environment(db_url, server.url, tmp), WEB_WORKERS)
            bare, _ = start_gunicorn(_Run(procs), "bare-flask", "bench.bare_flask:app", {})
            targets = {
                "bare Flask": (bare, wrk.post_script("/api/v1/comments", comment_body("bench", ours.article(3)),
                                                     "b", HEADERS)),
                "ours, comments": (base, wrk.post_script(
                    "/api/v1/comments", comment_body(ours.SITE_KEY, ours.article(3)), "c", HEADERS)),
                "ours, reports": (base, wrk.post_script(
                    "/api/v1/reports", report_body(ours.SITE_KEY, ours.article(3)), "r", HEADERS)),
            }
            post_once(base + "/api/v1/comments", comment_body(ours.SITE_KEY, ours.article(3)), HEADERS)
            post_once(bare + "/api/v1/comments", comment_body("bench", ours.article(3)), HEADERS)
            rps = {name: [] for name in targets}
            for n in range(args.rounds):
                for name, (target, script) in targets.items():
                    result = wrk.run(target, script, args.connections, args.duration)
                    rps[name].append(result.rps)
                    print(f"round {n + 1}: {name:<16} {result.rps:8.0f} rps  p99 {result.p99_ms:6.1f} ms", flush=True)
            ceiling = statistics.median(rps["bare Flask"])
            for name in ("ours, comments", "ours, reports"):
                ratio = statistics.median(rps[name]) / ceiling
                print(f"{name}: median {statistics.median(rps[name]):.0f} rps = {ratio:.0%} of bare Flask "
                      f"({ceiling:.0f} rps)")


if __name__ == "__main__":
    main()
