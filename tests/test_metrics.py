"""GET /metrics (moderation/metrics.py): the token, and the counters moved by real work.

In-process, the metrics live in this test process (no PROMETHEUS_MULTIPROC_DIR), shared by
every app the tests build, so each test compares a scrape before and after. The last test
runs a real gunicorn with two workers and a real queue worker on one multiprocess directory
and checks that a scrape adds up the processes.
"""
import http.client
import json
import os
import smtplib
import socket
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from moderation import metrics
from moderation.extensions import db
from moderation.models import Comment, ReportCluster, Webhook
from moderation.notify import mail
from moderation.services.audit import audit

from support.faults import Processes, stored_ids, wait_for, wait_http
from support.net import free_port
from support.notify_servers import Receiver
from support.payloads import comment_payload, report_payload

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "metrics-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
API = "/api/v1/moderation"


def parse(text):
    """{(sample name, frozenset of labels): value} of a scrape."""
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def scrape(client):
    response = client.get("/metrics", headers=AUTH)
    assert response.status_code == 200, response.status_code
    assert response.headers["Cache-Control"] == "no-store"
    return parse(response.get_data(as_text=True))


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def moved(before, after, name, **labels):
    return value(after, name, **labels) - value(before, name, **labels)


@pytest.fixture
def metrics_app(app):
    app.config["METRICS_TOKEN"] = TOKEN
    app.config["WEBHOOK_ALLOWED_NETWORKS"] = ("127.0.0.0/8",)  # the receiver is on loopback
    return app


def test_no_token_set_means_no_endpoint(app, client):
    assert app.config.get("METRICS_TOKEN") is None
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers=AUTH).status_code == 404


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}, {"Authorization": TOKEN},
    {"Authorization": f"Bearer {TOKEN}x"},
])
def test_a_missing_or_wrong_token_is_refused(metrics_app, client, headers):
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "moderation_" not in response.get_data(as_text=True)


def test_a_scrape_sees_ingest_drain_decisions_and_a_failing_webhook(metrics_app, client, site, staff, drain):
    app = metrics_app
    with app.app_context():
        db.session.add(Webhook(site_id=site.id, url="http://placeholder", events=["cluster.fixed"]))
        db.session.commit()
    before = scrape(client)

    with Receiver([500]) as receiver:
        with app.app_context():
            db.session.execute(sa.update(Webhook).values(url=receiver.url))
            db.session.commit()
        assert client.post("/api/v1/reports", json=report_payload()).status_code == 202
        assert client.post("/api/v1/comments", json=comment_payload()).status_code == 202
        assert client.post("/api/v1/comments", json=comment_payload(body="")).status_code == 400
        queued = scrape(client)  # before the drain: the queue gauges are read from Redis
        drain()
        with app.app_context():
            cluster_id = db.session.execute(sa.select(ReportCluster.id)).scalar_one()
            comment_id = db.session.execute(sa.select(Comment.id)).scalar_one()
        assert client.post(f"{API}/clusters/{cluster_id}/fix", json={"correction": "объявил"},
                           headers=staff.headers("editor")).status_code == 200
        assert client.post(f"{API}/comments/{comment_id}/approve",
                           headers=staff.headers("moderator")).status_code == 200
        # Not a decision: a reopen, then the same decision again counts a second time.
        assert client.post(f"{API}/comments/{comment_id}/reopen", headers=staff.headers("moderator")).status_code == 200
        drain()  # delivers cluster.fixed: the receiver answers 500
        assert receiver.requests
    after = scrape(client)

    assert moved(before, after, "moderation_ingest_total", kind="reports", outcome="accepted") == 1
    assert moved(before, after, "moderation_ingest_total", kind="comments", outcome="accepted") == 1
    assert moved(before, after, "moderation_ingest_total", kind="comments", outcome="bad_request") == 1
    assert value(queued, "moderation_redis_up") == 1
    assert value(queued, "moderation_inbox_depth") == 2
    assert value(queued, "moderation_inbox_oldest_age_seconds") > 0
    assert value(after, "moderation_inbox_depth") == 0
    assert value(after, "moderation_inbox_oldest_age_seconds") == 0
    assert moved(before, after, "moderation_drain_batch_seconds_count") >= 1
    assert moved(before, after, "moderation_drain_batch_seconds_sum") > 0
    assert moved(before, after, "moderation_decisions_total", action="report.fix", role="editor") == 1
    assert moved(before, after, "moderation_decisions_total", action="comment.approve", role="moderator") == 1
    assert not [key for key in after if key[0] == "moderation_decisions_total" and ("action", "comment.reopen") in key[1]]
    assert moved(before, after, "moderation_time_to_decision_seconds_count", target="cluster") == 1
    assert moved(before, after, "moderation_time_to_decision_seconds_count", target="comment") == 1
    assert moved(before, after, "moderation_time_to_decision_seconds_bucket", target="comment", le="60.0") == 1
    assert moved(before, after, "moderation_webhook_deliveries_total", outcome="http_error") == 1
    assert moved(before, after, "moderation_webhook_deliveries_total", outcome="ok") == 0


def test_every_metric_has_a_grafana_panel_and_a_row_in_the_docs(metrics_app, client):
    text = client.get("/metrics", headers=AUTH).get_data(as_text=True)
    names = {family.name for family in text_string_to_metric_families(text) if family.name.startswith("moderation_")}
    assert {"moderation_ingest", "moderation_inbox_oldest_age_seconds", "moderation_redis_up"} <= names
    dashboard = json.loads((ROOT / "deploy" / "grafana-dashboard.json").read_text(encoding="utf-8"))
    expressions = " ".join(target["expr"] for panel in dashboard["panels"] for target in panel["targets"])
    docs = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")
    assert sorted(n for n in names if n not in expressions) == [], "add a panel to deploy/grafana-dashboard.json"
    assert sorted(n for n in names if f"`{n}" not in docs) == [], "add a row to docs/deployment.md's metrics table"


def test_a_decision_counts_only_when_it_commits(app):
    from moderation.auth import create_user  # noqa: PLC0415

    with app.app_context():
        user, _ = create_user("rolled-back@news.example", "editor")
        db.session.commit()
        counted = metrics.DECISIONS.labels("comment.reject", "editor")
        start = counted._value.get()
        db.session.execute(sa.text("SELECT 1"))  # a service has loaded its item
        audit(user, "comment.reject", Comment(id=10**6, status="pending"))
        db.session.rollback()  # e.g. a unit of work about to be redone after "database is locked"
        assert counted._value.get() == start
        db.session.commit()  # a later commit of the same session does not count it either
        assert counted._value.get() == start
        audit(user, "comment.reject", Comment(id=10**6, status="pending"))
        db.session.rollback()
        audit(user, "site.update", Comment(id=10**6, status="pending"))  # not a decision
        db.session.commit()
        assert counted._value.get() == start


def test_redis_down_is_a_503_counted_as_unavailable_and_as_a_5xx(make_app, metrics_app, client, site):
    dead = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", METRICS_TOKEN=TOKEN)
    before = scrape(client)
    response = dead.test_client().post("/api/v1/comments", json=comment_payload())
    assert response.status_code == 503
    after = scrape(client)
    assert moved(before, after, "moderation_ingest_total", kind="comments", outcome="unavailable") == 1
    assert moved(before, after, "moderation_http_server_errors_total", status="503", blueprint="api") == 1
    down = parse(dead.test_client().get("/metrics", headers=AUTH).get_data(as_text=True))
    assert value(down, "moderation_redis_up") == 0


def test_a_mail_smtp_refuses_is_counted(metrics_app, client):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    metrics_app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_TIMEOUT=2)
    before = scrape(client)
    with metrics_app.app_context(), pytest.raises(OSError):
        mail.send(mail.build("editor@news.example", "subject", "body", "en"))
    metrics_app.config["SMTP_HOST"] = None  # e-mail off is not a failure
    with metrics_app.app_context(), pytest.raises(mail.MailDisabled):
        mail.send(mail.build("editor@news.example", "subject", "body", "en"))
    after = scrape(client)
    assert moved(before, after, "moderation_mail_failures_total") == 1
    assert issubclass(smtplib.SMTPException, OSError)  # what count_exceptions(OSError) relies on


# -- multiprocess: a real gunicorn with two workers, and a queue worker --------------------------------

def _post_slowly_then(base_port, body, second):
    """Send all but the last byte of a POST on one connection (a sync worker is now stuck
    reading it), run `second()` (which another worker must serve), then finish the first."""
    head = (f"POST /api/v1/comments HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", base_port), timeout=20) as sock:
        sock.sendall(head + body[:-1])
        time.sleep(0.5)  # accepted by a worker, which now waits for the rest of the body
        second()
        sock.sendall(body[-1:])
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 202"), answer[:200]


def _post(port, body):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    conn.request("POST", "/api/v1/comments", body, {"Content-Type": "application/json"})
    response = conn.getresponse()
    response.read()
    conn.close()
    assert response.status == 202


def _ingest_by_process(directory):
    """{pid: accepted comments} from each process's own counter file."""
    counts = {}
    for path in Path(directory).glob("counter_*.db"):
        pid = int(path.stem.rpartition("_")[2])
        for family in MultiProcessCollector.merge([str(path)]):
            for sample in family.samples:
                if sample.name == "moderation_ingest_total" and sample.labels == {"kind": "comments",
                                                                                "outcome": "accepted"}:
                    counts[pid] = counts.get(pid, 0) + sample.value
    return counts


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_gunicorn_workers_and_a_queue_worker_add_up_in_one_scrape(app, site, tmp_path):
    directory = tmp_path / "prometheus"
    port = free_port()
    procs = Processes(app, tmp_path / "logs")
    env = {"PROMETHEUS_MULTIPROC_DIR": directory, "MODERATION_METRICS_TOKEN": TOKEN}
    rounds = 3
    try:
        web = procs._start("web", [
            sys.executable, "-m", "gunicorn", "--config", str(ROOT / "deploy" / "gunicorn.conf.py"),
            "--workers", "2", "--bind", f"127.0.0.1:{port}", "--timeout", "30", "--no-control-socket",
            "--chdir", str(ROOT), "wsgi:app"], **env)
        wait_http(f"http://127.0.0.1:{port}")
        for _ in range(rounds):
            _post_slowly_then(port, json.dumps(comment_payload()).encode(),
                              lambda: _post(port, json.dumps(comment_payload()).encode()))
        per_process = _ingest_by_process(directory)
        assert len([pid for pid, n in per_process.items() if n]) == 2, per_process
        assert sum(per_process.values()) == 2 * rounds

        procs.worker("worker-1", **env)
        wait_for(lambda: sum(stored_ids(app).values()) == 2 * rounds, 60, "the queue worker stored the comments")

        def scraped():
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
            conn.request("GET", "/metrics", headers=AUTH)
            response = conn.getresponse()
            assert response.status == 200
            samples = parse(response.read().decode())
            return samples if value(samples, "moderation_drain_batch_seconds_count") else None

        # The drain's batch time is written by the queue worker's process, read by a web worker.
        samples = wait_for(scraped, 30, "the drain batch time reached the scrape", interval=0.5)
        assert value(samples, "moderation_ingest_total", kind="comments", outcome="accepted") == 2 * rounds
        assert value(samples, "moderation_inbox_depth") == 0
        writers = {int(p.stem.rpartition("_")[2]) for p in directory.glob("histogram_*.db")}
        assert web.pid not in writers and len(writers) >= 3  # two web workers and the queue worker
    finally:
        procs.stop_all()
    assert os.listdir(directory)
