"""Shared parts of the fault tests (tests/test_faults_*.py): real processes, a known
set of submissions, clients that retry like the widget, and the final count.

Every fault test ends the same way: each submission the service acknowledged
(202) is in the database exactly once, and nothing that was never sent is there.
"""
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import Comment, TypoReport

from support.payloads import ARTICLE, ORIGIN

ROOT = Path(__file__).resolve().parents[2]
N = 2000
THREADS = 8
# Statuses after which a client sends the same submission again (the widget does the same).
RETRIED = {429, 503}
# The widget honours Retry-After; the tests wait less so that a fault test stays short.
RETRY_PAUSE = 0.1


def wait_for(predicate, timeout, message, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s: {message}")


# -- submissions ------------------------------------------------------------------------------

def submissions(n=N, site="test-site", tag="f"):
    """n distinct submissions: three error reports for every comment, distinct client_ids."""
    out = []
    for i in range(n):
        client_id = f"{tag}{i:05d}-{uuid.uuid4().hex[:12]}"
        if i % 4 == 3:
            out.append(("comments", {
                "site": site, "url": ARTICLE, "title": "Новая трамвайная линия",
                "author": f"Читатель {i}", "body": f"Комментарий номер {i}: ждём трамвай.",
                "client_id": client_id,
            }))
        else:
            out.append(("reports", {
                "site": site, "url": ARTICLE, "exact": f"слово{i}", "prefix": "Вчера мэр ",
                "suffix": " о запуске", "suggestion": f"слово {i}", "client_id": client_id,
            }))
    return out


class Outcome:
    """What the clients saw: acknowledged client_ids and every status/error met on the way."""

    def __init__(self):
        self.acked = set()
        self.statuses = Counter()
        self.errors = Counter()
        self.failed = {}  # client_id -> last status, for submissions given up on
        self.lock = threading.Lock()

    def record(self, client_id, status=None, error=None):
        with self.lock:
            if error is not None:
                self.errors[type(error).__name__] += 1
            else:
                self.statuses[status] += 1
                if status == 202:
                    self.acked.add(client_id)

    @property
    def server_errors(self):
        return {status: n for status, n in self.statuses.items() if status >= 500 and status not in RETRIED}


def flask_sender(app):
    """POST through the Flask test client (the real app in this process)."""

    def send(kind, payload):
        client = app.test_client()
        response = client.post(f"/api/v1/{kind}", json=payload, headers={"Origin": ORIGIN})
        return response.status_code

    return send


def http_sender(base_url, timeout=10):
    """POST over real HTTP (http.client, one connection per request)."""
    host, port = base_url.removeprefix("http://").split(":")

    def send(kind, payload):
        conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
        try:
            body = json.dumps(payload, ensure_ascii=False).encode()
            conn.request("POST", f"/api/v1/{kind}", body=body,
                         headers={"Content-Type": "application/json", "Origin": ORIGIN})
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()

    return send


def post_all(send, items, outcome=None, threads=THREADS, give_up_after=120, on_progress=None):
    """Send every submission, retrying connection errors and 429/503 until a 202.

    Any other status is final (recorded, not retried). Returns the Outcome.
    """
    outcome = outcome or Outcome()
    todo = list(reversed(items))
    lock = threading.Lock()

    def one(kind, payload):
        deadline = time.monotonic() + give_up_after
        while time.monotonic() < deadline:
            try:
                status = send(kind, payload)
            except (OSError, http.client.HTTPException) as exc:
                outcome.record(payload["client_id"], error=exc)
                time.sleep(RETRY_PAUSE)
                continue
            outcome.record(payload["client_id"], status)
            if status not in RETRIED:
                if status != 202:
                    outcome.failed[payload["client_id"]] = status
                return
            time.sleep(RETRY_PAUSE)
        outcome.failed[payload["client_id"]] = "gave up"

    def loop():
        while True:
            with lock:
                if not todo:
                    return
                kind, payload = todo.pop()
            one(kind, payload)
            if on_progress is not None:
                on_progress(outcome)

    workers = [threading.Thread(target=loop, daemon=True) for _ in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return outcome


def post_in_background(send, items, **kwargs):
    """post_all in a thread; returns (thread, outcome)."""
    outcome = Outcome()
    thread = threading.Thread(target=post_all, args=(send, items, outcome), kwargs=kwargs, daemon=True)
    thread.start()
    return thread, outcome


# -- the count --------------------------------------------------------------------------------

def stored_ids(app):
    """Counter of client_ids over every submission table."""
    with app.app_context():
        found = Counter()
        for model in (TypoReport, Comment):
            found.update(db.session.execute(sa.select(model.client_id)).scalars())
        db.session.remove()
        return found


def wait_stored(app, expected, timeout=150):
    """Wait until every expected client_id is stored; returns the stored Counter."""
    expected = set(expected)
    state = {}

    def done():
        state["found"] = stored_ids(app)
        return expected <= set(state["found"])

    try:
        wait_for(done, timeout, "acknowledged submissions reached the database", interval=0.5)
    except AssertionError:
        missing = expected - set(state["found"])
        raise AssertionError(f"{len(missing)} of {len(expected)} acknowledged submissions are not stored, "
                             f"e.g. {sorted(missing)[:5]}") from None
    return state["found"]


def assert_exactly_once(app, outcome, items, timeout=150, also_sent=()):
    """Every 202 is stored once, nothing is stored twice, nothing unknown is stored.

    `also_sent`: client_ids sent outside `items` that may or may not be stored
    (a probe that got a 503 from a hung Redis can still be run when it wakes).
    """
    sent = {payload["client_id"] for _, payload in items} | set(also_sent)
    assert len(outcome.acked) >= len(items) - len(outcome.failed)
    found = wait_stored(app, outcome.acked, timeout)
    doubled = {cid: n for cid, n in found.items() if n > 1}
    assert not doubled, f"stored more than once: {list(doubled.items())[:5]}"
    assert set(found) <= sent, f"stored but never sent: {sorted(set(found) - sent)[:5]}"
    return found


# -- processes ------------------------------------------------------------------------------

def service_env(app, **extra):
    """Environment for a worker or web process sharing the test app's database and Redis."""
    env = dict(os.environ)
    env.pop("SECRET_KEY", None)
    env.update(
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
        MODERATION_ENV="testing",
        MODERATION_DATA_DIR=app.config["DATA_DIR"],
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        REDIS_URL=app.config["REDIS_URL"] or "",  # unset with Sentinel (REDIS_SENTINELS in extra)
        MODERATION_RATELIMIT="0",
        MODERATION_WORKER_MAINTENANCE="1",
    )
    env.update({key: str(value) for key, value in extra.items()})
    return env


class Processes:
    """Real worker and web processes of one test; all are killed at the end."""

    def __init__(self, app, log_dir):
        self.app = app
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.procs = []

    def _start(self, label, args, **env):
        log = open(self.log_dir / f"{label}.log", "ab")
        proc = subprocess.Popen(
            args, cwd=ROOT, env=service_env(self.app, **env), stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()
        proc.label = label
        self.procs.append(proc)
        return proc

    def log(self, proc):
        return (self.log_dir / f"{proc.label}.log").read_text(errors="replace")

    def worker(self, name, **env):
        """`moderation worker --name NAME` (RQ SimpleWorker with its scheduler)."""
        return self._start(name, [sys.executable, "-m", "moderation", "worker", "--name", name], **env)

    def gunicorn(self, port, label="web", workers=2, **env):
        """`gunicorn wsgi:app`, sync workers, on 127.0.0.1:port."""
        args = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
                "--graceful-timeout", "10", "--timeout", "30", "--no-control-socket", "--chdir", str(ROOT), "wsgi:app"]
        return self._start(label, args, **env)

    def kill9(self, proc):
        """SIGKILL the process and everything it started (its session): nothing gets to clean up."""
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(10)

    def stop(self, proc, sig=signal.SIGTERM, timeout=20):
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill9(proc)
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # leftovers (RQ's scheduler process)
        except ProcessLookupError:
            pass

    def stop_all(self):
        for proc in self.procs:
            self.stop(proc, timeout=10)


def wait_http(base_url, timeout=60):
    """Wait until GET /healthz answers (any status)."""
    host, port = base_url.removeprefix("http://").split(":")

    def up():
        conn = http.client.HTTPConnection(host, int(port), timeout=2)
        try:
            conn.request("GET", "/healthz")
            return conn.getresponse().status
        except OSError:
            return None
        finally:
            conn.close()

    return wait_for(up, timeout, f"{base_url} answers")
