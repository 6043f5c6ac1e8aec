"""The site admin page shows, creates and rotates the SSO secret; audited without the secret."""
import json

import sqlalchemy as sa

from moderation.extensions import db
from moderation.identity import sso
from moderation.models import AuditEntry


def test_admin_creates_shows_and_rotates_the_secret_never_in_the_audit(app, client, auth, site):
    auth.login(role="admin")
    page = client.get(f"/dashboard/admin/sites/{site.id}/sso").get_data(as_text=True)
    assert "data-sso-secret" not in page and "Create secret" in page
    csrf = auth.csrf(f"/dashboard/admin/sites/{site.id}/sso")
    assert client.post(f"/dashboard/admin/sites/{site.id}/sso", data={"csrf_token": csrf}).status_code == 302
    with app.app_context():
        first = sso.sso_keys(site.id).current
    assert first in client.get(f"/dashboard/admin/sites/{site.id}/sso").get_data(as_text=True)
    client.post(f"/dashboard/admin/sites/{site.id}/sso", data={"csrf_token": csrf})
    with app.app_context():
        keys = sso.sso_keys(site.id)
        assert keys.current != first and keys.previous == first and keys.previous_valid_until
        entries = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "site.sso_secret")
                                     .order_by(AuditEntry.id)).scalars().all()
        assert [e.after for e in entries] == [{"rotated": False}, {"rotated": True}]
        dumped = json.dumps([e.to_dict() for e in entries])
        assert first not in dumped and keys.current not in dumped
    page = client.get(f"/dashboard/admin/sites/{site.id}/sso").get_data(as_text=True)
    assert keys.current in page and "previous secret is accepted until" in page
    assert f"/dashboard/admin/sites/{site.id}/sso" in client.get(f"/dashboard/admin/sites/{site.id}").get_data(as_text=True)


def test_without_csrf_or_as_an_editor_nothing_happens(app, client, auth, site):
    auth.login(role="admin")
    assert client.post(f"/dashboard/admin/sites/{site.id}/sso", data={}).status_code == 400
    auth.logout()
    auth.login(role="editor")
    assert client.get(f"/dashboard/admin/sites/{site.id}/sso").status_code == 403
    with app.app_context():
        assert sso.sso_keys(site.id) is None
