"""The path the issue's 'done when' walks: POST -> worker -> moderation API -> public list."""
from support.payloads import ARTICLE, comment_payload, report_payload


def test_report_and_comment_travel_to_moderation_and_back(client, site, staff, drain):
    headers = staff.headers("editor")
    report = report_payload()
    comment = comment_payload()
    assert client.post("/api/v1/reports", json=report).status_code == 202
    assert client.post("/api/v1/comments", json=comment).status_code == 202
    assert client.get(f"/api/v1/submissions/{comment['client_id']}", query_string={"site": "test-site"}).json["status"] == "queued"

    drain()

    reports = client.get("/api/v1/moderation/reports?status=new", headers=headers).json["items"]
    assert [r["client_id"] for r in reports] == [report["client_id"]]
    pending = client.get("/api/v1/moderation/comments?status=pending", headers=headers).json["items"]
    assert [c["client_id"] for c in pending] == [comment["client_id"]]
    listed = client.get("/api/v1/comments", query_string={"site": "test-site", "url": ARTICLE}).json
    # Nothing published yet; the site object tells the widget its reader settings (SSO, edit window).
    assert listed == {"comments": [], "total": 0, "next": None,
                      "site": {"sso_required": False, "sso_login_url": None, "edit_minutes": 10,
                               "dislikes": False, "default_sort": "oldest"}}

    response = client.post(f"/api/v1/moderation/comments/{pending[0]['id']}/approve", headers=headers)
    assert response.status_code == 200, response.json
    listed = client.get("/api/v1/comments", query_string={"site": "test-site", "url": ARTICLE}).json
    assert listed["total"] == 1
    assert listed["comments"][0]["author"] == "Анна"
    assert client.get(f"/api/v1/submissions/{comment['client_id']}", query_string={"site": "test-site"}).json["status"] == "published"
