"""The web process restarted under load: gunicorn reloaded (SIGHUP), one of its
workers killed (kill -9), then the whole server stopped (SIGTERM) and started again.

N = 2,000 submissions go over real HTTP (http.client, 8 client threads) to a real
gunicorn serving `wsgi:app`; a real `moderation worker` drains them. Clients see
at most connection errors, which they retry (the widget does the same with the
same client_id); never a 5xx. Every 202 is in the database exactly once.
"""
import os
import signal
from pathlib import Path

import pytest

from support.faults import (
    N, Processes, assert_exactly_once, http_sender, post_in_background, submissions, wait_for, wait_http,
)
from support.net import free_port

pytestmark = [pytest.mark.faults, pytest.mark.timeout(300)]


def children(pid):
    """Pids whose parent is `pid` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # "pid (comm) state ppid ...": comm may hold spaces, so split after the last ")".
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def test_web_restarted_under_load_costs_clients_only_retryable_errors(app, site, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    procs = Processes(app, tmp_path / "logs")
    items = submissions(N)
    try:
        web = procs.gunicorn(port)
        wait_http(base)
        procs.worker("worker-1")
        thread, outcome = post_in_background(http_sender(base), items)

        def acked(n):
            wait_for(lambda: len(outcome.acked) >= n, 120, f"{n} submissions acknowledged")

        acked(N // 5)
        web.send_signal(signal.SIGHUP)  # graceful reload: new workers, old ones finish their request
        acked(2 * N // 5)
        victims = wait_for(lambda: children(web.pid), 30, "gunicorn has workers")
        os.kill(victims[0], signal.SIGKILL)  # a worker dies mid-request; the master starts another
        acked(3 * N // 5)
        procs.stop(web, signal.SIGTERM)  # graceful stop, then a new server on the same port
        assert web.returncode == 0, procs.log(web)[-2000:]
        procs.gunicorn(port, label="web-2")

        thread.join(240)
        assert not thread.is_alive()
        assert not outcome.failed, list(outcome.failed.items())[:5]
        assert not [status for status in outcome.statuses if status >= 500], outcome.statuses
        assert outcome.errors, "the clients never met the restart"
        found = assert_exactly_once(app, outcome, items)
        assert len(found) == N
    finally:
        procs.stop_all()
