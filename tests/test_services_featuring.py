"""Featured comments: the moderation action (API and dashboard key), audited, published comments only."""
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import AuditEntry, Comment

from support.payloads import ARTICLE, comment_payload


def two_comments(app, client, drain):
    payloads = [comment_payload(), comment_payload()]
    for payload in payloads:
        assert client.post("/api/v1/comments", json=payload).status_code == 202
    drain()
    with app.app_context():
        return db.session.execute(sa.select(Comment.id).order_by(Comment.id)).scalars().all()


def listed_ids(client):
    answer = client.get("/api/v1/comments", query_string={"site": "test-site", "url": ARTICLE}).json
    return [(c["id"], c["featured"]) for c in answer["comments"]]


def test_feature_puts_a_published_comment_first_and_is_audited(app, client, site, drain, staff):
    first, second = two_comments(app, client, drain)
    headers = staff.headers("moderator")
    response = client.post(f"/api/v1/moderation/comments/{second}/feature", headers=headers)
    assert response.status_code == 400 and "status" in response.json["fields"]  # pending: not yet
    for comment_id in (first, second):
        assert client.post(f"/api/v1/moderation/comments/{comment_id}/approve", headers=headers).status_code == 200
    before = client.get("/api/v1/comments", query_string={"site": "test-site", "url": ARTICLE})
    response = client.post(f"/api/v1/moderation/comments/{second}/feature", json={"reason": "best answer"},
                           headers=headers)
    assert response.status_code == 200 and response.json["featured"] is True
    assert response.json["status"] == "approved"
    assert listed_ids(client) == [(second, True), (first, False)]
    again = client.get("/api/v1/comments", query_string={"site": "test-site", "url": ARTICLE},
                       headers={"If-None-Match": before.headers["ETag"]})
    assert again.status_code == 200  # the list changed: a new ETag
    with app.app_context():
        entry = db.session.execute(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).scalars().first()
        assert (entry.action, entry.target_id, entry.after, entry.reason) == (
            "comment.feature", second, {"featured": True}, "best answer")
        count = db.session.execute(sa.select(sa.func.count()).select_from(AuditEntry)).scalar_one()
    # Featuring again changes nothing and writes nothing.
    assert client.post(f"/api/v1/moderation/comments/{second}/feature", headers=headers).status_code == 200
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(AuditEntry)).scalar_one() == count
    response = client.post(f"/api/v1/moderation/comments/{second}/unfeature", headers=headers)
    assert response.status_code == 200 and response.json["featured"] is False
    assert listed_ids(client) == [(first, False), (second, False)]
    with app.app_context():
        entry = db.session.execute(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).scalars().first()
        assert entry.action == "comment.unfeature"


def test_the_dashboard_offers_feature_on_published_comments(app, client, auth, site, drain, staff):
    first, second = two_comments(app, client, drain)
    assert client.post(f"/api/v1/moderation/comments/{first}/approve", headers=staff.headers()).status_code == 200
    auth.login(role="moderator")
    page = client.get("/dashboard/comments?status=approved").get_data(as_text=True)
    assert f"/dashboard/comments/{first}/feature" in page and 'data-key="p"' in page
    token = auth.csrf("/dashboard/")
    assert client.post(f"/dashboard/comments/{first}/feature", data={"csrf_token": token}).status_code == 302
    with app.app_context():
        assert db.session.get(Comment, first).featured is True
    page = client.get("/dashboard/comments?status=approved").get_data(as_text=True)
    assert f"/dashboard/comments/{first}/unfeature" in page and "data-featured-mark" in page
    assert client.post(f"/dashboard/comments/{first}/feature").status_code == 400  # no CSRF token


def test_a_featured_comment_taken_down_is_no_longer_featured(app, client, site, drain, staff):
    first, second = two_comments(app, client, drain)
    headers = staff.headers("moderator")
    for comment_id in (first, second):
        assert client.post(f"/api/v1/moderation/comments/{comment_id}/approve", headers=headers).status_code == 200
    assert client.post(f"/api/v1/moderation/comments/{second}/feature", headers=headers).status_code == 200
    assert client.post(f"/api/v1/moderation/comments/{second}/reject", headers=headers).status_code == 200
    with app.app_context():
        entry = db.session.execute(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).scalars().first()
        assert entry.action == "comment.reject" and entry.after == {"featured": False, "status": "rejected"}
    # Approved again, it is an ordinary comment until a moderator picks it again.
    assert client.post(f"/api/v1/moderation/comments/{second}/approve", headers=headers).status_code == 200
    assert listed_ids(client) == [(first, False), (second, False)]
