"""Reader flags: POST /api/v1/comments/<id>/flags, once per reader, K flags -> Flagged queue."""
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import AuditEntry, Comment, CommentFlag, Site
from payloads import ARTICLE, comment_payload, new_client_id


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
    return client.post(
        f"/api/v1/comments/{comment_id}/flags",
        json={"site": site, "reason": reason, "client_id": new_client_id()},
        environ_base={"REMOTE_ADDR": address},
    )


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
