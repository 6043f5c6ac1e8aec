"""The token-protected moderation API: auth, queues, decisions and their audit trail."""
import uuid

import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import ApiToken, AuditEntry, Comment, Page, TypoReport, User
from moderation.models.accounts import hash_token
from moderation.models.base import utcnow
from moderation.models.sites import url_hash
from moderation.sanitizer import render_comment

from support.payloads import ARTICLE


API = "/api/v1/moderation"


# -- seeding (straight into the database: these tests are about the API) -----------

def _page(site_id, url):
    page = db.session.execute(
        sa.select(Page).where(Page.site_id == site_id, Page.url_hash == url_hash(url))
    ).scalar_one_or_none()
    if page is None:
        page = Page(site_id=site_id, url=url, url_hash=url_hash(url), title="Новая трамвайная линия")
        db.session.add(page)
        db.session.flush()
    return page


def seed_report(app, site_id, url=ARTICLE, **fields):
    values = dict(exact="обьявил", prefix="Вчера мэр ", suffix=" о запуске",
                  suggestion="объявил", status="new")
    values.update(fields)
    with app.app_context():
        page = _page(site_id, url)
        row = TypoReport(client_id=uuid.uuid4().hex, site_id=site_id, page_id=page.id, **values)
        db.session.add(row)
        db.session.commit()
        return row.id


def seed_comment(app, site_id, url=ARTICLE, body="Наконец-то!", **fields):
    values = dict(author="Анна", email="anna@mail.example", status="pending")
    values.update(fields)
    with app.app_context():
        page = _page(site_id, url)
        row = Comment(client_id=uuid.uuid4().hex, site_id=site_id, page_id=page.id,
                      body_raw=body, body_html=render_comment(body), **values)
        db.session.add(row)
        db.session.commit()
        return row.id


def audit_entries(app):
    with app.app_context():
        entries = db.session.execute(sa.select(AuditEntry).order_by(AuditEntry.id)).scalars().all()
        return [dict(e.to_dict(), actor_id=e.actor_id, site_id=e.site_id) for e in entries]


def user_of(app, token):
    with app.app_context():
        row = db.session.execute(
            sa.select(ApiToken).where(ApiToken.token_hash == hash_token(token))
        ).scalar_one()
        return row.user.id, row.user.email


def bearer(token):
    return {"Authorization": "Bearer " + token}


# -- authentication ----------------------------------------------------------------

@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer mod_not-a-real-token"},
    {"Authorization": "Basic dXNlcjpwYXNz"},
    {"Authorization": "Bearer "},
])
@pytest.mark.parametrize("method, path", [
    ("get", "/reports"),
    ("get", "/comments"),
    ("post", "/reports/1/fix"),
    ("post", "/comments/1/approve"),
])
def test_missing_or_bad_token_is_401(client, site, staff, headers, method, path):
    staff.token("admin")  # a real token exists; the request just does not carry it
    response = getattr(client, method)(API + path, headers=headers)
    assert response.status_code == 401
    assert response.json["error"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_unauthorized_request_changes_nothing(app, client, site):
    comment_id = seed_comment(app, site.id)
    response = client.post(f"{API}/comments/{comment_id}/approve")
    assert response.status_code == 401
    with app.app_context():
        assert db.session.get(Comment, comment_id).status == "pending"
    assert audit_entries(app) == []


def test_revoked_token_is_401(app, client, site, staff):
    token = staff.token("editor")
    assert client.get(API + "/reports", headers=bearer(token)).status_code == 200
    with app.app_context():
        row = db.session.execute(
            sa.select(ApiToken).where(ApiToken.token_hash == hash_token(token))
        ).scalar_one()
        row.revoked_at = utcnow()
        db.session.commit()

    response = client.get(API + "/reports", headers=bearer(token))
    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers


def test_inactive_user_is_401(app, client, site, staff):
    token = staff.token("editor")
    assert client.get(API + "/comments", headers=bearer(token)).status_code == 200
    user_id, _ = user_of(app, token)
    with app.app_context():
        db.session.get(User, user_id).active = False
        db.session.commit()

    assert client.get(API + "/comments", headers=bearer(token)).status_code == 401


def test_token_use_is_recorded(app, client, site, staff):
    token = staff.token("editor")
    client.get(API + "/comments", headers=bearer(token))
    with app.app_context():
        row = db.session.execute(
            sa.select(ApiToken).where(ApiToken.token_hash == hash_token(token))
        ).scalar_one()
        assert row.last_used_at is not None


# -- queues --------------------------------------------------------------------------

@pytest.mark.parametrize("status", ["new", "fixed", "rejected"])
def test_report_queues(app, client, site, staff, status):
    by_status = {s: seed_report(app, site.id, status=s) for s in ("new", "fixed", "rejected")}
    response = client.get(API + "/reports", query_string={"status": status}, headers=staff.headers())
    assert response.status_code == 200
    assert [r["id"] for r in response.json["items"]] == [by_status[status]]
    assert response.json["items"][0]["status"] == status
    assert response.json["next"] is None


def test_report_queue_defaults_to_new_and_shows_the_fields(app, client, site, staff):
    report_id = seed_report(app, site.id, position=77, kind="fact", comment="фамилия")
    seed_report(app, site.id, status="fixed")
    [item] = client.get(API + "/reports", headers=staff.headers()).json["items"]
    assert item["id"] == report_id
    assert item["site"] == "test-site"
    assert item["url"] == ARTICLE
    assert item["title"] == "Новая трамвайная линия"
    assert (item["exact"], item["prefix"], item["suffix"]) == ("обьявил", "Вчера мэр ", " о запуске")
    assert (item["position"], item["kind"], item["comment"]) == (77, "fact", "фамилия")
    assert item["suggestion"] == "объявил"


@pytest.mark.parametrize("status", ["pending", "approved", "rejected", "spam", "flagged"])
def test_comment_queues(app, client, site, staff, status):
    by_status = {
        s: seed_comment(app, site.id, status=s)
        for s in ("pending", "approved", "rejected", "spam", "flagged")
    }
    response = client.get(API + "/comments", query_string={"status": status}, headers=staff.headers())
    assert response.status_code == 200
    assert [c["id"] for c in response.json["items"]] == [by_status[status]]
    assert response.json["items"][0]["status"] == status


def test_comment_queue_defaults_to_pending(app, client, site, staff):
    pending = seed_comment(app, site.id)
    seed_comment(app, site.id, status="approved")
    items = client.get(API + "/comments", headers=staff.headers()).json["items"]
    assert [c["id"] for c in items] == [pending]
    assert items[0]["email"] == "anna@mail.example"


@pytest.mark.parametrize("path, status", [
    ("/reports", "pending"),
    ("/reports", "bogus"),
    ("/comments", "new"),
    ("/comments", "bogus"),
])
def test_bad_status_is_400(client, site, staff, path, status):
    response = client.get(API + path, query_string={"status": status}, headers=staff.headers())
    assert response.status_code == 400
    assert "status" in response.json["fields"]


def test_site_filter(app, client, site, post_site, staff):
    here = seed_comment(app, site.id)
    there = seed_comment(app, post_site.id)
    headers = staff.headers()
    both = client.get(API + "/comments", headers=headers).json["items"]
    assert [c["id"] for c in both] == [here, there]
    only = client.get(API + "/comments", query_string={"site": "post-site"}, headers=headers).json
    assert [c["id"] for c in only["items"]] == [there]


def test_keyset_pagination(app, client, site, staff):
    ids = [seed_report(app, site.id, exact=f"слово{i}") for i in range(5)]
    seed_report(app, site.id, status="fixed")  # another queue: never listed
    headers = staff.headers()

    seen, after, pages = [], None, 0
    while True:
        query = {"limit": 2} if after is None else {"limit": 2, "after": after}
        body = client.get(API + "/reports", query_string=query, headers=headers).json
        pages += 1
        assert len(body["items"]) <= 2
        seen += [r["id"] for r in body["items"]]
        if body["next"] is None:
            break
        assert body["next"] == body["items"][-1]["id"]
        after = body["next"]
        assert pages < 10

    assert seen == ids
    assert pages == 3


def test_pagination_of_an_exact_multiple_has_no_empty_last_page(app, client, site, staff):
    ids = [seed_comment(app, site.id) for _ in range(4)]
    headers = staff.headers()
    first = client.get(API + "/comments", query_string={"limit": 2}, headers=headers).json
    assert [c["id"] for c in first["items"]] == ids[:2]
    assert first["next"] == ids[1]
    second = client.get(API + "/comments", query_string={"limit": 2, "after": first["next"]},
                        headers=headers).json
    assert [c["id"] for c in second["items"]] == ids[2:]
    assert second["next"] is None


# -- report decisions ----------------------------------------------------------------

def test_fix_report_defaults_to_the_suggestion(app, client, site, staff):
    report_id = seed_report(app, site.id)
    token = staff.token("editor")
    actor_id, actor_email = user_of(app, token)

    response = client.post(f"{API}/reports/{report_id}/fix", headers=bearer(token))

    assert response.status_code == 200, response.json
    assert response.json["status"] == "fixed"
    assert response.json["correction"] == "объявил"
    assert response.json["decided_at"] is not None
    with app.app_context():
        row = db.session.get(TypoReport, report_id)
        assert (row.status, row.correction, row.decided_by_id) == ("fixed", "объявил", actor_id)
        cluster_id = row.cluster_id
    [entry] = audit_entries(app)
    assert entry["actor"] == actor_email
    assert entry["actor_id"] == actor_id
    assert entry["action"] == "report.fix"
    # Editors decide a spot: the audit names the cluster the report belongs to.
    assert (entry["target_type"], entry["target_id"], entry["site_id"]) == ("cluster", cluster_id, site.id)
    assert entry["before"] == {"status": "new", "correction": None}
    assert entry["after"] == {"status": "fixed", "correction": "объявил"}
    assert entry["reason"] is None
    # It left the "new" queue for the "fixed" one.
    headers = bearer(token)
    assert client.get(API + "/reports", headers=headers).json["items"] == []
    fixed = client.get(API + "/reports", query_string={"status": "fixed"}, headers=headers).json
    assert [r["id"] for r in fixed["items"]] == [report_id]


def test_fix_report_with_explicit_correction_and_reason(app, client, site, staff):
    report_id = seed_report(app, site.id)
    token = staff.token("admin")
    _, actor_email = user_of(app, token)

    response = client.post(f"{API}/reports/{report_id}/fix", headers=bearer(token),
                           json={"correction": "объявил о старте", "reason": "  уточнили  "})

    assert response.status_code == 200
    assert response.json["correction"] == "объявил о старте"
    assert response.json["reason"] == "уточнили"
    [entry] = audit_entries(app)
    assert entry["actor"] == actor_email
    assert entry["after"] == {"status": "fixed", "correction": "объявил о старте"}
    assert entry["reason"] == "уточнили"


def test_fix_report_rejects_a_non_string_correction(app, client, site, staff):
    report_id = seed_report(app, site.id)
    response = client.post(f"{API}/reports/{report_id}/fix", headers=staff.headers(),
                           json={"correction": 42})
    assert response.status_code == 400
    assert "correction" in response.json["fields"]
    with app.app_context():
        assert db.session.get(TypoReport, report_id).status == "new"
    assert audit_entries(app) == []


def test_reject_report_with_reason(app, client, site, staff):
    report_id = seed_report(app, site.id)
    token = staff.token("editor")
    actor_id, actor_email = user_of(app, token)

    response = client.post(f"{API}/reports/{report_id}/reject", headers=bearer(token),
                           json={"reason": "это не ошибка"})

    assert response.status_code == 200, response.json
    assert response.json["status"] == "rejected"
    assert response.json["reason"] == "это не ошибка"
    with app.app_context():
        row = db.session.get(TypoReport, report_id)
        assert (row.status, row.decision_reason, row.decided_by_id) == ("rejected", "это не ошибка", actor_id)
    [entry] = audit_entries(app)
    assert (entry["actor"], entry["action"]) == (actor_email, "report.reject")
    assert entry["before"] == {"status": "new", "correction": None}
    assert entry["after"] == {"status": "rejected", "correction": None}
    assert entry["reason"] == "это не ошибка"


def test_unknown_report_is_404(client, site, staff):
    response = client.post(f"{API}/reports/999999/fix", headers=staff.headers())
    assert response.status_code == 404


def test_moderator_is_forbidden_on_reports(app, client, site, staff):
    report_id = seed_report(app, site.id)
    headers = staff.headers("moderator")
    assert client.get(API + "/reports", headers=headers).status_code == 403
    assert client.post(f"{API}/reports/{report_id}/fix", headers=headers).status_code == 403
    assert client.post(f"{API}/reports/{report_id}/reject", headers=headers,
                       json={"reason": "x"}).status_code == 403
    with app.app_context():
        assert db.session.get(TypoReport, report_id).status == "new"
    assert audit_entries(app) == []
    # The same token works on comments.
    assert client.get(API + "/comments", headers=headers).status_code == 200


# -- comment decisions ---------------------------------------------------------------

def _public(client, **extra):
    return client.get("/api/v1/comments", query_string={"site": "test-site", "url": ARTICLE}, **extra)


def test_approve_comment_publishes_it_and_bumps_the_list(app, client, site, staff):
    comment_id = seed_comment(app, site.id)
    token = staff.token("moderator")
    actor_id, actor_email = user_of(app, token)
    before = _public(client)
    assert before.json["total"] == 0
    etag = before.headers["ETag"]
    assert _public(client, headers={"If-None-Match": etag}).status_code == 304

    response = client.post(f"{API}/comments/{comment_id}/approve", headers=bearer(token))

    assert response.status_code == 200, response.json
    assert response.json["status"] == "approved"
    after = _public(client, headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert after.headers["ETag"] != etag
    assert [c["id"] for c in after.json["comments"]] == [comment_id]
    with app.app_context():
        row = db.session.get(Comment, comment_id)
        assert row.decided_by_id == actor_id
        assert row.page.comments_version == 1
    [entry] = audit_entries(app)
    assert (entry["actor"], entry["actor_id"], entry["action"]) == (actor_email, actor_id, "comment.approve")
    assert (entry["target_type"], entry["target_id"]) == ("comment", comment_id)
    assert entry["before"] == {"status": "pending"}
    assert entry["after"] == {"status": "approved"}
    assert entry["reason"] is None


def test_approving_twice_writes_one_audit_entry(app, client, site, staff):
    comment_id = seed_comment(app, site.id)
    headers = staff.headers("moderator")
    assert client.post(f"{API}/comments/{comment_id}/approve", headers=headers).status_code == 200
    assert client.post(f"{API}/comments/{comment_id}/approve", headers=headers).status_code == 200
    assert len(audit_entries(app)) == 1


def test_reject_comment_with_reason_withdraws_it(app, client, site, staff):
    comment_id = seed_comment(app, site.id, status="approved")
    token = staff.token("editor")
    _, actor_email = user_of(app, token)
    assert _public(client).json["total"] == 1

    response = client.post(f"{API}/comments/{comment_id}/reject", headers=bearer(token),
                           json={"reason": "оскорбление"})

    assert response.status_code == 200, response.json
    assert response.json["status"] == "rejected"
    assert response.json["reason"] == "оскорбление"
    assert _public(client).json["total"] == 0
    [entry] = audit_entries(app)
    assert (entry["actor"], entry["action"]) == (actor_email, "comment.reject")
    assert entry["before"] == {"status": "approved"}
    assert entry["after"] == {"status": "rejected"}
    assert entry["reason"] == "оскорбление"


def test_reject_comment_with_too_long_reason_is_400(app, client, site, staff):
    comment_id = seed_comment(app, site.id)
    response = client.post(f"{API}/comments/{comment_id}/reject", headers=staff.headers(),
                           json={"reason": "x" * 501})
    assert response.status_code == 400
    assert "reason" in response.json["fields"]
    with app.app_context():
        assert db.session.get(Comment, comment_id).status == "pending"
    assert audit_entries(app) == []


def test_fix_comment_resanitizes_approves_and_audits_both_versions(app, client, site, staff):
    comment_id = seed_comment(app, site.id, body="Старый текст")
    token = staff.token("moderator")
    _, actor_email = user_of(app, token)
    new_body = '<script>alert(1)</script> Исправлено, см. https://news.kz/faq'

    response = client.post(f"{API}/comments/{comment_id}/fix", headers=bearer(token),
                           json={"body": new_body, "reason": "убрали ссылку на спам"})

    assert response.status_code == 200, response.json
    item = response.json
    assert item["status"] == "approved"
    assert item["body"] == new_body
    assert "<script" not in item["body_html"]
    assert "&lt;script&gt;" in item["body_html"]
    assert 'rel="nofollow ugc noopener"' in item["body_html"]
    assert item["edited_at"] is not None
    with app.app_context():
        row = db.session.get(Comment, comment_id)
        assert row.body_raw == new_body
        assert "<script" not in row.body_html
    public = _public(client).json
    assert [c["id"] for c in public["comments"]] == [comment_id]
    assert "<script" not in public["comments"][0]["body_html"]
    [entry] = audit_entries(app)
    assert (entry["actor"], entry["action"]) == (actor_email, "comment.fix")
    assert entry["before"] == {"body": "Старый текст", "status": "pending"}
    assert entry["after"] == {"body": new_body, "status": "approved"}
    assert entry["reason"] == "убрали ссылку на спам"


def test_fix_comment_without_body_is_400(app, client, site, staff):
    comment_id = seed_comment(app, site.id, body="Старый текст")
    response = client.post(f"{API}/comments/{comment_id}/fix", headers=staff.headers(), json={"body": "  "})
    assert response.status_code == 400
    assert "body" in response.json["fields"]
    with app.app_context():
        assert db.session.get(Comment, comment_id).body_raw == "Старый текст"
    assert audit_entries(app) == []


def test_every_action_writes_exactly_one_audit_entry(app, client, site, staff):
    token = staff.token("editor")
    _, actor_email = user_of(app, token)
    headers = bearer(token)
    actions = [
        (f"/reports/{seed_report(app, site.id, exact='раз')}/fix", {}, "report.fix"),
        (f"/reports/{seed_report(app, site.id, exact='два')}/reject", {"reason": "нет"}, "report.reject"),
        (f"/comments/{seed_comment(app, site.id)}/approve", {}, "comment.approve"),
        (f"/comments/{seed_comment(app, site.id)}/reject", {"reason": "спам"}, "comment.reject"),
        (f"/comments/{seed_comment(app, site.id)}/fix", {"body": "новый"}, "comment.fix"),
    ]
    for n, (path, body, action) in enumerate(actions, start=1):
        response = client.post(API + path, headers=headers, json=body)
        assert response.status_code == 200, (path, response.json)
        entries = audit_entries(app)
        assert len(entries) == n, path
        assert entries[-1]["action"] == action
        assert entries[-1]["actor"] == actor_email
        if path.startswith("/reports/"):  # decisions on reports are audited on their cluster
            with app.app_context():
                target = db.session.get(TypoReport, int(path.split("/")[2])).cluster_id
            assert entries[-1]["target_type"] == "cluster"
        else:
            target = int(path.split("/")[2])
        assert entries[-1]["target_id"] == target
        assert entries[-1]["before"] and entries[-1]["after"]
        assert entries[-1]["reason"] == body.get("reason")


def test_unknown_comment_is_404(client, site, staff):
    assert client.post(f"{API}/comments/999999/approve", headers=staff.headers()).status_code == 404


# -- per-site accounts -----------------------------------------------------------------

def test_site_limited_user_cannot_see_or_act_on_another_site(app, client, site, post_site, staff):
    own_report = seed_report(app, site.id)
    other_report = seed_report(app, post_site.id)
    own_comment = seed_comment(app, site.id)
    other_comment = seed_comment(app, post_site.id)
    headers = staff.headers("editor", site_ids=[site.id])

    reports = client.get(API + "/reports", headers=headers).json["items"]
    assert [r["id"] for r in reports] == [own_report]
    comments = client.get(API + "/comments", headers=headers).json["items"]
    assert [c["id"] for c in comments] == [own_comment]
    assert client.get(API + "/comments", query_string={"site": "post-site"},
                      headers=headers).json["items"] == []

    for path, body in [
        (f"/reports/{other_report}/fix", {}),
        (f"/reports/{other_report}/reject", {"reason": "x"}),
        (f"/comments/{other_comment}/approve", {}),
        (f"/comments/{other_comment}/reject", {"reason": "x"}),
        (f"/comments/{other_comment}/fix", {"body": "взлом"}),
    ]:
        response = client.post(API + path, headers=headers, json=body)
        assert response.status_code == 404, path

    with app.app_context():
        assert db.session.get(TypoReport, other_report).status == "new"
        other = db.session.get(Comment, other_comment)
        assert (other.status, other.body_raw) == ("pending", "Наконец-то!")
    assert audit_entries(app) == []

    # Their own site's items remain workable.
    assert client.post(f"{API}/comments/{own_comment}/approve", headers=headers).status_code == 200
    assert client.post(f"{API}/reports/{own_report}/fix", headers=headers).status_code == 200


def test_cluster_endpoints_list_fix_reject_reopen(app, client, site, staff, drain):
    from support.payloads import report_payload

    for _ in range(2):
        assert client.post("/api/v1/reports", json=report_payload()).status_code == 202
    drain()
    headers = staff.headers("editor")
    [cluster] = client.get(API + "/clusters", headers=headers).json["items"]
    assert (cluster["reports"], cluster["suggestions"]) == (2, [{"text": "объявил", "count": 2}])
    fixed = client.post(f"{API}/clusters/{cluster['id']}/fix", headers=headers, json={"correction": "объявил"})
    assert (fixed.status_code, fixed.json["status"]) == (200, "fixed")
    assert client.get(API + "/clusters", headers=headers).json["items"] == []
    reopened = client.post(f"{API}/clusters/{cluster['id']}/reopen", headers=headers)
    assert reopened.json["status"] == "new"
    rejected = client.post(f"{API}/clusters/{cluster['id']}/reject", headers=headers, json={"reason": "так задумано"})
    assert (rejected.json["status"], rejected.json["reason"]) == ("rejected", "так задумано")
    moderator = staff.headers("moderator")
    assert client.get(API + "/clusters", headers=moderator).status_code == 403


def test_spam_and_reopen_comment(app, client, site, staff):
    comment_id = seed_comment(app, site.id)
    headers = staff.headers("moderator")
    assert client.post(f"{API}/comments/{comment_id}/spam", headers=headers).json["status"] == "spam"
    assert client.post(f"{API}/comments/{comment_id}/reopen", headers=headers).json["status"] == "pending"
    actions = [e["action"] for e in audit_entries(app)]
    assert actions == ["comment.spam", "comment.reopen"]
