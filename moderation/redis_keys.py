"""Every Redis key this application writes, in one place (RQ's own ``rq:`` keys and the
rate limiter's ``LIMITS:`` keys belong to those libraries).

A name ending in ``_PREFIX`` is followed by an id; the others are whole keys. No key and
no prefix here may be a prefix of another one (tests/test_task_port.py checks it), so a
``SCAN MATCH prefix*`` only ever sees its own kind of key.

The drain's claim lists keep the prefix they have always had (``moderation:claim:``):
a claim is found again by its job's id (`Broker.claim`), so a worker upgraded while
claims are in flight must look under the old name. The dashboard's advisory item claims
moved instead (they used to share ``moderation:claim:``): they live a few minutes, so an
upgrade at worst forgets who was looking at an item for that long.
"""

# -- submissions: ingest, the drain and erasure (moderation.broker) -------------------------
INBOX = "moderation:inbox"
DRAIN_CLAIM_PREFIX = "moderation:claim:"  # + drain job id: a list of raw payloads
SUBMISSION_PREFIX = "moderation:sub:"  # + site_id:client_id, the dedup key
DRAIN_REQUESTED = "moderation:drain-requested"

# -- workers (moderation.jobs.recovery) ------------------------------------------------------
WORKER_ALIVE_PREFIX = "moderation:worker-alive:"  # + worker name
RECOVERY_SWEEP_LOCK = "moderation:recovery-sweep"

# -- the spam model (moderation.jobs.learning) ----------------------------------------------
LEARN_INBOX = "moderation:learn-inbox"
LEARN_REQUESTED = "moderation:learn-requested"
SPAM_RETRAIN_QUEUED = "moderation:spam-retrain-queued"

# -- periodic jobs: one lock each, held for one interval (moderation.tasks.PERIODIC) ---------
RETENTION_SCHEDULED = "moderation:retention:scheduled"
FIXED_CHECK_SCHEDULED = "moderation:fixed-check:scheduled"
DIGEST_CHECK_SCHEDULED = "moderation:notify:digest-check"

# -- notifications ---------------------------------------------------------------------------
CONFIRM_SENT_PREFIX = "moderation:notify:confirm-sent:"  # + address hash

# -- caches and privacy --------------------------------------------------------------------------
FEED_CACHE_PREFIX = "moderation:feed:"
QUEUE_COUNTS_PREFIX = "moderation:counts:"
QUEUE_VERSION = "moderation:queue-version"  # bumped by every commit that changes a queue (services/queue_version.py)
PRIVACY_SALTS = "moderation:privacy:address-salts"

# -- the dashboard ---------------------------------------------------------------------------
DASHBOARD_CLAIM_PREFIX = "moderation:dashboard-claim:"  # + kind:item_id, a string (holder)


def submission_key(site_id, client_id):
    """The dedup key of a submission. client_ids are unique per site, not globally: a
    reader on one site must not be able to shadow (or squat) another site's ids."""
    return f"{SUBMISSION_PREFIX}{site_id}:{client_id}"


def drain_claim_key(job_id):
    return DRAIN_CLAIM_PREFIX + job_id


def dashboard_claim_key(kind, item_id):
    return f"{DASHBOARD_CLAIM_PREFIX}{kind}:{item_id}"


def worker_alive_key(worker_name):
    return WORKER_ALIVE_PREFIX + worker_name


def all_keys():
    """{name: key or prefix} of every constant above (for the collision test)."""
    return {name: value for name, value in globals().items()
            if name.isupper() and isinstance(value, str) and value.startswith("moderation:")}
