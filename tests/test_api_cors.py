"""CORS on the reader API: only origins a site allows, per site, errors readable too."""
import pytest

from moderation.extensions import db
from moderation.models import Site

from support.payloads import ARTICLE, ORIGIN, comment_payload, report_payload

OTHER_ORIGIN = "https://other.example"
MOBILE_ORIGIN = "https://m.news.example"
EVIL_ORIGIN = "https://news.example.evil.com"


@pytest.fixture
def other_site(app, site):
    """A second site allowing only https://other.example."""
    with app.app_context():
        db.session.add(Site(key="other-site", name="Other", allowed_origins=[OTHER_ORIGIN]))
        db.session.commit()


@pytest.fixture
def wildcard_site(app):
    with app.app_context():
        db.session.add(
            Site(key="wild-site", name="Mobile News", allowed_origins=["https://*.news.example"])
        )
        db.session.commit()


def preflight(client, origin, path="/api/v1/comments"):
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )


def _listed(header_value):
    return {part.strip().lower() for part in (header_value or "").split(",") if part.strip()}


# -- preflight -----------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/v1/comments", "/api/v1/reports"])
def test_preflight_from_allowed_origin(client, site, path):
    response = preflight(client, ORIGIN, path)
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert {"get", "post"} <= _listed(response.headers["Access-Control-Allow-Methods"])
    assert "content-type" in _listed(response.headers["Access-Control-Allow-Headers"])
    assert "origin" in _listed(response.headers.get("Vary"))


@pytest.mark.parametrize(
    "origin", ["https://evil.example", EVIL_ORIGIN, "http://news.example", "null", MOBILE_ORIGIN]
)
def test_preflight_from_disallowed_origin(client, site, origin):
    response = preflight(client, origin)
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Methods" not in response.headers
    assert response.json["error"] == "forbidden"


def test_preflight_without_origin_is_refused(client, site):
    response = client.options("/api/v1/comments")
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response.headers


# -- actual requests --------------------------------------------------------------------------

@pytest.mark.parametrize(
    "path, make", [("/api/v1/comments", comment_payload), ("/api/v1/reports", report_payload)]
)
def test_post_from_allowed_origin(client, site, path, make):
    response = client.post(path, json=make(), headers={"Origin": ORIGIN})
    assert response.status_code == 202
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "origin" in _listed(response.headers.get("Vary"))
    assert "retry-after" in _listed(response.headers.get("Access-Control-Expose-Headers"))


def test_get_comments_from_allowed_origin(client, site):
    response = client.get(
        "/api/v1/comments", query_string={"site": "test-site", "url": ARTICLE}, headers={"Origin": ORIGIN}
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "etag" in _listed(response.headers.get("Access-Control-Expose-Headers"))


def test_post_from_origin_of_another_site_is_refused(client, site, other_site):
    # The preflight passes (some site allows the origin) ...
    assert preflight(client, OTHER_ORIGIN).status_code == 204
    # ... but this site does not.
    payload = comment_payload(site="test-site")
    response = client.post("/api/v1/comments", json=payload, headers={"Origin": OTHER_ORIGIN})
    assert response.status_code == 403
    assert response.json["error"] == "origin_not_allowed"
    assert client.get(f"/api/v1/submissions/{payload['client_id']}", query_string={"site": "test-site"}).status_code == 404


def test_other_site_accepts_its_own_origin(client, site, other_site):
    payload = comment_payload(site="other-site", url=OTHER_ORIGIN + "/story")
    response = client.post("/api/v1/comments", json=payload, headers={"Origin": OTHER_ORIGIN})
    assert response.status_code == 202
    assert response.headers["Access-Control-Allow-Origin"] == OTHER_ORIGIN


@pytest.mark.parametrize("origin", ["https://evil.example", EVIL_ORIGIN, "http://news.example"])
def test_post_from_unknown_origin_is_refused_without_cors(client, site, origin):
    response = client.post("/api/v1/comments", json=comment_payload(), headers={"Origin": origin})
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response.headers


def test_request_without_origin_is_allowed(client, site):
    """curl and server-side callers send no Origin: not cross-origin, nothing to check."""
    response = client.post("/api/v1/comments", json=comment_payload())
    assert response.status_code == 202
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize(
    "path, payload",
    [
        ("/api/v1/comments", comment_payload(body="")),
        ("/api/v1/reports", report_payload(exact="")),
    ],
)
def test_errors_to_allowed_origin_carry_cors_headers(client, site, path, payload):
    """The widget must be able to read the error to show which field is wrong."""
    response = client.post(path, json=payload, headers={"Origin": ORIGIN})
    assert response.status_code == 400
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert response.json["fields"]


def test_rate_limit_error_to_allowed_origin_is_readable(app, client, site):
    app.config["RATELIMIT_COMMENTS"] = "1/minute"
    headers = {"Origin": ORIGIN}
    assert client.post("/api/v1/comments", json=comment_payload(), headers=headers).status_code == 202
    response = client.post("/api/v1/comments", json=comment_payload(), headers=headers)
    assert response.status_code == 429
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "retry-after" in _listed(response.headers["Access-Control-Expose-Headers"])


# -- wildcard patterns ----------------------------------------------------------------------------

def test_wildcard_origin_allows_subdomain(client, wildcard_site):
    assert preflight(client, MOBILE_ORIGIN).status_code == 204
    payload = comment_payload(site="wild-site", url=MOBILE_ORIGIN + "/2026/11/tram-line")
    response = client.post("/api/v1/comments", json=payload, headers={"Origin": MOBILE_ORIGIN})
    assert response.status_code == 202, response.json
    assert response.headers["Access-Control-Allow-Origin"] == MOBILE_ORIGIN


@pytest.mark.parametrize("origin", ["http://m.news.example", "https://m.news.example.evil.com"])
def test_wildcard_origin_does_not_allow_lookalikes(client, wildcard_site, origin):
    assert preflight(client, origin).status_code == 403
    payload = comment_payload(site="wild-site", url=MOBILE_ORIGIN + "/2026/11/tram-line")
    response = client.post("/api/v1/comments", json=payload, headers={"Origin": origin})
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response.headers


def test_reader_answers_vary_on_origin_never_on_cookie(client, site, auth):
    """The reader API reads no session: `Vary: Cookie` would split every cache by cookie."""
    auth.login(role="editor")  # a staff cookie in this browser changes nothing for readers
    listing = client.get("/api/v1/comments", query_string={"site": "test-site", "url": ORIGIN + "/a"},
                         headers={"Origin": ORIGIN})
    posted = client.post("/api/v1/comments", json=comment_payload(), headers={"Origin": ORIGIN})
    for response in (listing, posted):
        assert response.status_code in (200, 202)
        assert _listed(response.headers.get("Vary")) == {"origin"}
    # The dashboard still varies on its session cookie.
    assert "cookie" in _listed(client.get("/dashboard/comments").headers.get("Vary"))
