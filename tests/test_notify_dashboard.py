"""The admin's per-site webhooks pages: add, edit, rotate, test-send (real receiver), log, delete."""
import re

import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import AuditEntry, Webhook, WebhookDelivery
from moderation.notify import signing

from support.notify_servers import Receiver


def test_webhook_pages(app, client, auth, site, drain):
    app.config["WEBHOOK_ALLOWED_NETWORKS"] = ("127.0.0.0/8",)  # the receiver is on loopback
    auth.login(role="admin")
    new = f"/dashboard/admin/sites/{site.id}/webhooks/new"
    assert client.get("/dashboard/admin/webhooks").status_code == 200
    token = auth.csrf(new)
    form = {"csrf_token": token, "url": "ftp://cms.example/hook", "events": ["cluster.fixed"], "format": "json",
            "active": "1"}
    bad = client.post(new, data=form)
    assert bad.status_code == 400 and "http://" in bad.get_data(as_text=True)
    assert client.post(new, data=dict(form, url="https://api.telegram.org/bot1:SECRET/sendMessage",
                                      format="telegram")).status_code == 400  # no chat id
    with Receiver([200]) as receiver:
        created = client.post(new, data=dict(form, url=receiver.url + "/with-a-long-secret-path"))
        assert created.status_code == 200
        page = created.get_data(as_text=True)
        secret = re.search(r"<code data-secret>([^<]+)</code>", page).group(1)
        with app.app_context():
            hook = db.session.execute(sa.select(Webhook).order_by(Webhook.id.desc())).scalars().first()
            hook_id = hook.id
            assert hook.secret == secret and hook.events == ["cluster.fixed"]
        edit = f"/dashboard/admin/webhooks/{hook_id}"
        shown = client.get(edit).get_data(as_text=True)
        assert secret not in shown and secret[:4] + "…" in shown  # the secret is shown once
        assert "with-a-long-secret-path" not in shown  # tokens in URLs stay masked
        assert client.post(edit + "/test", data={"csrf_token": token}).status_code == 302
        drain()
        assert len(receiver.requests) == 1
        request = receiver.requests[0]
        assert request["headers"]["X-Webhook-Event"] == "ping"
        assert signing.verify(secret, request["headers"]["X-Signature"], request["headers"]["X-Timestamp"],
                              request["body"])
        log = client.get(edit).get_data(as_text=True)
        assert "<code>ping</code>" in log and "<td>200</td>" in log
        # Edit: empty URL keeps it, rotating issues a new secret shown once.
        rotated = client.post(edit, data={"csrf_token": token, "url": "", "events": ["cluster.fixed", "comment.pending"],
                                          "format": "slack", "active": "1", "rotate_secret": "1"})
        assert rotated.status_code == 200
        new_secret = re.search(r"<code data-secret>([^<]+)</code>", rotated.get_data(as_text=True)).group(1)
    with app.app_context():
        hook = db.session.get(Webhook, hook_id)
        assert hook.secret == new_secret != secret and hook.format == "slack"
        assert hook.url == receiver.url + "/with-a-long-secret-path"
        assert db.session.execute(sa.select(WebhookDelivery.status_code)).scalars().all() == [200]
        audit = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action.like("webhook.%"))
                                   .order_by(AuditEntry.id)).scalars().all()
        assert [a.action for a in audit][:2] == ["webhook.create", "webhook.update"]
        assert all(secret not in str(a.after) and new_secret not in str(a.after) for a in audit)
    assert client.post(f"/dashboard/admin/webhooks/{hook_id}/delete", data={}).status_code == 400  # CSRF
    assert client.post(f"/dashboard/admin/webhooks/{hook_id}/delete", data={"csrf_token": token}).status_code == 302
    with app.app_context():
        assert db.session.get(Webhook, hook_id) is None
    assert client.get(f"/dashboard/admin/webhooks/{hook_id}").status_code == 404
    auth.logout()
    auth.login(role="editor")
    assert client.get("/dashboard/admin/webhooks").status_code == 403
    assert client.get(new).status_code == 403
    assert client.get("/dashboard/notifications").status_code == 200
