"""Soak benchmark (not a test): steady ingest at half a given maximum rate for a long time.

    .venv/bin/python bench/soak.py --max-rate 200 [--minutes 10] [--workers 2] [--web-workers 2]

Starts everything for real on a throwaway data directory: a private redis-server
(AOF on), the SQLite database (or DATABASE_URL) migrated, a site, gunicorn
serving `wsgi:app` and N `moderation worker` processes. Client threads POST error
reports and comments over HTTP at max-rate / 2 per second, paced evenly. Every
`--sample` seconds the resident memory (VmRSS from /proc) of every process (Redis,
gunicorn master and workers, queue workers and their RQ scheduler) and the queue
depth (inbox + queued jobs) are sampled.

Printed at the end: per process, RSS first/last and the memory slope in KB/min
(least squares over the samples after the first minute of warm-up, or all of
them in a shorter run); the maximum and final queue depth; the achieved rate and
the answers the clients got; whether every acknowledged submission was stored.
Exit status 1 if a submission was lost or a 5xx was answered.
"""
import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from moderation import create_app  # noqa: E402
from moderation.embedded_redis import EmbeddedRedis  # noqa: E402
from moderation.extensions import db  # noqa: E402
from moderation.models import Comment, Site, TypoReport  # noqa: E402

ORIGIN = "https://soak.example"
ARTICLES = [f"{ORIGIN}/2026/11/article-{i}" for i in range(50)]
WARMUP_SECONDS = 60


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_kb(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def children(pid):
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def slope_kb_per_min(points):
    """Least-squares slope of (seconds, KB) points, in KB per minute."""
    if len(points) < 3:
        return float("nan")
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_v = sum(v for _, v in points) / n
    var = sum((t - mean_t) ** 2 for t, _ in points)
    if not var:
        return float("nan")
    return sum((t - mean_t) * (v - mean_v) for t, v in points) / var * 60


def payload(i):
    client_id = f"soak-{uuid.uuid4()}"
    url = ARTICLES[i % len(ARTICLES)]
    if i % 4 == 3:
        return "comments", {"site": "soak", "url": url, "author": f"Reader {i}",
                            "body": f"Comment {i}: a steady stream of words.", "client_id": client_id}
    return "reports", {"site": "soak", "url": url, "exact": f"wrod{i}", "prefix": "the ",
                       "suffix": " here", "suggestion": f"word{i}", "client_id": client_id}


class Clients:
    """Threads that POST at an even total rate; they retry connection errors, 429 and 503."""

    def __init__(self, base, rate, threads):
        self.host, self.port = base.removeprefix("http://").split(":")
        self.interval = threads / rate
        self.threads = threads
        self.stop = threading.Event()
        self.statuses = Counter()
        self.errors = Counter()
        self.acked = []
        self.lock = threading.Lock()
        self.counter = iter(range(10**9))

    def send(self, kind, body):
        conn = http.client.HTTPConnection(self.host, int(self.port), timeout=10)
        try:
            conn.request("POST", f"/api/v1/{kind}", body=json.dumps(body).encode(),
                         headers={"Content-Type": "application/json", "Origin": ORIGIN})
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()

    def run_one(self, offset):
        next_at = time.monotonic() + offset
        while not self.stop.is_set():
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            next_at += self.interval
            with self.lock:
                i = next(self.counter)
            kind, body = payload(i)
            for _ in range(50):
                try:
                    status = self.send(kind, body)
                except (OSError, http.client.HTTPException) as exc:
                    with self.lock:
                        self.errors[type(exc).__name__] += 1
                    time.sleep(0.2)
                    continue
                with self.lock:
                    self.statuses[status] += 1
                    if status == 202:
                        self.acked.append(body["client_id"])
                if status not in (429, 503):
                    break
                time.sleep(0.5)

    def start(self):
        self.workers = [threading.Thread(target=self.run_one, args=(i * self.interval / self.threads,), daemon=True)
                        for i in range(self.threads)]
        for thread in self.workers:
            thread.start()

    def finish(self):
        self.stop.set()
        for thread in self.workers:
            thread.join(30)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-rate", type=float, required=True,
                        help="measured maximum ingest rate (submissions/s); the soak runs at half of it")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2, help="queue worker processes")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--sample", type=float, default=5.0, help="seconds between samples")
    parser.add_argument("--threads", type=int, default=16, help="client threads")
    args = parser.parse_args(argv)
    rate = args.max_rate / 2

    data = Path(tempfile.mkdtemp(prefix="moderation-soak-"))
    redis_server = EmbeddedRedis(data / "redis", port=free_port())
    redis_server.start()
    db_url = os.environ.get("DATABASE_URL") or "sqlite:///" + str(data / "soak.db")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
               MODERATION_ENV="testing", MODERATION_DATA_DIR=str(data), DATABASE_URL=db_url,
               REDIS_URL=redis_server.url, MODERATION_RATELIMIT="0")
    env.pop("SECRET_KEY", None)
    app = create_app({"ENV_NAME": "testing", "DATA_DIR": str(data), "REDIS_URL": redis_server.url,
                      "SQLALCHEMY_DATABASE_URI": db_url})
    with app.app_context():
        upgrade()
        db.session.add(Site(key="soak", name="Soak", allowed_origins=[ORIGIN], moderation_mode="pre",
                            language="en"))
        db.session.commit()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    logs = data / "logs"
    logs.mkdir()
    procs = {}

    def start(label, cmd):
        log = open(logs / f"{label}.log", "ab")
        procs[label] = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()

    start("web", [sys.executable, "-m", "gunicorn", "--workers", str(args.web_workers), "--bind",
                  f"127.0.0.1:{port}", "--no-control-socket", "--chdir", str(ROOT), "wsgi:app"])
    for i in range(args.workers):
        start(f"worker-{i + 1}", [sys.executable, "-m", "moderation", "worker", "--name", f"soak-{i + 1}"])
    deadline = time.monotonic() + 60
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit("gunicorn did not start")
            time.sleep(0.3)

    print(f"soak: {rate:g} submissions/s for {args.minutes:g} min; {args.workers} queue workers, "
          f"{args.web_workers} gunicorn workers; data in {data}", flush=True)
    samples = defaultdict(list)  # label -> [(t, kb)]
    depths = []
    clients = Clients(base, rate, args.threads)
    started = time.monotonic()
    clients.start()
    end = started + args.minutes * 60
    try:
        while time.monotonic() < end:
            now = time.monotonic() - started
            pids = {"redis": redis_server.process.pid}
            for label, proc in procs.items():
                pids[label] = proc.pid
                for j, child in enumerate(sorted(children(proc.pid))):
                    pids[f"{label}/{'worker' if label == 'web' else 'scheduler'}-{j + 1}"] = child
            for label, pid in pids.items():
                kb = rss_kb(pid)
                if kb is not None:
                    samples[label].append((now, kb))
            depths.append(app.broker.depth())
            time.sleep(max(0.0, args.sample - (time.monotonic() - started - now)))
    finally:
        clients.finish()
    sent_for = time.monotonic() - started

    # Let the workers finish, then count.
    wait_until = time.monotonic() + 120
    while app.broker.depth() and time.monotonic() < wait_until:
        time.sleep(1)
    time.sleep(2)
    with app.app_context():
        stored = set()
        for model in (TypoReport, Comment):
            stored.update(db.session.execute(sa.select(model.client_id)).scalars())
    for proc in procs.values():
        proc.send_signal(signal.SIGTERM)
    for proc in procs.values():
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    redis_server.stop()

    acked = clients.acked
    lost = set(acked) - stored
    print(f"\nsent for {sent_for:.0f} s: {len(acked)} acknowledged ({len(acked) / sent_for:.1f}/s), "
          f"answers {dict(clients.statuses)}, connection errors {dict(clients.errors)}")
    print(f"stored {len(stored)}; acknowledged but not stored: {len(lost)}")
    print(f"queue depth: max {max(depths)}, last sample {depths[-1]}, mean {sum(depths) / len(depths):.1f}")
    print(f"\n{'process':<24}{'RSS first KB':>14}{'RSS last KB':>13}{'slope KB/min':>14}")
    for label in sorted(samples):
        points = samples[label]
        steady = [p for p in points if p[0] >= WARMUP_SECONDS] if sent_for > 2 * WARMUP_SECONDS else points
        print(f"{label:<24}{points[0][1]:>14}{points[-1][1]:>13}{slope_kb_per_min(steady):>14.1f}")
    print(f"(slope over {'samples after the first minute' if sent_for > 2 * WARMUP_SECONDS else 'all samples'})")
    server_errors = sum(n for status, n in clients.statuses.items() if status >= 500)
    return 1 if lost or server_errors else 0


if __name__ == "__main__":
    sys.exit(main())
