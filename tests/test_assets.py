"""Static assets the browser asks for on its own: the favicon."""


def test_favicon_answers_where_browsers_look_and_where_pages_link(app, client, auth):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert b"<svg" in response.data
    linked = client.get("/static/favicon.svg")
    assert linked.status_code == 200 and linked.data == response.data
    for path in ("/dashboard/login", "/demo"):
        assert 'rel="icon" href="/static/favicon.svg"' in client.get(path).get_data(as_text=True)
