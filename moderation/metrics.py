"""Prometheus metrics: every metric of the service is defined here; GET /metrics serves them.

The call sites each hold one line (docs/operations.md lists the metrics and where they count):
ingest in the reader API's after_request, the drain's batch time on `persist_batch`, every
moderation decision in `services.audit.audit`, webhook attempts in `jobs.notify`, mail
failures on `notify.mail.send`, 5xx answers in an app-wide after_request. The queue's depth
and the age of its oldest submission are not counted anywhere: the scrape reads them from
Redis (`QueueCollector`), so they are right even when no process is running.

Multiprocess: with `PROMETHEUS_MULTIPROC_DIR` set (production: one directory shared by the
gunicorn workers and the queue workers), each process writes its values to files there and
a scrape, served by any web worker, adds up every process's files — a worker's drain time
and a web worker's ingest count reach the same scrape. The variable must be set before
prometheus_client is imported (it picks its value class then), so it comes from the
environment, never from the app's config. Unset (development, tests, `moderation run`),
values live in the process that serves the scrape.

Access: behind a Bearer token (`MODERATION_METRICS_TOKEN`) on the app's own port rather than
on a port of its own: the queue gauges need the app's Redis settings, which a side listener
in the gunicorn master (the usual place for one) does not have, and one listener means no
extra process, unit or firewall rule. Token unset: 404, the endpoint does not exist; a
missing or wrong token: 401.
"""
import functools
import hmac
import json
import os
import time
from datetime import datetime, timezone

_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _DIR:
    # Each process creates its files on its first metric; whichever process starts first
    # (a web or a queue worker) makes the directory.
    os.makedirs(_DIR, exist_ok=True)

from flask import Response, abort, current_app, request  # noqa: E402
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, disable_created_metrics  # noqa: E402
from prometheus_client.core import GaugeMetricFamily  # noqa: E402
from prometheus_client.exposition import choose_encoder  # noqa: E402
from prometheus_client.multiprocess import MultiProcessCollector  # noqa: E402
from redis.exceptions import RedisError  # noqa: E402
from sqlalchemy import event  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from .extensions import db  # noqa: E402
from .redis_keys import INBOX  # noqa: E402
from .services.actions import ACTIONS  # noqa: E402

# -- the metrics ---------------------------------------------------------------------------

# The same series in both modes: multiprocess mode has no *_created samples.
disable_created_metrics()

INGEST = Counter(
    "moderation_ingest", "Reader submissions (POST reports, comments, flags) by kind and outcome: "
    "accepted (202, a retried client_id included) or the API's error code",
    ["kind", "outcome"])
DRAIN_BATCH = Histogram(
    "moderation_drain_batch_seconds", "Time to persist one drain batch (queue worker)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
DECISIONS = Counter(
    "moderation_decisions", "Moderation decisions (committed) by audit action and the moderator's role",
    ["action", "role"])
TIME_TO_DECISION = Histogram(
    "moderation_time_to_decision_seconds",
    "From an item's arrival (a comment's created_at, a report spot's first report) to its decision",
    ["target"],
    buckets=(60, 300, 900, 1800, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 86400, 2 * 86400, 7 * 86400))
WEBHOOK_DELIVERIES = Counter(
    "moderation_webhook_deliveries", "Webhook delivery attempts by outcome: ok, http_error "
    "(a non-2xx answer), network_error, blocked (the URL is refused)", ["outcome"])
MAIL_FAILURES = Counter("moderation_mail_failures", "E-mails that SMTP failed to take (each attempt; RQ retries)")
SERVER_ERRORS = Counter(
    "moderation_http_server_errors", "5xx answers by status and blueprint (none: outside any blueprint)",
    ["status", "blueprint"])

# The audit codes of the actions that decide an item (services/actions.py); reopening does not.
DECISION_ACTIONS = frozenset(action.audit for action in ACTIONS if action.decides)
_PENDING = "moderation.metrics.decisions"


# -- hooks (each called from one line at its call site) -------------------------------------

def count_ingest(response):
    """The reader API's after_request: one count per POST. The kind is the path's last segment
    (reports, comments, flags), the ratelimit kinds."""
    rule = request.url_rule
    if rule is not None and request.method == "POST":
        status = response.status_code
        outcome = "accepted" if status == 202 else _api_codes().get(status) or str(status)
        _ingest_child(rule.rule.rpartition("/")[2], outcome).inc()
    return response


# The labelled child per (kind, outcome): `labels()` validates and locks on every call (a few
# microseconds on the ingest path); a dozen children at most.
_ingest_child = functools.cache(INGEST.labels)


@functools.cache
def _api_codes():
    """The API's error codes, the outcome labels (imported late: the API imports this module)."""
    from .api.errors import CODES  # noqa: PLC0415

    return CODES


def count_server_error(response):
    if response.status_code >= 500:
        SERVER_ERRORS.labels(str(response.status_code), request.blueprint or "none").inc()
    return response


def webhook_attempt(status, error, blocked):
    """jobs.notify.deliver_webhook, once per attempt."""
    if blocked:
        outcome = "blocked"
    elif status is None:
        outcome = "network_error"
    else:
        outcome = "http_error" if error else "ok"
    WEBHOOK_DELIVERIES.labels(outcome).inc()


def audited(entry, actor, target):
    """services.audit.audit, for every entry: a decision is counted when its transaction
    commits. A unit of work redone after a lock error audits again, and a rolled back one
    decided nothing, so nothing is counted before the commit."""
    if entry.action not in DECISION_ACTIONS:
        return
    arrived = getattr(target, "created_at", None) or getattr(target, "first_reported_at", None)
    waited = None
    if arrived is not None:
        if arrived.tzinfo is None:  # SQLite hands back naive datetimes; everything stored is UTC
            arrived = arrived.replace(tzinfo=timezone.utc)
        waited = max(0.0, (datetime.now(timezone.utc) - arrived).total_seconds())
    role = getattr(actor, "role", None) or entry.actor_label
    db.session.info.setdefault(_PENDING, []).append((entry.action, role, entry.target_type, waited))


@event.listens_for(Session, "after_commit")
def _count_committed(session):
    for action, role, target, waited in session.info.pop(_PENDING, ()):
        DECISIONS.labels(action, role).inc()
        if waited is not None:
            TIME_TO_DECISION.labels(target).observe(waited)


@event.listens_for(Session, "after_transaction_end")
def _forget_uncommitted(session, transaction):
    if transaction.parent is None:  # after_commit ran first for a commit
        session.info.pop(_PENDING, None)


# -- read at scrape time ----------------------------------------------------------------------

class QueueCollector:
    """The inbox's depth, the RQ jobs waiting and the age of the oldest waiting submission,
    read from Redis in one round trip per scrape. moderation_redis_up is 0 when it failed."""

    def __init__(self, broker):
        self.broker = broker

    def collect(self):
        up = GaugeMetricFamily("moderation_redis_up", "1 when the scrape could read the queue from Redis")
        try:
            with self.broker.redis.pipeline(transaction=False) as pipe:
                pipe.llen(INBOX)
                pipe.llen(self.broker.queue.key)
                pipe.lindex(INBOX, 0)
                inbox, jobs, oldest = pipe.execute()
        except RedisError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily("moderation_inbox_depth", "Submissions waiting in the Redis inbox", value=inbox)
        yield GaugeMetricFamily("moderation_queue_jobs", "RQ jobs waiting in the queue", value=jobs)
        age = 0.0
        if oldest:
            received = json.loads(oldest).get("received_at")  # set by the reader API (schemas.payload)
            age = max(0.0, time.time() - received) if received else 0.0
        yield GaugeMetricFamily("moderation_inbox_oldest_age_seconds",
                                "Seconds the oldest submission in the inbox has waited (0: empty)", value=age)


class _Registry:
    """This process's registry as one collector (single-process mode)."""

    def collect(self):
        return REGISTRY.collect()


def metrics_view():
    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        abort(404)
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        return Response("a valid Bearer token is required\n", 401, {"WWW-Authenticate": 'Bearer realm="metrics"'},
                        mimetype="text/plain")
    registry = CollectorRegistry(auto_describe=False)
    if _DIR:
        MultiProcessCollector(registry, _DIR)
    else:
        registry.register(_Registry())
    registry.register(QueueCollector(current_app.broker))
    encode, content_type = choose_encoder(request.headers.get("Accept"))
    return Response(encode(registry), content_type=content_type, headers={"Cache-Control": "no-store"})


def init_app(app):
    app.add_url_rule("/metrics", "metrics", metrics_view)
    app.after_request(count_server_error)
