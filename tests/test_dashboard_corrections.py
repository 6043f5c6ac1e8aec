"""The corrections log in the dashboard: fix a spot and publish it, write one by hand, unpublish."""
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import Correction, ReportCluster

from support.payloads import ARTICLE, report_payload


def test_fix_and_publish_from_the_report_queue(app, client, auth, site, drain):
    assert client.post("/api/v1/reports", json=report_payload()).status_code == 202
    drain()
    with app.app_context():
        cluster_id = db.session.execute(sa.select(ReportCluster.id)).scalar_one()
    auth.login(role="editor")
    page = client.get("/dashboard/reports").get_data(as_text=True)
    assert 'name="publish"' in page and 'name="note"' in page
    token = auth.csrf("/dashboard/")
    response = client.post(f"/dashboard/reports/{cluster_id}/fix", data={
        "csrf_token": token, "correction": "объявил", "publish": "on", "note": "Опечатка в первом абзаце."})
    assert response.status_code == 302
    listed = client.get("/api/v1/corrections", query_string={"site": "test-site", "url": ARTICLE}).json
    assert [(c["text"], c["note"]) for c in listed["corrections"]] == [("объявил", "Опечатка в первом абзаце.")]
    page = client.get("/dashboard/corrections").get_data(as_text=True)
    assert "Опечатка в первом абзаце." in page


def test_write_and_unpublish_by_hand(app, client, auth, site):
    auth.login(role="editor")
    token = auth.csrf("/dashboard/corrections")
    response = client.post("/dashboard/corrections", data={"csrf_token": token, "site": "test-site", "url": ARTICLE,
                                                           "text": "<script>x</script> corrected", "note": ""})
    assert response.status_code == 302
    page = client.get("/dashboard/corrections").get_data(as_text=True)
    assert "&lt;script&gt;x&lt;/script&gt; corrected" in page and "<script>x</script>" not in page
    with app.app_context():
        correction_id = db.session.execute(sa.select(Correction.id)).scalar_one()
    bad = client.post("/dashboard/corrections", data={"csrf_token": token, "site": "test-site", "url": "nope",
                                                      "text": "x"})
    assert bad.status_code == 400 and 'id="url-error"' in bad.get_data(as_text=True)
    assert client.post(f"/dashboard/corrections/{correction_id}/unpublish").status_code == 400  # no CSRF token
    response = client.post(f"/dashboard/corrections/{correction_id}/unpublish", data={"csrf_token": token})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Correction, correction_id).published is False
    assert "data-unpublished" in client.get("/dashboard/corrections").get_data(as_text=True)
