"""GET /healthz: database, Redis and the backlog, for load balancers and on-call editors."""
from support.net import free_port
from support.payloads import comment_payload, report_payload


def test_healthy(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"db": "ok", "redis": "ok", "queue_depth": 0}
    assert response.headers["Cache-Control"] == "no-store"
    assert "Retry-After" not in response.headers


def test_queue_depth_counts_queued_submissions(client, site, drain):
    client.post("/api/v1/comments", json=comment_payload())
    client.post("/api/v1/reports", json=report_payload())
    client.post("/api/v1/comments", json=comment_payload())
    # Every waiting submission counts (the pending drain job may add one more).
    assert client.get("/healthz").json["queue_depth"] >= 3
    drain()
    assert client.get("/healthz").json == {"db": "ok", "redis": "ok", "queue_depth": 0}


def test_duplicate_submission_is_not_counted_twice(client, site):
    payload = comment_payload()
    client.post("/api/v1/comments", json=payload)
    depth = client.get("/healthz").json["queue_depth"]
    client.post("/api/v1/comments", json=payload)
    assert client.get("/healthz").json["queue_depth"] == depth


def test_redis_down_is_503_naming_redis(make_app, app):
    client = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0").test_client()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json == {"db": "ok", "redis": "down", "queue_depth": None}
    assert int(response.headers["Retry-After"]) > 0


def test_database_down_is_503_naming_the_database(make_app, tmp_path):
    missing = tmp_path / "no-such-dir" / "moderation.db"
    client = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{missing}").test_client()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["db"] == "down"
    assert response.json["redis"] == "ok"
    assert int(response.headers["Retry-After"]) > 0
