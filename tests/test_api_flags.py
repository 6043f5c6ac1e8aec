"""Reader flags: POST /api/v1/comments/<id>/flags, once per reader, K flags -> Flagged queue."""
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import AuditEntry, Comment, CommentFlag, Site

from support.payloads import ARTICLE, comment_payload, new_client_id
from support.readers import post_as_browser


def published_comment(app, client, drain, staff):
    payload = comment_payload()
    assert client.post("/api/v1/comments", json=payload).status_code == 202
    drain()
    with app.app_context():
        comment_id = db.session.execute(sa.select(Comment.id)).scalar_one()
    response = client.post(f"/api/v1/moderation/comments/{comment_id}/approve", headers=staff.headers())
    assert response.status_code == 200
    return comment_id


def flag(client, comment_id, address, reason="abuse", site="test-site"):
    """One browser per address: it keeps the anonymous reader id it was issued (docs/identity.md)."""
    return post_as_browser(client, f"/api/v1/comments/{comment_id}/flags",
                           {"site": site, "reason": reason, "client_id": new_client_id()}, address, site)


def test_flags_from_distinct_readers_move_a_comment_to_flagged(app, client, site, drain, staff):
    comment_id = published_comment(app, client, drain, staff)
    with app.app_context():
        db.session.get(Site, site.id).flag_threshold = 2
        db.session.commit()
    assert flag(client, comment_id, "10.0.0.1").status_code == 202
    assert flag(client, comment_id, "10.0.0.1", reason="spam").status_code == 202  # same reader again
    drain()
    with app.app_context():
        assert db.session.get(Comment, comment_id).status == "approved"
        assert db.session.execute(sa.select(sa.func.count()).select_from(CommentFlag)).scalar_one() == 1
    assert flag(client, comment_id, "10.0.0.1", reason="offtopic").status_code == 202  # in a later batch
    drain()
    with app.app_context():
        assert db.session.get(Comment, comment_id).status == "approved"
    assert flag(client, comment_id, "10.0.0.2", reason="spam").status_code == 202
    drain()
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        assert comment.status == "flagged"
        assert any("abuse ×1" in r for r in comment.spam_reasons)
        assert any("spam ×1" in r for r in comment.spam_reasons)
        entry = db.session.execute(sa.select(AuditEntry)).scalars().all()[-1]
        assert (entry.action, entry.actor_label, entry.after) == ("comment.flagged", "system", {"status": "flagged"})
    listed = client.get("/api/v1/comments", query_string={"site": "test-site", "url": ARTICLE}).json
    assert listed["total"] == 0  # hidden from readers until a moderator decides


def test_only_published_comments_of_the_site_can_be_flagged(app, client, site, drain):
    assert client.post("/api/v1/comments", json=comment_payload()).status_code == 202
    drain()
    with app.app_context():
        pending_id = db.session.execute(sa.select(Comment.id)).scalar_one()
    response = flag(client, pending_id, "10.0.0.3")
    assert response.status_code == 404 and response.json["error"] == "not_found"
    assert flag(client, 999999, "10.0.0.3").status_code == 404


def test_bad_flag_fields_are_400(app, client, site, drain, staff):
    comment_id = published_comment(app, client, drain, staff)
    response = flag(client, comment_id, "10.0.0.4", reason="boring")
    assert response.status_code == 400 and "reason" in response.json["fields"]
    response = client.post(f"/api/v1/comments/{comment_id}/flags", json={"site": "test-site"})
    assert response.status_code == 400 and "client_id" in response.json["fields"]
    assert flag(client, comment_id, "10.0.0.4", site="nope").status_code == 403


def test_a_site_can_keep_flagged_comments_visible(app, client, site, drain, staff, auth):
    comment_id = published_comment(app, client, drain, staff)
    with app.app_context():
        db.session.get(Site, site.id).flag_threshold = 1
        db.session.commit()
    assert flag(client, comment_id, "10.0.0.1").status_code == 202
    drain()
    query = {"site": "test-site", "url": ARTICLE}
    hidden = client.get("/api/v1/comments", query_string=query)
    assert hidden.json["total"] == 0
    # The admin switches the site to "keep flagged comments visible" on the screening page.
    auth.login(role="admin")
    path = f"/dashboard/admin/sites/{site.id}/screening"
    form = {"csrf_token": auth.csrf(path), "use_default_words": "1", "banned_words": "", "suspect_words": "",
            "max_links": "2", "min_seconds": "3", "velocity_count": "3", "velocity_seconds": "60",
            "repeat_hours": "24", "trusted_after": "3", "auto_spam": "0.9", "hold_score": "0.5",
            "surge_comments": "30", "surge_window_minutes": "10", "surge_spam_share": "0.5",
            "surge_min_comments": "10", "surge_quiet_minutes": "30", "flagged_visible": "1"}
    assert client.post(path, data=form).status_code == 302
    shown = client.get("/api/v1/comments", query_string=query, headers={"If-None-Match": hidden.headers["ETag"]})
    assert shown.status_code == 200  # the list changed: not a stale 304
    assert shown.json["total"] == 1 and shown.json["comments"][0]["id"] == comment_id
    with app.app_context():
        assert db.session.get(Comment, comment_id).status == "flagged"  # still in the moderators' queue
    # Visible flagged comments can be flagged by more readers.
    assert flag(client, comment_id, "10.0.0.2").status_code == 202
