"""`moderation run` stops every child on SIGTERM, SIGINT or SIGHUP, and a child that
dies takes the others down with a message (issue 13: five orphaned embedded Redis
servers were found after ordinary stops).

Real processes: `moderation run` on a free port with its own data directory (its
embedded Redis on a unix socket, SQLite, two queue workers, one with RQ's
scheduler), found through /proc.
"""
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from support.faults import wait_for, wait_http
from support.net import free_port


ROOT = Path(__file__).resolve().parent.parent
STOP_SECONDS = 10  # the promise (moderation/supervisor.py); the margin below is for a loaded machine


def _ppid(pid):
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return None if fields[0] == "Z" else int(fields[1])


def alive(pid):
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def descendants(root):
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            ppid = _ppid(int(entry))
            if ppid is not None:
                parents.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


@pytest.fixture
def service(tmp_path):
    """Start `moderation run --workers 2`; yields (proc, children, log path); kills leftovers."""
    started = []

    def start():
        port = free_port()
        env = dict(os.environ, MODERATION_ENV="development", MODERATION_DATA_DIR=str(tmp_path / "instance"),
                   PYTHONPATH=str(ROOT), MODERATION_WORKER_MAINTENANCE="1")
        for name in ("REDIS_URL", "DATABASE_URL", "SECRET_KEY"):
            env.pop(name, None)
        log = tmp_path / f"run-{len(started)}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "moderation", "run", "--port", str(port), "--workers", "2"],
                                    cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        started.append(proc)
        wait_http(f"http://127.0.0.1:{port}", timeout=90)

        def complete():  # both workers and Redis are up (one worker also runs RQ's scheduler)
            kids = descendants(proc.pid)
            workers = [p for p in kids if " worker" in cmdline(p) and _ppid(p) == proc.pid]
            redis = [p for p in kids if "redis-server" in cmdline(p)]
            return kids if len(workers) == 2 and len(redis) == 1 else None

        children = wait_for(complete, 60, "moderation run started its Redis and two workers")
        known.extend(children)
        return proc, children, log

    known = []
    yield start
    for proc in started:
        for pid in set(descendants(proc.pid)) | {p for p in known if alive(p)}:  # orphans too
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=lambda s: s.name)
def test_a_stop_signal_stops_redis_and_every_worker(service, signum):
    proc, children, log = service()
    proc.send_signal(signum)
    wait_for(lambda: proc.poll() is not None and not any(alive(p) for p in children), STOP_SECONDS + 5,
             f"every child of moderation run is gone after {signum.name}: "
             f"{[(p, cmdline(p)) for p in children if alive(p)]}", interval=0.1)
    assert proc.returncode == 0, log.read_text()
    assert f"{signum.name} received; stopping" in log.read_text()


@pytest.mark.parametrize("victim", ["worker", "redis-server"])
def test_a_child_that_dies_takes_the_others_down_with_a_message(service, victim):
    proc, children, log = service()
    target = next(p for p in children if victim in cmdline(p) and _ppid(p) == proc.pid)
    os.kill(target, signal.SIGKILL)
    wait_for(lambda: proc.poll() is not None and not any(alive(p) for p in children), STOP_SECONDS + 5,
             f"the rest of moderation run is gone after its {victim} died", interval=0.1)
    assert proc.returncode == 1
    text = log.read_text()
    label = "queue worker" if victim == "worker" else "the embedded Redis"
    assert f"(pid {target}) was killed by signal 9; stopping everything" in text, text
    assert label in text
