"""Blocking a reader from the dashboard and tuning a site's screening."""
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import AuditEntry, BlockedCommenter, Comment, Site
from payloads import comment_payload


def test_block_author_rejects_and_blocks_their_next_comments(app, client, auth, site, drain):
    first = comment_payload(email="troll@mail.example")
    assert client.post("/api/v1/comments", json=first, environ_base={"REMOTE_ADDR": "10.8.0.1"}).status_code == 202
    drain()
    with app.app_context():
        comment_id = db.session.execute(sa.select(Comment.id)).scalar_one()
    auth.login(role="moderator")
    response = client.post(f"/dashboard/comments/{comment_id}/block",
                           data={"csrf_token": auth.csrf("/dashboard/"), "reason": "троллинг"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Comment, comment_id).status == "rejected"
        kinds = sorted(db.session.execute(sa.select(BlockedCommenter.kind)).scalars())
        assert kinds == ["address", "email"]
        actions = db.session.execute(sa.select(AuditEntry.action).order_by(AuditEntry.id)).scalars().all()
        assert actions == ["commenter.block", "comment.reject"]
    again = comment_payload(body="снова я")
    client.post("/api/v1/comments", json=again, environ_base={"REMOTE_ADDR": "10.8.0.1"})
    drain()
    with app.app_context():
        row = db.session.execute(sa.select(Comment).where(Comment.client_id == again["client_id"])).scalar_one()
        assert (row.status, row.spam_reasons) == ("rejected", ["blocked commenter (address)"])


def test_screening_settings_page_validates_and_saves(app, client, auth, site):
    auth.login(role="admin")
    path = f"/dashboard/admin/sites/{site.id}/screening"
    page = client.get(path)
    assert page.status_code == 200 and "velocity_count" in page.get_data(as_text=True)
    form = {"csrf_token": auth.csrf(path), "use_default_words": "1", "banned_words": "окна*\nбалкон",
            "suspect_words": "", "max_links": "1", "min_seconds": "5", "velocity_count": "2",
            "velocity_seconds": "30", "repeat_hours": "12", "trusted_after": "5",
            "auto_spam": "0.95", "hold_score": "0.6", "flagged_visible": "1",
            "surge_comments": "40", "surge_window_minutes": "5", "surge_spam_share": "0.4",
            "surge_min_comments": "8", "surge_quiet_minutes": "60"}
    assert client.post(path, data=dict(form, max_links="-1")).status_code == 400
    assert client.post(path, data=dict(form, surge_spam_share="1.5")).status_code == 400
    assert client.post(path, data=dict(form, hold_score="0.99")).status_code == 400
    assert client.post(path, data=form).status_code == 302
    with app.app_context():
        settings = db.session.get(Site, site.id).settings
        assert settings["banned_words"] == ["окна*", "балкон"] and settings["max_links"] == 1
        assert settings["auto_spam"] == 0.95
        assert settings["flagged_visible"] is True and settings["surge_comments"] == 40
        assert settings["surge_spam_share"] == 0.4
    auth.logout()
    auth.login(role="editor")
    assert client.get(path).status_code == 403
