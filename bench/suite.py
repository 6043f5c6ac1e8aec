"""The throughput suite (issues 6 and 19): our service next to Isso 0.14 and a bare Flask endpoint.

    python bench/suite.py [--quick] [--check] [--no-postgres] [--no-write]

Starts everything on 127.0.0.1 in a temp dir — a redis-server on a loopback port,
our service the production way (gunicorn -w 4 wsgi:app, `moderation worker`s, SQLite,
then PostgreSQL via tools/with_postgres.sh), Isso (gunicorn -w 4, guard off, moderation
on) and a bare Flask JSON endpoint under the same gunicorn settings — loads each with
wrk (same connections and duration), prints a table with ratios and every goal of
issue 19 (ingest with and without a queue worker draining, drain and its growth with the
backlog, live readers through nginx, Redis WAIT's cost, every widget bundle, the machine's
load) and writes docs/benchmarks.md and docs/benchmarks.png. --check exits 1 when a goal
is missed.
Load stops by itself; every process started here is stopped at the end.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import drain, isso_ref, ours, report, widget, wrk  # noqa: E402
from bench.procs import Procs, free_port, gunicorn_worker_peak_mb, peak_rss_mb, wait_http  # noqa: E402

WEB_WORKERS = 4
QUEUE_WORKERS = 2
CONNECTIONS = (1, 16, 64)
LIST_CONNECTIONS = 16
# Issue 19: the same POST load with one queue worker draining on the same cores, at this many connections.
WITH_WORKER_CONNECTIONS = 16
WITH_WORKER = report.WITH_WORKER  # the with-worker rows' names: report.py judges them
BIG, SMALL = 3400, 100
LAST = ROOT / ".bench" / "last-run.json"


def settings(quick):
    if quick:
        return dict(duration=3, drain_sizes=(500, 2000), dashboard=(5000, 30), rq_simple=500, rq_fork=20,
                    widget_trials=3, burst=(1000, 60), redis_wait=dict(connections="1,16", duration=2, rounds=1))
    # Drain: the goal is judged at 50,000; 10,000 → 100,000 is the growth with the backlog (issue 19).
    return dict(duration=10, drain_sizes=(10_000, 50_000, 100_000), dashboard=(100_000, 200), rq_simple=5000,
                rq_fork=200, widget_trials=7, burst=(4000, 200),
                redis_wait=dict(connections="1,16", duration=5, rounds=3))


def comment_body(site, url):
    return json.dumps({"site": site, "url": url, "title": "Bench article", "author": "Анна",
                       "body": "Наконец-то! Ждём с нетерпением новую трамвайную линию.",
                       "client_id": wrk.CID}, ensure_ascii=False)


def report_body(site, url):
    return json.dumps({"site": site, "url": url, "exact": "обьявил", "prefix": "Вчера мэр ",
                       "suffix": " о запуске", "suggestion": "объявил", "client_id": wrk.CID},
                      ensure_ascii=False)


HEADERS = {"Origin": ours.ORIGIN}


def post_once(url, body, headers=None):
    """One real request before the load: the target must accept the body wrk will send."""
    data = body.replace(wrk.CID, f"preflight-{time.time_ns()}").encode()
    req = urllib.request.Request(url, data=data, method="POST",
                                 headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(req, timeout=10) as resp:
        if resp.status not in (201, 202):
            raise RuntimeError(f"{url}: {resp.status}")


def etag_of(url):
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.headers["ETag"]


class Run:
    """Shared state of one run: where things are, what was measured."""

    def __init__(self, args, tmp):
        self.args = args
        self.cfg = settings(args.quick)
        self.tmp = Path(tmp)
        self.procs = Procs(self.tmp / "logs")
        self.tag = str(int(time.time()))
        self.results = {"ingest": {}, "list": {}, "drain": {}, "rss": {}, "refs": {}}

    def load(self, name, base, script, connections):
        result = wrk.run(base, script, connections, self.cfg["duration"])
        self.results["ingest" if name.startswith("POST") else "list"].setdefault(name, {})[str(connections)] = \
            result.as_dict()
        print(f"  {name:<44} c={connections:<3} {result.rps:9.0f} rps  p99 {result.p99_ms:7.1f} ms"
              f"  errors {result.errors}", flush=True)
        return result


def start_redis(run):
    from moderation.embedded_redis import EmbeddedRedis  # noqa: PLC0415

    server = EmbeddedRedis(run.tmp / "redis", port=free_port())
    server.start()
    return server


def start_ours(run, db_url, redis_url, label):
    data_dir = run.tmp / f"data-{label}"
    data_dir.mkdir(exist_ok=True)
    app = ours.make_app(db_url, redis_url, data_dir)
    site_id = ours.prepare(app, [(ours.article(1), BIG), (ours.article(2), SMALL)])
    env = ours.environment(db_url, redis_url, data_dir)
    base, web = ours.start_web(run.procs, env, WEB_WORKERS, name=f"ours-web-{label}")
    return app, site_id, env, base, web


def our_post_scripts(run, label, base):
    """wrk scripts for our POST /comments and /reports, each after one real request was accepted."""
    scripts = []
    for kind, body in (("comments", comment_body), ("reports", report_body)):
        payload = body(ours.SITE_KEY, ours.article(3))
        post_once(f"{base}/api/v1/{kind}", payload, HEADERS)
        scripts.append(wrk.post_script(f"/api/v1/{kind}", payload, f"{kind[0]}{run.tag}{label}", HEADERS))
    return scripts


def ours_workloads(run, label, app, site_id, env, base, web, connections):
    """Ingest, list and drain of our service on one database; results under `label`."""
    post_c, post_r = our_post_scripts(run, label, base)
    for c in connections:
        run.load(f"POST comments, ours ({label})", base, post_c, c)
        run.load(f"POST reports, ours ({label})", base, post_r, c)
        if c == WITH_WORKER_CONNECTIONS:
            with_worker_loads(run, label, app, env, base, post_c, post_r)
    list_workloads(run, label, base)
    run.results["rss"][f"web worker, ours ({label})"] = gunicorn_worker_peak_mb(web)
    drain_workloads(run, label, app, site_id, env)


def clear_queue(app):
    """An empty inbox, no drain requested, no queued drain job, no claimed batch left behind."""
    from moderation.broker import DRAIN_FLAG, INBOX  # noqa: PLC0415

    app.broker.redis.delete(INBOX, DRAIN_FLAG, *app.broker.claim_keys())
    app.broker.queue.empty()


def wait_workers(app, count, timeout=60):
    """Until `count` RQ workers listen on the drain queue (they import, connect and register)."""
    from rq import Worker  # noqa: PLC0415

    deadline = time.monotonic() + timeout
    while Worker.count(connection=app.broker.redis, queue=app.broker.queue) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"fewer than {count} queue workers registered after {timeout} s")
        time.sleep(0.1)


def with_worker_loads(run, label, app, env, base, post_c, post_r):
    """The same POST loads with one `moderation worker` draining on the same cores (issue 19:
    what a 2-core box does in production). The inbox is emptied first, so the worker drains what
    this load queues; afterwards it is emptied again before the worker stops (a warm shutdown then
    ends with the batch in hand) and nothing of this case is left for the drain workload."""
    clear_queue(app)
    [worker] = ours.start_workers(run.procs, env, 1)
    try:
        wait_workers(app, 1)
        run.load(f"POST comments, ours ({label}){WITH_WORKER}", base, post_c, WITH_WORKER_CONNECTIONS)
        run.load(f"POST reports, ours ({label}){WITH_WORKER}", base, post_r, WITH_WORKER_CONNECTIONS)
        from moderation.broker import INBOX  # noqa: PLC0415

        app.broker.redis.delete(INBOX)
    finally:
        run.procs.stop(worker)
    clear_queue(app)


def drain_workloads(run, label, app, site_id, env):
    """Each backlog size drained by QUEUE_WORKERS `moderation worker` processes (then stopped)."""
    # The ingest runs filled the inbox with no worker running; the drain starts from a clean one.
    clear_queue(app)
    workers = ours.start_workers(run.procs, env, QUEUE_WORKERS)
    wait_workers(app, QUEUE_WORKERS)
    for size in run.cfg["drain_sizes"]:
        rate = drain.run(app, site_id, size, QUEUE_WORKERS, f"{run.tag}{label}{size}")
        run.results["drain"].setdefault(label, {})[str(size)] = rate
        print(f"  drain {size:>6,} submissions, {QUEUE_WORKERS} workers ({label}): {rate:8.0f} submissions/s",
              flush=True)
    run.results["rss"][f"queue worker, ours ({label})"] = max(
        filter(None, (peak_rss_mb(w.pid) for w in workers)), default=None)
    for w in workers:
        run.procs.stop(w)


def list_workloads(run, label, base):
    for n, count in ((1, BIG), (2, SMALL)):
        path = f"/api/v1/comments?site={ours.SITE_KEY}&url={ours.article(n)}"
        tag = etag_of(base + path)
        run.load(f"GET list of {count}, ours ({label})", base, wrk.get_script(path, HEADERS), LIST_CONNECTIONS)
        run.load(f"GET list of {count} If-None-Match, ours ({label})", base,
                 wrk.get_script(path, dict(HEADERS, **{"If-None-Match": tag})), LIST_CONNECTIONS)


def postgres_variant(args):
    """Run under tools/with_postgres.sh: our workloads on PostgreSQL, results as JSON."""
    db_url = os.environ["TEST_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    with tempfile.TemporaryDirectory(prefix="bench-pg-") as tmp:
        run = Run(args, tmp)
        redis_server = start_redis(run)
        try:
            app, site_id, env, base, web = start_ours(run, db_url, redis_server.url, "postgresql")
            ours_workloads(run, "postgresql", app, site_id, env, base, web, (16,))
        finally:
            run.procs.stop_all()
            redis_server.stop()
        db = sa.create_engine(db_url)  # the burst migrates a database of its own
        with db.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        db.dispose()
        moderator_burst(run, "postgresql", db_url)
        Path(args.variant_json).write_text(json.dumps(run.results))
    return 0


def references(run, redis_url, isso_base, bare_base, rq_base):
    isso_post = json.dumps({"text": "Наконец-то! Ждём с нетерпением новую трамвайную линию.",
                            "author": "Анна", "title": "Bench article", "client_id": wrk.CID}, ensure_ascii=False)
    post_once(isso_base + "/new?uri=/article-3", isso_post)
    post_once(bare_base + "/api/v1/comments", comment_body("bench", ours.article(3)), HEADERS)
    post_once(rq_base + "/api/v1/comments", comment_body("bench", ours.article(3)), HEADERS)
    return {
        "POST comments, Isso": (isso_base, wrk.post_script("/new?uri=/article-3", isso_post, f"i{run.tag}")),
        "POST comments, bare Flask": (bare_base, wrk.post_script(
            "/api/v1/comments", comment_body("bench", ours.article(3)), f"b{run.tag}", HEADERS)),
        "POST comments, Flask + rq.enqueue": (rq_base, wrk.post_script(
            "/api/v1/comments", comment_body("bench", ours.article(3)), f"q{run.tag}", HEADERS)),
    }


def rq_reference(run, redis_url):
    for kind, jobs in (("simple", run.cfg["rq_simple"]), ("worker", run.cfg["rq_fork"])):
        out = subprocess.run([sys.executable, str(ROOT / "bench" / "rq_reference.py"), redis_url, str(jobs), kind],
                             capture_output=True, text=True, cwd=ROOT, timeout=600,
                             env=dict(os.environ, PYTHONPATH=str(ROOT)))
        if out.returncode:
            raise RuntimeError(out.stderr)
        name = "RQ SimpleWorker" if kind == "simple" else "RQ default worker (fork per job)"
        run.results["refs"][name] = float(out.stdout.split()[-1])
        print(f"  {name}: {run.results['refs'][name]:.0f} jobs/s", flush=True)


def dashboard(run):
    count, requests = run.cfg["dashboard"]
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "dashboard_pending.py"), "--count", str(count),
                          "--requests", str(requests)], capture_output=True, text=True, cwd=ROOT, timeout=1800)
    if out.returncode:
        raise RuntimeError(out.stdout + out.stderr)
    cases = {}
    for line in out.stdout.splitlines():
        m = re.match(r"\s+(.+?)\s+p50\s+([\d.]+) ms\s+p95\s+([\d.]+) ms", line)
        if m:
            cases[m.group(1)] = {"p50_ms": float(m.group(2)), "p95_ms": float(m.group(3))}
    run.results["dashboard"] = {"count": count, "cases": cases}
    print(out.stdout, flush=True)


def moderator_burst(run, label, db_url=None):
    """bench/moderator_burst.py: 6 moderators acting while a worker stores a comment burst."""
    comments, actions = run.cfg["burst"]
    out_json = run.tmp / f"burst-{label}.json"
    cmd = [sys.executable, str(ROOT / "bench" / "moderator_burst.py"), "--comments", str(comments),
           "--actions", str(actions), "--json", str(out_json)] + (["--db", db_url] if db_url else [])
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=1800,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)))
    if not out_json.exists():
        raise RuntimeError(out.stdout + out.stderr)
    run.results.setdefault("moderator_burst", {})[label] = json.loads(out_json.read_text())
    print(out.stdout.strip().splitlines()[-1], flush=True)


def live_readers(run):
    """bench/live_readers.py in its own process (its own Redis, gunicorn and nginx)."""
    out_json = run.tmp / "live-readers.json"
    cmd = [sys.executable, str(ROOT / "bench" / "live_readers.py"), "--json", str(out_json)]
    out = subprocess.run(cmd + (["--quick"] if run.args.quick else []), capture_output=True, text=True, cwd=ROOT,
                         timeout=900, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    if not out_json.exists():
        raise RuntimeError(out.stdout + out.stderr)
    run.results["live_readers"] = json.loads(out_json.read_text())
    print("\n".join(line for line in out.stdout.splitlines() if line.startswith("  ")), flush=True)


def redis_wait(run):
    """bench/redis_wait.py in its own process (a primary and a replica of its own): what
    MODERATION_REDIS_WAIT_REPLICAS=1 costs a POST next to 0."""
    cfg = run.cfg["redis_wait"]
    out_json = run.tmp / "redis-wait.json"
    cmd = [sys.executable, str(ROOT / "bench" / "redis_wait.py"), "--connections", cfg["connections"],
           "--duration", str(cfg["duration"]), "--rounds", str(cfg["rounds"]), "--json", str(out_json)]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=900,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)))
    if not out_json.exists():
        raise RuntimeError(out.stdout + out.stderr)
    run.results["redis_wait"] = json.loads(out_json.read_text())
    print("\n".join(line for line in out.stdout.splitlines() if line.startswith("  ")), flush=True)


def main_run(args, tmp):
    run = Run(args, tmp)
    cfg = run.cfg
    print(f"suite: {'quick' if args.quick else 'full'} run, {cfg['duration']} s per wrk load, "
          f"gunicorn -w {WEB_WORKERS} everywhere", flush=True)
    redis_server = start_redis(run)
    try:
        db_url = f"sqlite:///{run.tmp}/ours.db"
        app, site_id, env, base, web = start_ours(run, db_url, redis_server.url, "sqlite")
        with app.app_context():
            from moderation.demo import ensure_demo  # noqa: PLC0415
            from moderation.extensions import db  # noqa: PLC0415

            ensure_demo(base)
            db.session.remove()
        isso_base, isso_proc = isso_ref.start(run.procs, run.tmp, WEB_WORKERS,
                                              [("/article-1", BIG), ("/article-2", SMALL)])
        bare_base, bare_proc = start_gunicorn(run, "bare-flask", "bench.bare_flask:app", {})
        rq_base, rq_proc = start_gunicorn(run, "flask-rq", "bench.flask_rq:app", {"REDIS_URL": redis_server.url})
        refs = references(run, redis_server.url, isso_base, bare_base, rq_base)

        print("1. ingest (no queue worker running: the inbox absorbs the load)", flush=True)
        post_c, post_r = our_post_scripts(run, "sqlite", base)
        for c in CONNECTIONS:
            # Interleaved, so drift on a shared machine hits every target alike.
            for name, (target, script) in refs.items():
                run.load(name, target, script, c)
            run.load("POST comments, ours (sqlite)", base, post_c, c)
            run.load("POST reports, ours (sqlite)", base, post_r, c)
            if c == WITH_WORKER_CONNECTIONS:
                with_worker_loads(run, "sqlite", app, env, base, post_c, post_r)
        app.broker.redis.delete("rq:queue:bench-flask-rq")

        print("2. comment list, first page", flush=True)
        list_workloads(run, "sqlite", base)
        for n, count in ((1, BIG), (2, SMALL)):
            run.load(f"GET list of {count}, Isso", isso_base,
                     wrk.get_script(f"/?uri=/article-{n}&limit=50"), LIST_CONNECTIONS)
        run.load("GET list, bare Flask", bare_base, wrk.get_script("/api/v1/comments"), LIST_CONNECTIONS)
        run.results["rss"]["web worker, ours (sqlite)"] = gunicorn_worker_peak_mb(web)
        run.results["rss"]["web worker, Isso"] = gunicorn_worker_peak_mb(isso_proc)
        run.results["rss"]["web worker, bare Flask"] = gunicorn_worker_peak_mb(bare_proc)
        for proc in (isso_proc, bare_proc, rq_proc):
            run.procs.stop(proc)

        print("5. widget", flush=True)
        bundles = widget.bundle_sizes()
        run.results["widget"] = {"gzip_bytes": bundles["widget.js"], "bundles": bundles}
        dom, painted = widget.dialog_times(base, cfg["widget_trials"])
        run.results["widget"].update(dialog_dom_ms=dom, dialog_painted_ms=painted)
        print(f"  gzipped: {', '.join(f'{name} {size:,} B' for name, size in bundles.items())}; Ctrl+Enter → dialog "
              f"{dom:.1f} ms (DOM), {painted:.1f} ms (painted)", flush=True)

        print(f"3. drain ({QUEUE_WORKERS} `moderation worker` processes)", flush=True)
        drain_workloads(run, "sqlite", app, site_id, env)
        run.procs.stop(web)

        print("   references: RQ workers on trivial jobs", flush=True)
        rq_reference(run, redis_server.url)
    finally:
        run.procs.stop_all()
        redis_server.stop()

    print("4. dashboard Pending page (bench/dashboard_pending.py)", flush=True)
    dashboard(run)
    print("6. moderators during a comment burst (bench/moderator_burst.py)", flush=True)
    moderator_burst(run, "sqlite", f"sqlite:///{run.tmp}/burst.db")

    print("7. live readers of one article through nginx's micro-cache (bench/live_readers.py)", flush=True)
    live_readers(run)

    print("8. Redis WAIT per POST, MODERATION_REDIS_WAIT_REPLICAS=0 vs 1 (bench/redis_wait.py)", flush=True)
    redis_wait(run)

    if not args.no_postgres:
        print("PostgreSQL variant (tools/with_postgres.sh)", flush=True)
        out = run.tmp / "pg.json"
        cmd = [str(ROOT / "tools" / "with_postgres.sh"), sys.executable, str(ROOT / "bench" / "suite.py"),
               "--variant-json", str(out)] + (["--quick"] if args.quick else [])
        # fsync on: the drain commits are measured as a production database makes them durable.
        done = subprocess.run(cmd, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT), PG_FSYNC="on"))
        if done.returncode == 0 and out.exists():
            pg = json.loads(out.read_text())
            for key in ("ingest", "list", "drain", "rss", "moderator_burst"):
                run.results.setdefault(key, {}).update(pg.get(key, {}))
        else:
            print("  PostgreSQL variant failed: see the output above", flush=True)
    return run.results


def start_gunicorn(run, name, module, extra_env):
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT), **extra_env)
    proc = run.procs.start(name, [sys.executable, "-m", "gunicorn", "-w", str(WEB_WORKERS), "-b",
                                  f"127.0.0.1:{port}", "--log-level", "warning", module], env=env)
    base = f"http://127.0.0.1:{port}"
    wait_http(base + "/", proc=proc)
    return base, proc


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: 2 s per load, small backlogs")
    parser.add_argument("--check", action="store_true", help="exit 1 when a goal is missed")
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL variant")
    parser.add_argument("--no-write", action="store_true", help="do not write docs/benchmarks.*")
    parser.add_argument("--from-json", help="render the table and docs from a saved run (.bench/last-run.json)")
    parser.add_argument("--variant-json", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.variant_json:
        return postgres_variant(args)
    if args.from_json:
        results = json.loads(Path(args.from_json).read_text())
    else:
        started, load_before = time.time(), os.getloadavg()
        with tempfile.TemporaryDirectory(prefix="bench-suite-") as tmp:
            results = main_run(args, tmp)
        load_after = os.getloadavg()
        results["quick"] = args.quick
        results["duration_s"] = settings(args.quick)["duration"]
        results["elapsed_s"] = time.time() - started
        results["loadavg"] = [load_before[0], load_after[0]]  # 1-minute, at the start and at the end
        results["loadavg_all"] = {"start": list(load_before), "end": list(load_after)}  # 1, 5, 15 minutes
        results["machine"] = report.machine_info()
        results["when"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        LAST.parent.mkdir(exist_ok=True)
        LAST.write_text(json.dumps(results, indent=1))
    rows, goals = report.evaluate(results)
    print(report.table_text(rows, goals, results))
    if not args.no_write:
        report.write(results, rows, goals, ROOT / "docs")
        print("wrote docs/benchmarks.md and docs/benchmarks.png")
    missed = [g for g in goals if g["met"] is False]
    print(f"goals missed: {len(missed)} of {sum(g['met'] is not None for g in goals)}")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
