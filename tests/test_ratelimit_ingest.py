"""Reader rate limits counted inside the ingest Lua script (one Redis round trip per POST)."""
import redis.connection

from moderation.broker import DRAIN_FLAG, INBOX
from moderation.extensions import limiter

from support.payloads import comment_payload

ADDR = {"REMOTE_ADDR": "203.0.113.9"}


def _post(client, payload=None):
    return client.post("/api/v1/comments", json=payload or comment_payload(), environ_base=ADDR)


def test_a_post_is_one_redis_round_trip(app, site, monkeypatch):
    client = app.test_client()
    assert _post(client).status_code == 202  # loads the script, caches the site
    # A drain job was just requested; keep the flag up so this POST asks for none.
    app.broker.redis.set(DRAIN_FLAG, "1", px=60_000)
    replies = []
    original = redis.connection.AbstractConnection.read_response

    def counting(self, *args, **kwargs):
        replies.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(redis.connection.AbstractConnection, "read_response", counting)
    assert _post(client).status_code == 202
    monkeypatch.undo()
    assert len(replies) == 1
    assert app.broker.inbox_length() == 2


def test_a_limited_post_counts_but_queues_nothing(make_app, site):
    app = make_app(RATELIMIT_COMMENTS="1/minute;5/day")
    client = app.test_client()
    assert _post(client).status_code == 202
    limited = _post(client)
    assert limited.status_code == 429 and 1 <= int(limited.headers["Retry-After"]) <= 60
    assert app.broker.inbox_length() == 1
    # The minute window stopped the script before the day window was counted.
    keys = app.broker.redis.keys("LIMITS:LIMITER/comments/test-site/*")
    counts = {k.decode().rsplit("/", 1)[-1]: int(app.broker.redis.get(k)) for k in keys}
    assert counts == {"minute": 2, "day": 1}


def test_a_retried_client_id_still_counts(make_app, site):
    client = make_app(RATELIMIT_COMMENTS="2/minute").test_client()
    payload = comment_payload()
    assert _post(client, payload).status_code == 202
    assert _post(client, payload).status_code == 202  # the widget retrying: one submission
    assert _post(client).status_code == 429


def test_limiter_reset_clears_the_windows(make_app, site):
    app = make_app(RATELIMIT_COMMENTS="1/minute")
    client = app.test_client()
    assert _post(client).status_code == 202
    assert _post(client).status_code == 429
    with app.app_context():
        limiter.reset()
    assert _post(client).status_code == 202
    assert app.broker.redis.llen(INBOX) == 2


def test_another_strategy_is_counted_by_flask_limiter(make_app, site):
    client = make_app(RATELIMIT_COMMENTS="1/minute", RATELIMIT_STRATEGY="moving-window").test_client()
    assert _post(client).status_code == 202
    response = _post(client)
    assert response.status_code == 429 and int(response.headers["Retry-After"]) >= 1


def test_flask_limiter_resolves_no_limit_for_a_reader_post(make_app, site, monkeypatch):
    resolved = []
    original = type(limiter.limit_manager).resolve_limits

    def counting(self, *args, **kwargs):
        resolved.append(args[1] if len(args) > 1 else kwargs.get("endpoint"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(type(limiter.limit_manager), "resolve_limits", counting)
    # Flask-Limiter's per-request check ends at the reader API's request filter: a reader
    # POST never resolves a limit (that resolving cost ~8% of the POST) ...
    assert _post(make_app().test_client()).status_code == 202
    assert resolved == []
    # ... while the login view keeps its limit and Flask-Limiter's headers on its answers ...
    app = make_app()
    client = app.test_client()
    from support.accounts import AuthActions  # noqa: PLC0415

    login = AuthActions(app, client).login()
    assert login.status_code in (200, 302) and "X-RateLimit-Limit" in login.headers
    assert "X-RateLimit-Limit" not in _post(client).headers
    # ... and an operator's app-wide limit is enforced on every other request.
    wide = make_app(RATELIMIT_DEFAULT="1/minute").test_client()
    assert wide.get("/healthz").status_code == 200
    assert wide.get("/healthz").status_code == 429
    assert "healthz" in resolved
