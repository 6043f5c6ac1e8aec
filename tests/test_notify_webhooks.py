"""Signed webhooks against a real HTTP receiver, delivered and retried by the real RQ worker."""
import hashlib
import hmac
import time

import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import ReportCluster, Webhook, WebhookDelivery
from moderation.notify import signing

from support.notify_servers import Receiver
from support.payloads import ARTICLE, comment_payload, report_payload

API = "/api/v1/moderation"
LOOPBACK = ("127.0.0.0/8",)


@pytest.fixture(autouse=True)
def loopback_receivers(request):
    """These tests post to a receiver on 127.0.0.1: allow loopback, as an intranet setup would
    (moderation.notify.http refuses it by default; test_notify_http.py tests that)."""
    if "app" in request.fixturenames:
        request.getfixturevalue("app").config["WEBHOOK_ALLOWED_NETWORKS"] = LOOPBACK


def add_hook(app, site, url, events, fmt="json", chat_id=None):
    with app.app_context():
        hook = Webhook(site_id=site.id, url=url, events=list(events), format=fmt, chat_id=chat_id)
        db.session.add(hook)
        db.session.commit()
        return hook.id, hook.secret


def report_and_fix(app, client, staff, drain, correction="объявил"):
    assert client.post("/api/v1/reports", json=report_payload()).status_code == 202
    drain()
    with app.app_context():
        cluster_id = db.session.execute(sa.select(ReportCluster.id)).scalar_one()
    response = client.post(f"{API}/clusters/{cluster_id}/fix", json={"correction": correction},
                           headers=staff.headers("editor"))
    assert response.status_code == 200
    drain()
    return cluster_id


def deliveries(app):
    with app.app_context():
        return [(d.event, d.attempt, d.status_code, d.error, d.delivery_id) for d in db.session.execute(
            sa.select(WebhookDelivery).order_by(WebhookDelivery.id)).scalars()]


def test_cluster_fixed_tells_the_cms_with_a_signature_that_verifies(app, client, site, staff, drain):
    with Receiver([200]) as receiver:
        _hook_id, secret = add_hook(app, site, receiver.url, ["cluster.fixed"])
        cluster_id = report_and_fix(app, client, staff, drain)
    assert len(receiver.requests) == 1  # cluster.created was not subscribed
    request = receiver.requests[0]
    headers, body = request["headers"], request["body"]
    # The documented recipe, written out independently of moderation.notify.signing:
    expected = hmac.new(secret.encode(), headers["X-Timestamp"].encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["X-Signature"] == "sha256=" + expected
    assert abs(int(headers["X-Timestamp"]) - time.time()) < 120
    assert signing.verify(secret, headers["X-Signature"], headers["X-Timestamp"], body)
    assert not signing.verify("another secret", headers["X-Signature"], headers["X-Timestamp"], body)
    assert not signing.verify(secret, headers["X-Signature"], headers["X-Timestamp"], body + b" ")
    # An old timestamp is refused even with a valid signature (replay window).
    old = int(headers["X-Timestamp"]) - 3600
    assert not signing.verify(secret, signing.sign(secret, old, body), old, body)
    payload = receiver.json(0)
    assert headers["X-Webhook-Event"] == payload["event"] == "cluster.fixed"
    assert payload["site"] == "test-site" and payload["delivery_id"] == headers["X-Webhook-Delivery"]
    data = payload["data"]
    assert (data["url"], data["exact"], data["prefix"], data["suffix"], data["correction"]) == (
        ARTICLE, "обьявил", "Вчера мэр ", " о запуске", "объявил")
    assert data["cluster_id"] == cluster_id
    assert [(event, attempt, status) for event, attempt, status, *_ in deliveries(app)] == [("cluster.fixed", 1, 200)]


def test_a_failing_receiver_is_retried_with_backoff_and_both_attempts_are_logged(app, client, site, staff, drain):
    from moderation.jobs.worker import run_worker

    app.config["NOTIFY_RETRY_INTERVALS"] = [1, 1]
    with Receiver([500, 200]) as receiver:
        add_hook(app, site, receiver.url, ["cluster.fixed"])
        report_and_fix(app, client, staff, drain)
        log = deliveries(app)
        assert [(e, a, s, err) for e, a, s, err, _ in log] == [("cluster.fixed", 1, 500, "HTTP 500")]
        # Backoff: the retry waits in RQ's scheduled registry, not in the queue.
        assert app.broker.queue.scheduled_job_registry.count == 1 and app.broker.queue.count == 0
        time.sleep(1.2)
        run_worker(app, burst=True, with_scheduler=True)  # the scheduler moves the due retry, the worker runs it
    log = deliveries(app)
    assert [(e, a, s) for e, a, s, _err, _ in log] == [("cluster.fixed", 1, 500), ("cluster.fixed", 2, 200)]
    assert log[0][4] == log[1][4]  # one delivery, two attempts
    assert len(receiver.requests) == 2
    assert receiver.requests[0]["headers"]["X-Webhook-Delivery"] == receiver.requests[1]["headers"]["X-Webhook-Delivery"]


def test_a_receiver_refusing_with_4xx_is_not_retried(app, client, site, staff, drain):
    app.config["NOTIFY_RETRY_INTERVALS"] = [0, 0]
    with Receiver([410, 200]) as receiver:
        add_hook(app, site, receiver.url, ["cluster.fixed"])
        report_and_fix(app, client, staff, drain)
    assert [(a, s) for _e, a, s, _err, _ in deliveries(app)] == [(1, 410)]
    assert len(receiver.requests) == 1


def test_unreachable_receiver_is_logged_as_an_error_and_retried(app, client, site, staff, drain):
    app.config["NOTIFY_RETRY_INTERVALS"] = [0]
    with Receiver() as receiver:
        dead = receiver.url
    add_hook(app, site, dead, ["cluster.fixed"])  # the server is closed: connection refused
    report_and_fix(app, client, staff, drain)
    log = deliveries(app)
    assert [(a, s) for _e, a, s, _err, _ in log] == [(1, None), (2, None)]
    assert all(err for *_x, err, _d in log)


def test_every_event_kind_reaches_a_subscribed_hook(app, client, site, staff, drain):
    with Receiver([200]) as receiver:
        add_hook(app, site, receiver.url, ["cluster.created", "comment.pending", "comment.approved",
                                           "comment.rejected", "cluster.fixed"])
        client.post("/api/v1/reports", json=report_payload())
        client.post("/api/v1/reports", json=report_payload())  # same spot: still one cluster.created
        first, second = comment_payload(), comment_payload(body="Второй комментарий")
        client.post("/api/v1/comments", json=first)
        client.post("/api/v1/comments", json=second)
        drain()
        events = sorted(receiver.json(i)["event"] for i in range(len(receiver.requests)))
        assert events == ["cluster.created", "comment.pending", "comment.pending"]
        from moderation.models import Comment

        with app.app_context():
            ids = db.session.execute(sa.select(Comment.id).order_by(Comment.id)).scalars().all()
        headers = staff.headers("moderator")
        assert client.post(f"{API}/comments/{ids[0]}/approve", headers=headers).status_code == 200
        assert client.post(f"{API}/comments/{ids[1]}/reject", json={"reason": "x"}, headers=headers).status_code == 200
        drain()
        later = [receiver.json(i) for i in range(3, len(receiver.requests))]
    assert sorted((p["event"], p["data"]["comment_id"], p["data"]["status"]) for p in later) == [
        ("comment.approved", ids[0], "approved"), ("comment.rejected", ids[1], "rejected")]


def test_a_persist_batch_queues_one_notify_job_not_one_per_item(app, client, site, drain):
    from moderation.jobs.drain import drain_inbox

    for n in range(5):
        client.post("/api/v1/comments", json=comment_payload(body=f"комментарий {n}"))
    queue = app.broker.queue
    queue.empty()
    with app.app_context():
        drain_inbox()  # inline: only the jobs it queues end up in the queue
    names = [job.func_name for job in queue.get_jobs()]
    assert names == ["moderation.jobs.notify.dispatch"]
    assert queue.get_jobs()[0].args == ("comment.pending", [1, 2, 3, 4, 5])


def test_slack_and_telegram_formats(app, client, site, drain):
    with Receiver([200]) as receiver:
        add_hook(app, site, receiver.url + "/slack", ["comment.pending"], fmt="slack")
        add_hook(app, site, receiver.url + "/tg", ["comment.pending"], fmt="telegram", chat_id="-1001234")
        client.post("/api/v1/comments", json=comment_payload(author="A&B", body="<b>жирно</b> & <script>x</script>"))
        client.post("/api/v1/comments", json=comment_payload(body="второй"))
        drain()
    by_path = {r["path"]: r for r in receiver.requests}
    assert sorted(by_path) == ["/hook/slack", "/hook/tg"]  # one message each for the whole batch
    import json

    slack = json.loads(by_path["/hook/slack"]["body"])
    assert isinstance(slack["text"], str) and slack["text"]
    block = slack["blocks"][0]
    assert block["type"] == "section" and block["text"]["type"] == "mrkdwn"
    assert "&lt;b&gt;жирно&lt;/b&gt; &amp; &lt;script&gt;" in block["text"]["text"]
    assert "<script>" not in block["text"]["text"]
    assert f"<{ARTICLE}|Новая трамвайная линия>" in block["text"]["text"]
    tg = json.loads(by_path["/hook/tg"]["body"])
    assert set(tg) >= {"chat_id", "text", "parse_mode"}
    assert tg["chat_id"] == "-1001234" and tg["parse_mode"] == "HTML"
    assert tg["text"].startswith("<b>Комментарий ждёт модерации</b>")  # the site's language (ru)
    assert "A&amp;B: &lt;b&gt;жирно&lt;/b&gt; &amp; &lt;script&gt;" in tg["text"]
    assert f'<a href="{ARTICLE}">Новая трамвайная линия</a>' in tg["text"]
    assert "второй" in tg["text"]


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd", "http://", "javascript:alert(1)"])
def test_only_http_urls_are_posted_to(url):
    from moderation.notify.http import DeliveryError, check_url, post

    assert check_url(url)
    with pytest.raises(DeliveryError):
        post(url, b"{}", {})


def test_redirects_are_not_followed(app):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    import threading

    from moderation.notify.http import post

    hits = []

    class Redirect(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            hits.append(self.path)
            self.send_response(307)
            self.send_header("Location", "/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        status, _ = post(f"http://127.0.0.1:{server.server_address[1]}/hook", b"{}", {}, timeout=5,
                         allowed_networks=LOOPBACK)
    finally:
        server.shutdown()
        server.server_close()
    assert status == 307 and hits == ["/hook"]


def test_telegram_text_is_cut_at_whole_lines_within_the_limit():
    from types import SimpleNamespace

    from moderation.notify.payloads import TELEGRAM_LIMIT, telegram

    site = SimpleNamespace(name="<Site & Co>", language="en")
    items = [{"url": f"https://news.example/{i}", "title": None, "author": "A", "body": "&<>" * 500}
             for i in range(10)]
    message = telegram("comment.pending", site, items, "@channel")
    assert len(message["text"]) <= TELEGRAM_LIMIT
    assert message["text"].startswith("<b>Comment awaits moderation</b> · &lt;Site &amp; Co&gt;")
    assert message["text"].endswith("…") and message["text"].count("<a href=") < 10
