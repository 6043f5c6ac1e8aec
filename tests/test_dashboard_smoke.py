"""Sign in and see both queues render (the detailed dashboard tests live beside this one)."""
from support.payloads import comment_payload, report_payload


def test_editor_signs_in_and_sees_both_queues(app, client, auth, site, drain):
    assert client.post("/api/v1/comments", json=comment_payload(body="Привет **всем** <b>")).status_code == 202
    assert client.post("/api/v1/reports", json=report_payload()).status_code == 202
    drain()
    response = auth.login(role="editor")
    assert response.status_code == 302
    page = client.get("/dashboard/comments").get_data(as_text=True)
    assert "Привет <strong>всем</strong> &lt;b&gt;" in page  # typed tags are text
    page = client.get("/dashboard/reports").get_data(as_text=True)
    assert "обьявил" in page and "<del>ь</del><ins>ъ</ins>" in page
