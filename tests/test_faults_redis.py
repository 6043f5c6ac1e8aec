"""Faults in Redis during ingest: it hangs, it goes away (shut down or killed), it comes back.

Each test runs its own redis-server (AOF on) and a real `moderation worker`
process, and posts N = 2,000 submissions through the reader API (the app in this
process, threads as clients). Clients send a submission again after a 503, as
the widget does. While Redis is unavailable a POST answers 503 with
Retry-After within a second and /healthz names Redis.

The widget's side of an outage (the submission is kept in localStorage and
delivered once the API answers again) is proven in a real browser by
tests/test_widget_browser.py::test_blocked_api_keeps_the_report_and_delivers_it_once_later.
"""
import os
import signal
import time

import pytest

from moderation.embedded_redis import EmbeddedRedis

from support.faults import (
    N, Processes, assert_exactly_once, flask_sender, post_in_background, submissions, wait_for,
)
from support.net import free_port
from support.payloads import comment_payload, report_payload


pytestmark = [pytest.mark.faults, pytest.mark.timeout(300)]


def assert_unavailable(app, probes):
    """A POST answers 503 + Retry-After within a second; /healthz says Redis is down."""
    client = app.test_client()
    for path, make in (("/api/v1/reports", report_payload), ("/api/v1/comments", comment_payload)):
        payload = make()
        probes.add(payload["client_id"])  # a hung Redis may still run it once it wakes up
        started = time.monotonic()
        response = client.post(path, json=payload)
        elapsed = time.monotonic() - started
        assert response.status_code == 503, response.get_data(as_text=True)
        assert response.json["error"] == "unavailable"
        assert int(response.headers["Retry-After"]) > 0
        assert elapsed < 1.0, f"503 after {elapsed:.2f} s"
    started = time.monotonic()
    health = client.get("/healthz")
    elapsed = time.monotonic() - started
    assert health.status_code == 503
    assert health.json["redis"] == "down" and health.json["db"] == "ok"
    assert int(health.headers["Retry-After"]) > 0
    assert elapsed < 1.0, f"/healthz after {elapsed:.2f} s"


@pytest.mark.parametrize("fault, appendfsync", [("shutdown", "everysec"), ("kill -9", "always")])
def test_redis_restart_during_ingest_loses_no_acknowledged_submission(app, make_app, site, tmp_path,
                                                                      fault, appendfsync):
    server = EmbeddedRedis(tmp_path / "own-redis", appendfsync=appendfsync, port=free_port())
    server.start()
    ingest = make_app(REDIS_URL=server.url, RATELIMIT_ENABLED=False)
    # The probes go through an app with rate limiting on, as in production: the
    # limiter's Redis calls must not push the 503 past a second.
    probe_app = make_app(REDIS_URL=server.url)
    procs = Processes(ingest, tmp_path / "logs")
    probes = set()
    items = submissions(N)
    try:
        procs.worker("worker-1")
        thread, outcome = post_in_background(flask_sender(ingest), items)
        wait_for(lambda: len(outcome.acked) >= N // 4, 120, "a quarter of the submissions acknowledged")

        # Redis hangs (stopped, its socket still accepting): requests time out fast.
        os.kill(server.process.pid, signal.SIGSTOP)
        try:
            time.sleep(0.5)
            assert_unavailable(probe_app, probes)
        finally:
            os.kill(server.process.pid, signal.SIGCONT)

        wait_for(lambda: len(outcome.acked) >= N // 2, 120, "half the submissions acknowledged")
        if fault == "shutdown":
            server.stop()
        else:
            server.kill()
        down_at = len(outcome.acked)
        assert_unavailable(probe_app, probes)
        time.sleep(1.5)
        assert_unavailable(probe_app, probes)
        server.start()  # same directory: the AOF is replayed

        thread.join(240)
        assert not thread.is_alive()
        assert not outcome.failed, list(outcome.failed.items())[:5]
        assert not outcome.server_errors, outcome.statuses
        assert outcome.statuses[503] > 0, "the clients never met the outage"
        assert down_at < N
        found = assert_exactly_once(ingest, outcome, items, also_sent=probes)
        assert len(set(found) - probes) == N
    finally:
        procs.stop_all()
        server.stop()


def test_worker_process_outlives_a_redis_outage(app, make_app, site, tmp_path):
    """Redis killed under an idle worker for longer than its reconnect attempts: the
    `moderation worker` process stays up and drains what arrives once Redis is back."""
    from rq import Worker

    server = EmbeddedRedis(tmp_path / "own-redis", appendfsync="always", port=free_port())
    server.start()
    ingest = make_app(REDIS_URL=server.url, RATELIMIT_ENABLED=False)
    procs = Processes(ingest, tmp_path / "logs")
    try:
        worker = procs.worker("worker-1")
        wait_for(lambda: Worker.all(connection=ingest.broker.redis), 60, "the worker registers")
        server.kill()
        time.sleep(6)
        assert worker.poll() is None, procs.log(worker)[-2000:]
        server.start()

        items = submissions(N, tag="o")
        thread, outcome = post_in_background(flask_sender(ingest), items)
        thread.join(240)
        assert not outcome.failed and not outcome.server_errors
        found = assert_exactly_once(ingest, outcome, items)
        assert len(found) == N
        assert worker.poll() is None
    finally:
        procs.stop_all()
        server.stop()
