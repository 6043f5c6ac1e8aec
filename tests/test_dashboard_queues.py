"""Dashboard queues and actions with the Flask client: decisions, permissions, filters, claims."""
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import AuditEntry, Comment, ReportCluster

from support.payloads import ORIGIN, comment_payload, report_payload

FETCH = {"X-Requested-With": "fetch"}


def submit(client, drain, *payloads):
    for i, payload in enumerate(payloads):
        kind = "reports" if "exact" in payload else "comments"
        response = client.post(f"/api/v1/{kind}", json=payload, environ_base={"REMOTE_ADDR": f"10.1.0.{i}"})
        assert response.status_code == 202, response.json
    drain()


def ids(app, model, **where):
    with app.app_context():
        query = sa.select(model.id).order_by(model.id)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return db.session.execute(query).scalars().all()


def post(client, auth, path, **data):
    data["csrf_token"] = auth.csrf("/dashboard/")
    return client.post(path, data=data)


def last_audit(app):
    with app.app_context():
        entry = db.session.execute(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).scalars().first()
        return entry and dict(action=entry.action, actor=entry.actor_label, before=entry.before,
                              after=entry.after, reason=entry.reason, target=(entry.target_type, entry.target_id))


def test_approve_reject_spam_reopen_a_comment(app, client, auth, site, drain):
    submit(client, drain, comment_payload(), comment_payload(), comment_payload())
    first, second, third = ids(app, Comment)
    email = auth.create("moderator")
    auth.login(email)
    assert post(client, auth, f"/dashboard/comments/{first}/approve").status_code == 302
    assert last_audit(app)["action"] == "comment.approve" and last_audit(app)["actor"] == email
    response = client.post(f"/dashboard/comments/{second}/reject", headers=FETCH,
                           data={"csrf_token": auth.csrf("/dashboard/"), "preset": "Off-topic", "reason": ""})
    assert response.status_code == 200 and response.json["ok"] is True
    assert response.json["counts"]["comments_pending"] == 1
    assert last_audit(app)["reason"] == "Off-topic"
    post(client, auth, f"/dashboard/comments/{third}/spam", reason="реклама окон")
    assert last_audit(app)["reason"] == "реклама окон"
    post(client, auth, f"/dashboard/comments/{third}/reopen")
    assert ids(app, Comment, status="pending") == [third]
    assert ids(app, Comment, status="approved") == [first] and ids(app, Comment, status="rejected") == [second]


def test_fix_a_comment_resanitizes_and_keeps_the_diff(app, client, auth, site, drain):
    submit(client, drain, comment_payload(body="Мэр дурак"))
    [comment_id] = ids(app, Comment)
    auth.login(role="editor")
    post(client, auth, f"/dashboard/comments/{comment_id}/fix", body="Мэр неправ <script>x()</script>")
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        assert comment.status == "approved"
        assert "<script>" not in comment.body_html and "&lt;script&gt;" in comment.body_html
    audit = last_audit(app)
    assert audit["action"] == "comment.fix"
    assert audit["before"]["body"] == "Мэр дурак" and audit["after"]["body"].startswith("Мэр неправ")
    page = client.get(f"/dashboard/comments/{comment_id}").get_data(as_text=True)
    assert "<del>" in page and "<ins>" in page  # the history shows the edit as a diff


def test_fix_reject_reopen_a_report_cluster(app, client, auth, site, drain):
    submit(client, drain, report_payload(), report_payload(suggestion="обявил"),
           report_payload(exact="в течении", prefix="работы ", suffix=" года", suggestion="в течение"))
    first, second = ids(app, ReportCluster)
    auth.login(role="editor")
    page = client.get("/dashboard/reports").get_data(as_text=True)
    assert "2 readers" in page and "#:~:text=" in page
    assert 'value="объявил"' in page  # the correction is prefilled with the best suggestion
    post(client, auth, f"/dashboard/reports/{first}/fix", correction="объявил")
    assert last_audit(app)["target"] == ("cluster", first)
    post(client, auth, f"/dashboard/reports/{second}/reject", preset="House style")
    with app.app_context():
        assert db.session.get(ReportCluster, first).status == "fixed"
        assert db.session.get(ReportCluster, second).decision_reason == "House style"
    post(client, auth, f"/dashboard/reports/{second}/reopen")
    assert ids(app, ReportCluster, status="new") == [second]


def test_bulk_actions(app, client, auth, site, drain):
    submit(client, drain, *[comment_payload() for _ in range(3)])
    all_ids = ids(app, Comment)
    auth.login(role="moderator")
    token = auth.csrf("/dashboard/")
    response = client.post("/dashboard/comments/bulk",
                           data={"csrf_token": token, "action": "approve", "ids": [str(i) for i in all_ids[:2]]})
    assert response.status_code == 302
    assert ids(app, Comment, status="approved") == all_ids[:2]
    assert client.post("/dashboard/comments/bulk", data={"csrf_token": token, "action": "fix"}).status_code == 400


def test_roles_limit_the_queues(app, client, auth, site, drain):
    submit(client, drain, report_payload(), comment_payload())
    [cluster_id] = ids(app, ReportCluster)
    auth.login(role="moderator")
    assert client.get("/dashboard/reports").status_code == 403
    assert client.get(f"/dashboard/reports/{cluster_id}").status_code == 403
    assert post(client, auth, f"/dashboard/reports/{cluster_id}/fix").status_code == 403
    assert client.get("/dashboard/comments").status_code == 200
    assert "reports_new" not in client.get("/dashboard/counts.json").json


def test_site_limited_user_sees_only_their_site(app, client, auth, site, post_site, drain):
    submit(client, drain, comment_payload(body="своё"), comment_payload(site="post-site", body="чужое"))
    own, other = ids(app, Comment)
    auth.login(auth.create("moderator", site_ids=[site.id]))
    page = client.get("/dashboard/comments").get_data(as_text=True)
    assert "своё" in page and "чужое" not in page
    approved = client.get("/dashboard/comments?status=approved").get_data(as_text=True)
    assert "чужое" not in approved  # the post-moderated site's comment is approved, but not ours
    assert client.get(f"/dashboard/comments/{other}").status_code == 404
    assert post(client, auth, f"/dashboard/comments/{other}/reject").status_code == 404
    assert client.get("/dashboard/counts.json").json["comments_pending"] == 1


def test_filters_and_keyset_pagination(app, client, auth, site, drain):
    app.config["RATELIMIT_ENABLED"] = False
    payloads = [comment_payload(body=f"номер {i}", author="Анна" if i % 2 else "Борис") for i in range(55)]
    payloads.append(comment_payload(body="про мост", url=ORIGIN + "/2026/11/bridge"))
    submit(client, drain, *payloads)
    auth.login(role="moderator")
    first = client.get("/dashboard/comments").get_data(as_text=True)
    assert "номер 0<" in first and "номер 49<" in first and "номер 50<" not in first
    next_link = first.split('class="more" href="')[1].split('"')[0].replace("&amp;", "&")
    second = client.get(next_link).get_data(as_text=True)
    assert "номер 50<" in second and "про мост" in second and "номер 0<" not in second
    by_url = client.get("/dashboard/comments?url=bridge").get_data(as_text=True)
    assert "про мост" in by_url and "номер 1<" not in by_url
    by_text = client.get("/dashboard/comments?q=Борис").get_data(as_text=True)
    assert "номер 2<" in by_text and "номер 1<" not in by_text
    future = client.get("/dashboard/comments?since=2999-01-01").get_data(as_text=True)
    assert "номер" not in future
    assert client.get("/dashboard/comments?status=bogus").status_code == 400


def test_claims_show_who_is_handling_an_item(app, client, auth, site, drain):
    submit(client, drain, comment_payload())
    [comment_id] = ids(app, Comment)
    alice = auth.create("moderator", email="alice@news.example")
    auth.login(alice)
    assert client.get(f"/dashboard/comments/{comment_id}").status_code == 200  # opening claims it
    auth.logout()
    auth.login(auth.create("moderator", email="bob@news.example"))
    page = client.get("/dashboard/comments").get_data(as_text=True)
    assert "being handled by alice@news.example" in page
    token = auth.csrf("/dashboard/")
    response = client.post(f"/dashboard/claim/comment/{comment_id}", headers={"X-CSRFToken": token})
    assert response.json == {"holder": "alice@news.example"}


def test_comment_item_shows_author_history_parent_and_reasons(app, client, auth, site, drain, staff):
    submit(client, drain, comment_payload(body="Первый"))
    [parent] = ids(app, Comment)
    headers = staff.headers("moderator")
    client.post(f"/api/v1/moderation/comments/{parent}/approve", headers=headers)
    submit(client, drain, comment_payload(body="Ответ", parent=parent, hp="bot"))
    auth.login(role="moderator")
    page = client.get("/dashboard/comments?status=spam").get_data(as_text=True)
    assert "In reply to" in page and "Первый" in page
    assert "honeypot field filled" in page
    # The same address: one comment approved, and this one (spam) counted as rejected.
    assert "1 approved / 1 rejected" in page


def test_out_of_range_ids_are_404_or_400_never_500(app, client, auth, site, staff):
    huge = "9" * 30
    auth.login(role="admin")
    assert client.get(f"/dashboard/comments/{huge}").status_code == 404
    assert client.get(f"/dashboard/reports/{huge}").status_code == 404
    assert client.get(f"/dashboard/comments?after={huge}").status_code == 400
    token = auth.csrf("/dashboard/")
    response = client.post("/dashboard/comments/bulk", data={"csrf_token": token, "action": "approve",
                                                             "ids": ["²", huge]})
    assert response.status_code == 302
    headers = staff.headers("admin")
    assert client.get(f"/api/v1/moderation/comments?after={huge}", headers=headers).status_code == 400
    assert client.post(f"/api/v1/moderation/comments/{huge}/approve", headers=headers).status_code == 404
    assert client.get(f"/api/v1/comments?site=test-site&url=https://news.example/a&after={huge}").status_code == 400


def test_reader_flags_show_before_the_threshold_and_reports_filter_by_date(app, client, auth, site, drain, staff):
    submit(client, drain, comment_payload(body="спорное"), report_payload())
    [comment_id] = ids(app, Comment)
    client.post(f"/api/v1/moderation/comments/{comment_id}/approve", headers=staff.headers("moderator"))
    response = client.post(f"/api/v1/comments/{comment_id}/flags",
                           json={"site": "test-site", "reason": "abuse", "client_id": "flag-0000-0001"})
    assert response.status_code == 202
    drain()
    auth.login(role="editor")
    page = client.get("/dashboard/comments?status=approved").get_data(as_text=True)
    assert "flag: abuse ×1" in page
    assert "обьявил" in client.get("/dashboard/reports?since=2020-01-01").get_data(as_text=True)
    assert "обьявил" not in client.get("/dashboard/reports?since=2999-01-01").get_data(as_text=True)


# Every status has a count (the queue tabs show them): one pending comment, nothing decided.
COMMENT_COUNTS = {"comments_pending": 1, "comments_flagged": 0, "comments_spam": 0, "comments_approved": 0,
                  "comments_rejected": 0}


def test_a_moderators_counts_never_come_from_an_editors_cached_answer(app, client, auth, site, drain):
    # Same sites (all), different roles: the cache must not hand the editor's reports_new to the moderator.
    submit(client, drain, report_payload(), comment_payload())
    editor, moderator = auth.create("editor"), auth.create("moderator")
    auth.login(editor)
    assert client.get("/dashboard/counts.json").json == dict(COMMENT_COUNTS, reports_new=1, reports_fixed=0,
                                                             reports_rejected=0)
    auth.logout()
    auth.login(moderator)
    assert client.get("/dashboard/counts.json").json == COMMENT_COUNTS
    auth.logout()
    auth.login(editor)  # and the other way round: the moderator's answer is not the editor's
    assert "reports_new" in client.get("/dashboard/counts.json").json


# -- issue 17: the live queue, fresh counts, bulk reasons, the conversation ---------------------

def test_counts_are_fresh_right_after_each_action(app, client, auth, site, drain):
    """The cached counts are keyed by a version every decision bumps: no stale badge after an action."""
    submit(client, drain, *[comment_payload() for _ in range(3)])
    first, second, _third = ids(app, Comment)
    auth.login(role="moderator")
    token = auth.csrf("/dashboard/")
    assert client.get("/dashboard/counts.json").json["comments_pending"] == 3  # now cached
    answer = client.post(f"/dashboard/comments/{first}/approve", data={"csrf_token": token}, headers=FETCH).json
    assert (answer["counts"]["comments_pending"], answer["counts"]["comments_approved"]) == (2, 1)
    client.post(f"/dashboard/comments/{second}/spam", data={"csrf_token": token}, headers=FETCH)
    counts = client.get("/dashboard/counts.json").json
    assert (counts["comments_pending"], counts["comments_spam"], counts["comments_approved"]) == (1, 1, 1)
    # A comment arriving (the worker's commit) counts at once too.
    submit(client, drain, comment_payload())
    assert client.get("/dashboard/counts.json").json["comments_pending"] == 2
    page = client.get("/dashboard/comments").get_data(as_text=True)
    assert 'data-count="comments_spam">1</span>' in page and 'data-count="comments_pending">2</span>' in page


def test_the_live_feed_renders_only_newer_items_with_the_same_filters(app, client, auth, site, post_site, drain):
    submit(client, drain, comment_payload(body="старый"))
    [old] = ids(app, Comment)
    auth.login(auth.create("moderator", site_ids=[site.id]))
    page = client.get("/dashboard/comments").get_data(as_text=True)
    assert f'data-newest="{old}"' in page
    assert client.get("/dashboard/comments/live.json?after=").status_code == 400
    assert client.get(f"/dashboard/comments/live.json?after={old}").json["count"] == 0
    submit(client, drain, comment_payload(body="<b>новый</b> & свежий"), comment_payload(site="post-site", body="чужой"),
           comment_payload(body="другой текст"))
    answer = client.get(f"/dashboard/comments/live.json?after={old}&q=свеж").json
    assert answer["count"] == 1 and "свежий" in answer["html"] and "чужой" not in answer["html"]
    assert "<b>новый</b>" not in answer["html"]  # escaped by the item template
    assert answer["newest"] > old and answer["counts"]["comments_pending"] == 3
    assert f'id="comment-{answer["newest"]}"' in answer["html"]
    assert "live.json" not in answer["html"]  # its forms return to the queue, not to the feed
    assert client.get(f"/dashboard/comments/live.json?after={old}").json["count"] == 2  # not the other site's
    auth.logout()
    auth.login(role="moderator")
    assert client.get("/dashboard/reports/live.json?after=0").status_code == 403


def test_bulk_reject_takes_a_reason_and_audits_it(app, client, auth, site, drain):
    submit(client, drain, *[comment_payload() for _ in range(2)])
    all_ids = ids(app, Comment)
    auth.login(role="moderator")
    response = client.post("/dashboard/comments/bulk", data={
        "csrf_token": auth.csrf("/dashboard/"), "action": "reject", "preset": "Off-topic",
        "ids": [str(i) for i in all_ids]})
    assert response.status_code == 302
    with app.app_context():
        entries = db.session.execute(sa.select(AuditEntry).order_by(AuditEntry.id)).scalars().all()
        assert [(e.action, e.reason) for e in entries] == [("comment.reject", "Off-topic")] * 2
    assert 'data-bulk-key="R"' in client.get("/dashboard/comments").get_data(as_text=True)


def test_the_conversation_shows_the_thread_with_each_status(app, client, auth, site, post_site, drain, staff):
    submit(client, drain, comment_payload(body="корень <script>x</script>"))
    [root] = ids(app, Comment)
    auth.login(role="moderator")
    token = auth.csrf("/dashboard/")
    client.post(f"/dashboard/comments/{root}/approve", data={"csrf_token": token})
    submit(client, drain, comment_payload(body="ответ", parent=root))
    reply = ids(app, Comment)[-1]
    submit(client, drain, comment_payload(body="ответ на ответ", parent=reply), comment_payload(body="другая ветка"))
    deep, other = ids(app, Comment)[-2:]
    page = client.get(f"/dashboard/comments/{reply}/conversation").get_data(as_text=True)
    assert page.index("корень") < page.index(">ответ<") < page.index("ответ на ответ")
    assert "другая ветка" not in page and "<script>x" not in page
    assert 'data-status="approved"' in page and page.count('data-status="pending"') == 2
    assert f'id="comment-{deep}"' in page and 'data-focus' in page
    # Moderated from there: the same item forms.
    assert f'/dashboard/comments/{deep}/reject' in page
    # The queue's `o` link leads here.
    assert f'/dashboard/comments/{other}/conversation' in client.get("/dashboard/comments").get_data(as_text=True)
    assert client.get("/dashboard/comments/2147483647/conversation").status_code == 404


def test_decided_tabs_count_up_to_the_cap(app, client, auth, site, drain, monkeypatch):
    from moderation.dashboard import common

    monkeypatch.setattr(common, "COUNT_CAP", 2)
    submit(client, drain, *[comment_payload() for _ in range(4)])
    auth.login(role="moderator")
    token = auth.csrf("/dashboard/")
    for comment_id in ids(app, Comment):
        client.post(f"/dashboard/comments/{comment_id}/approve", data={"csrf_token": token})
    assert client.get("/dashboard/counts.json").json["comments_approved"] == 3  # "more than the cap"


def test_the_report_live_feed_renders_new_clusters(app, client, auth, site, drain):
    auth.login(role="editor")
    page = client.get("/dashboard/reports").get_data(as_text=True)
    assert 'data-newest="0"' in page and "/dashboard/reports/live.json" in page
    submit(client, drain, report_payload())
    [cluster_id] = ids(app, ReportCluster)
    answer = client.get("/dashboard/reports/live.json?after=0&status=new").json
    assert (answer["count"], answer["newest"], answer["counts"]["reports_new"]) == (1, cluster_id, 1)
    assert f'id="cluster-{cluster_id}"' in answer["html"] and 'data-key="r"' in answer["html"]
    assert client.get(f"/dashboard/reports/live.json?after={cluster_id}").json["count"] == 0
    assert client.get("/dashboard/reports/live.json?after=0&status=bogus").status_code == 400
