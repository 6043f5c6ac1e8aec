"""Webhook SSRF guard (moderation.notify.http) with real sockets on loopback: refused addresses,
coarse errors in the delivery log, and the admin's form."""
import socket
import threading
import time

import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import Webhook, WebhookDelivery
from moderation.notify.http import BLOCKED, NO_HTTP, REFUSED, TIMEOUT, Blocked, DeliveryError, post

from support.notify_servers import Receiver

LOOPBACK = ("127.0.0.0/8", "::1/128")


class TcpServer:
    """A raw TCP listener that counts connections and answers each with `reply` (or nothing)."""

    def __init__(self, host="127.0.0.1", reply=None, hold=False):
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.reply, self.hold = reply, hold
        self.accepted = 0
        self.open = []
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            if self.reply is not None:
                try:
                    conn.recv(65536)
                    conn.sendall(self.reply)
                except OSError:
                    pass
            if self.hold:
                self.open.append(conn)  # never answers: the client must time out
            else:
                conn.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.sock.close()
        for conn in self.open:
            conn.close()


@pytest.fixture
def listener():
    with TcpServer(reply=b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") as server:
        yield server


@pytest.mark.parametrize("host", [
    "127.0.0.1", "2130706433", "0x7f000001", "0177.0.0.1", "127.1", "localhost", "[::ffff:127.0.0.1]",
])
def test_loopback_in_any_spelling_is_refused_before_connecting(listener, host):
    with pytest.raises(Blocked) as refused:
        post(f"http://{host}:{listener.port}/hook", b"{}", {}, timeout=2)
    assert str(refused.value) == BLOCKED
    assert listener.accepted == 0
    # The same URL with loopback allowed by configuration reaches the listener.
    if host != "[::ffff:127.0.0.1]":
        assert post(f"http://{host}:{listener.port}/hook", b"{}", {}, timeout=2, allowed_networks=LOOPBACK)[0] == 200
        assert listener.accepted == 1


def test_ipv6_loopback_is_refused():
    with TcpServer("::1", reply=b"HTTP/1.1 204 No Content\r\n\r\n") as server:
        with pytest.raises(Blocked):
            post(f"http://[::1]:{server.port}/hook", b"{}", {}, timeout=2)
        assert server.accepted == 0
        assert post(f"http://[::1]:{server.port}/hook", b"{}", {}, timeout=2, allowed_networks=LOOPBACK)[0] == 204


@pytest.mark.parametrize("url", ["http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/",
                                 "http://[2002:7f00:1::]/", "http://0.0.0.0/", "http://[::]/"])
def test_private_link_local_and_wrapped_addresses_are_refused(url):
    with pytest.raises(Blocked):
        post(url, b"{}", {}, timeout=1)


def test_the_services_own_host_is_refused():
    with pytest.raises(Blocked):
        post("https://moderation.example/api/v1/moderation/x", b"{}", {}, refused_hosts=("moderation.example",))


def test_errors_are_coarse_words_without_banners_or_socket_details():
    with TcpServer(reply=b"SSH-2.0-OpenSSH_9.2p1 internal-build-host-42\r\n") as banner:
        with pytest.raises(DeliveryError) as not_http:
            post(f"http://127.0.0.1:{banner.port}/", b"{}", {}, timeout=2, allowed_networks=LOOPBACK)
    assert str(not_http.value) == NO_HTTP
    # A port bound and released, never listened on: a listener closed while its accept
    # thread still blocks keeps accepting in the kernel, so it would not be refused.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(DeliveryError) as refused:
        post(f"http://127.0.0.1:{port}/", b"{}", {}, timeout=2, allowed_networks=LOOPBACK)
    assert str(refused.value) == REFUSED
    with TcpServer(hold=True) as silent:
        started = time.monotonic()
        with pytest.raises(DeliveryError) as slow:
            post(f"http://127.0.0.1:{silent.port}/", b"{}", {}, timeout=0.5, allowed_networks=LOOPBACK)
        assert time.monotonic() - started < 3
    assert str(slow.value) == TIMEOUT


def _deliveries(app):
    with app.app_context():
        return [(d.attempt, d.status_code, d.error) for d in db.session.execute(
            sa.select(WebhookDelivery).order_by(WebhookDelivery.id)).scalars()]


def _ping(app, url):
    from moderation.jobs.notify import deliver_webhook

    with app.app_context():
        hook = Webhook(site_id=db.session.execute(sa.text("SELECT id FROM site")).scalar_one(), url=url,
                       events=["cluster.fixed"], format="json")
        db.session.add(hook)
        db.session.commit()
        return deliver_webhook(hook.id, "ping", [])  # inline, in this app's context


def test_a_webhook_to_loopback_is_logged_as_blocked_and_not_retried(app, site):
    with Receiver([200]) as receiver:
        decimal = receiver.url.replace("127.0.0.1", "2130706433")
        assert _ping(app, decimal) == BLOCKED  # returned, not raised: RQ does not retry it
        assert receiver.requests == []
    assert _deliveries(app) == [(1, None, BLOCKED)]


def test_the_delivery_log_is_no_port_scanner(app, site):
    app.config["WEBHOOK_ALLOWED_NETWORKS"] = LOOPBACK
    app.config["WEBHOOK_TIMEOUT"] = 0.5
    from moderation.jobs.notify import DeliveryFailed

    secret_body = b"redis_version:7.0.11 os:Linux internal"
    reply = b"HTTP/1.1 500 Oops\r\nContent-Length: %d\r\n\r\n%s" % (len(secret_body), secret_body)
    with TcpServer(reply=b"-ERR unknown command 'POST', with args beginning with: '/'\r\n") as redis_like, \
            TcpServer(reply=reply) as erroring:
        for url in (f"http://127.0.0.1:{redis_like.port}/", f"http://127.0.0.1:{erroring.port}/"):
            with pytest.raises(DeliveryFailed):
                _ping(app, url)
    log = _deliveries(app)
    assert [(status, error) for _a, status, error in log] == [(None, NO_HTTP), (500, "HTTP 500")]
    assert not any("ERR" in error or "redis" in error or "Errno" in error for *_x, error in log)


def test_the_form_refuses_a_non_public_webhook_url(app, client, auth, site):
    auth.login(role="admin")
    new = f"/dashboard/admin/sites/{site.id}/webhooks/new"
    form = {"csrf_token": auth.csrf(new), "events": ["cluster.fixed"], "format": "json", "active": "1"}
    for url in ("http://127.0.0.1:6379/", "http://2130706433/hook", "http://localhost/hook", "http://[::1]/",
                "http://169.254.169.254/latest/meta-data/"):
        refused = client.post(new, data=dict(form, url=url))
        assert refused.status_code == 400, url
        assert "not public" in refused.get_data(as_text=True)
    unresolved = client.post(new, data=dict(form, url="https://no-such-host.invalid/hook"))
    assert unresolved.status_code == 400 and "does not resolve" in unresolved.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(Webhook)).scalar_one() == 0
    app.config["WEBHOOK_ALLOWED_NETWORKS"] = ("127.0.0.0/8",)  # an intranet receiver, allowed on purpose
    assert client.post(new, data=dict(form, url="http://127.0.0.1:8080/hook")).status_code == 200
