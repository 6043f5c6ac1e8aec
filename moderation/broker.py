"""Redis and the RQ queue: how a validated submission reaches the worker.

The request path must be cheaper than one `rq.enqueue` per request, and the
worker must drain in batches, so a submission travels in two steps, both in
Redis and both durable (AOF):

1. The web process runs one Lua script that records the client_id (dedup), appends
   the JSON payload to the ``inbox`` list and, at most a few times a second,
   asks for a drain job. One round trip; the 202 is sent after it returns.
2. An RQ job (`moderation.tasks.DRAIN`) moves up to N payloads into a
   claim list named after its own job id, persists them in one transaction and
   deletes the claim. A worker killed mid-batch leaves the claim behind; RQ
   re-queues the abandoned job (same id), which finishes that claim first.
   Persisting is idempotent on client_id, so a replay never doubles a row.

Where Redis is (`RedisTarget`): one URL, or a master found through Redis Sentinel, asked
again after a failover. Replication is asynchronous, so with `REDIS_WAIT_REPLICAS` the
ingest also waits (Redis WAIT) for that many replicas to hold the submission before its 202.
"""
import json

import redis
from flask import current_app
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ReadOnlyError
from redis.retry import Retry as RedisRetry
from redis.sentinel import Sentinel
from rq import Queue
from rq.job import Job
from rq.results import Result

from . import embedded_redis, ratelimit, tasks
from .redis_keys import DRAIN_CLAIM_PREFIX as CLAIM_PREFIX
from .redis_keys import DRAIN_REQUESTED as DRAIN_FLAG
from .redis_keys import INBOX, drain_claim_key, submission_key

# A drain job is requested at most once per this many milliseconds by ingest.
DRAIN_FLAG_MS = 200

# Rate-limit windows first (KEYS[4..], with ARGV[5..] = amount, seconds per window):
# each is a fixed-window counter (INCR; the first hit sets the expiry); the first full
# one stops the script, returning minus the seconds until it resets. Then the dedup:
# 0 for a duplicate client_id, 1 when queued, 2 when queued and the caller should
# enqueue a drain job. One round trip for the whole ingest.
# ARGV[4] = '1' when the caller then WAITs for replicas: a duplicate then rewrites its
# dedup key's expiry, so this connection's replication offset covers the first write of
# the submission and WAIT proves the replicas hold it. (Redis 6.2 and 7.0 count a
# connection that wrote nothing from the server's offset anyway; a Redis that counts only
# the connection's own writes would let a duplicate that writes nothing pass WAIT at once.)
_INGEST_LUA = """
for i = 4, #KEYS do
  local a = 2 * (i - 4) + 5
  local count = redis.call('INCR', KEYS[i])
  if count == 1 then redis.call('EXPIRE', KEYS[i], ARGV[a + 1]) end
  if count > tonumber(ARGV[a]) then
    local ms = redis.call('PTTL', KEYS[i])
    if ms < 0 then
      redis.call('EXPIRE', KEYS[i], ARGV[a + 1])
      ms = tonumber(ARGV[a + 1]) * 1000
    end
    return -math.max(1, math.ceil(ms / 1000))
  end
end
if redis.call('SET', KEYS[1], 'queued', 'NX', 'EX', ARGV[2]) then
  redis.call('RPUSH', KEYS[2], ARGV[1])
  if redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[3]) then return 2 end
  return 1
end
if ARGV[4] == '1' then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 0
"""

# Claims up to ARGV[1] payloads for one job; a leftover claim (crashed run) comes first.
_CLAIM_LUA = """
local held = redis.call('LRANGE', KEYS[2], 0, -1)
if #held > 0 then return held end
local items = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #items > 0 then
  redis.call('LTRIM', KEYS[1], #items, -1)
  for i = 1, #items, 1000 do
    redis.call('RPUSH', KEYS[2], unpack(items, i, math.min(i + 999, #items)))
  end
end
return items
"""


# Erasure (moderation.services.erasure): remove exact raw elements from one list, unless
# the drain job named by KEYS[2] (optional) is running and the list still holds one: its
# worker may have them in memory and store them any moment, so the caller waits (-1 = busy)
# until the claim is released (stored, or split off as a job). Atomic with
# _CLAIM_LUA: a claim either still holds the element (removed here) or never saw it.
_ERASE_RAW_LUA = """
if #KEYS > 1 and redis.call('HGET', KEYS[2], 'status') == 'started' then
  for i = 1, #ARGV do
    if redis.call('LPOS', KEYS[1], ARGV[i]) then return -1 end
  end
  return 0
end
local removed = 0
for i = 1, #ARGV do removed = removed + redis.call('LREM', KEYS[1], 0, ARGV[i]) end
return removed
"""

# Deletes one RQ job (ARGV[1]) unless a worker has taken it: moved to the intermediate
# queue (KEYS[3], RQ's BLMOVE) or started (-1 = busy). KEYS: job hash, queue, intermediate
# queue, its results stream, then registries (sorted sets) it may sit in.
_DELETE_JOB_LUA = """
if redis.call('HGET', KEYS[1], 'status') == 'started' then return -1 end
if redis.call('LPOS', KEYS[3], ARGV[1]) then return -1 end
redis.call('LREM', KEYS[2], 0, ARGV[1])
for i = 5, #KEYS do redis.call('ZREM', KEYS[i], ARGV[1]) end
return redis.call('DEL', KEYS[1], KEYS[4])
"""


class ReplicasBehind(redis.RedisError):
    """Fewer replicas than REDIS_WAIT_REPLICAS confirmed a submission in time: the reader API
    answers 503 with Retry-After (as for any RedisError). The submission may be queued all
    the same; the client's retry with the same client_id is a duplicate, stored once."""


class RedisTarget:
    """Where the Redis master is: one URL, or the master that Redis Sentinel names.

    Every client of the app (web broker, queue workers, their liveness beat, the rate
    limiter) is made here, so all of them follow the same master. A Sentinel-made client
    asks the sentinels for the master's address whenever it opens a connection; after a
    failover its connections to the old master fail (a dead master: connection errors; a
    demoted one: READONLY, which redis-py turns into a connection error), and one retry
    reconnects to the master the sentinels now name.
    """

    def __init__(self, url=None, sentinels=(), master=None, sentinel_password=None,
                 password=None, db=0, sentinel_timeout=0.5):
        if sentinels and not master:
            raise RuntimeError("REDIS_SENTINELS is set but REDIS_SENTINEL_MASTER (the master's name) is not")
        self.url = url
        self.sentinels = tuple(tuple(address) for address in sentinels)
        self.master = master
        self.sentinel_password = sentinel_password
        self.password = password
        self.db = db
        self.sentinel_timeout = sentinel_timeout

    @classmethod
    def from_config(cls, config):
        return cls(
            url=config.get("REDIS_URL"),
            sentinels=config.get("REDIS_SENTINELS") or (),
            master=config.get("REDIS_SENTINEL_MASTER"),
            sentinel_password=config.get("REDIS_SENTINEL_PASSWORD"),
            password=config.get("REDIS_SENTINEL_MASTER_PASSWORD"),
            db=config.get("REDIS_SENTINEL_DB") or 0,
            sentinel_timeout=config["REDIS_SOCKET_TIMEOUT"],
        )

    @property
    def uses_sentinel(self):
        return bool(self.sentinels)

    def __str__(self):
        if self.uses_sentinel:
            return "sentinel %s at %s" % (self.master, ",".join(f"{h}:{p}" for h, p in self.sentinels))
        return self.url

    def client(self, **options):
        """A new redis.Redis for the master; `options` are redis-py connection options."""
        if not self.uses_sentinel:
            return redis.Redis.from_url(self.url, **options)
        # One retry on a connection error (READONLY included): the first attempt may use a
        # pooled connection to the old master, the retry asks the sentinels again. No retry
        # on a timeout: a hung master must still become a 503 within the budget.
        retry = RedisRetry(NoBackoff(), 1, supported_errors=(RedisConnectionError, ReadOnlyError))
        options["retry"] = retry
        sentinel = Sentinel(self.sentinels, sentinel_kwargs=self._sentinel_options())
        return sentinel.master_for(self.master, password=self.password, db=self.db, **options)

    def _sentinel_options(self):
        return {"socket_connect_timeout": self.sentinel_timeout, "socket_timeout": self.sentinel_timeout,
                "password": self.sentinel_password}

    def limiter_storage(self, timeout):
        """(storage URI, options) for Flask-Limiter (the `limits` package) on the same master."""
        options = {"socket_connect_timeout": timeout, "socket_timeout": timeout}
        if not self.uses_sentinel:
            url = self.url
            if url.startswith("unix://"):
                url = "redis+unix://" + url[len("unix://"):]
            return url, options
        hosts = ",".join(f"[{h}]:{p}" if ":" in h else f"{h}:{p}" for h, p in self.sentinels)
        # Counters live on the master: a replica's count lags behind it.
        options.update(password=self.password, db=self.db, use_replicas=False,
                       sentinel_kwargs=self._sentinel_options())
        return f"redis+sentinel://{hosts}/{self.master}", options


class Broker:
    """Owns the Redis connection, the RQ queue and the inbox scripts of one app."""

    def __init__(self, url, queue_name, socket_timeout=0.5, submission_ttl=7 * 24 * 3600,
                 target=None, wait_replicas=0, wait_timeout=0.25):
        self.target = target or RedisTarget(url, sentinel_timeout=socket_timeout)
        # No client-side retries (one, to find a new master, with Sentinel): a dead Redis
        # must become a 503 within a second.
        self.redis = self.connect(
            socket_connect_timeout=socket_timeout,
            socket_timeout=socket_timeout,
            retry=RedisRetry(NoBackoff(), 0),
            health_check_interval=30,
        )
        self.url = self.target.url
        self.queue = Queue(queue_name, connection=self.redis)
        self.submission_ttl = submission_ttl
        if wait_replicas and wait_timeout >= socket_timeout:
            raise RuntimeError("MODERATION_REDIS_WAIT_TIMEOUT must be below MODERATION_REDIS_TIMEOUT")
        self.wait_replicas = wait_replicas
        # WAIT's timeout is in milliseconds, and 0 would mean "forever".
        self.wait_ms = max(1, round(wait_timeout * 1000))
        self._ingest = self.redis.register_script(_INGEST_LUA)
        self._claim = self.redis.register_script(_CLAIM_LUA)
        self._erase_raw = self.redis.register_script(_ERASE_RAW_LUA)
        self._delete_job = self.redis.register_script(_DELETE_JOB_LUA)

    # -- ingest (web process) -------------------------------------------------
    def submit(self, payload, rate_windows=None):
        """Queue one validated submission. Returns False if its client_id was seen on its site.

        `rate_windows` ([(key, amount, seconds)]; default: what `ratelimit.hit`
        left for this request) are counted in the same script: when one is full
        nothing is queued and ratelimit.Limited is raised with the seconds to wait.
        Raises redis.RedisError when Redis is unreachable (the caller answers 503).
        """
        if rate_windows is None:
            rate_windows = ratelimit.take_pending()
        key = submission_key(payload["site_id"], payload["client_id"])
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        keys = [key, INBOX, DRAIN_FLAG]
        args = [body, self.submission_ttl, DRAIN_FLAG_MS, 1 if self.wait_replicas else 0]
        for window_key, amount, seconds in rate_windows:
            keys.append(window_key)
            args += [amount, seconds]
        if self.wait_replicas:
            result, acked = self._ingest_and_wait(keys, args)
        else:
            result, acked = self._ingest(keys=keys, args=args), None
        if result < 0:
            raise ratelimit.Limited(-result)
        if result == 2:
            self.request_drain()
        if acked is not None and acked < self.wait_replicas:
            raise ReplicasBehind(f"{acked} of {self.wait_replicas} replicas confirmed within {self.wait_ms} ms")
        return result != 0

    def _ingest_and_wait(self, keys, args):
        """The ingest script, then WAIT, on one connection in one round trip (a pipeline:
        WAIT counts the replicas holding *this connection's* writes). EVALSHA directly: a
        pipeline running a registered Script checks SCRIPT EXISTS first, every time.
        Returns (script result, replicas that confirmed)."""
        for attempt in (1, 2):
            with self.redis.pipeline(transaction=False) as pipe:
                pipe.evalsha(self._ingest.sha, len(keys), *keys, *args)
                pipe.execute_command("WAIT", self.wait_replicas, self.wait_ms)
                result, acked = pipe.execute(raise_on_error=False)
            if isinstance(result, NoScriptError) and attempt == 1:
                self.redis.script_load(_INGEST_LUA)  # a new master, or SCRIPT FLUSH
                continue
            for reply in (result, acked):
                if isinstance(reply, Exception):
                    raise reply
            return result, acked

    def request_drain(self):
        # By name (moderation.tasks): the web process never imports the worker's code
        # (persist, screening, bleach, the spam model). Importing it on a web worker's
        # first submission stalled that request and every one queued behind it.
        return tasks.enqueue(tasks.DRAIN, queue=self.queue)

    # -- worker side ------------------------------------------------------------
    def claim(self, job_id, limit):
        raw = self._claim(keys=[INBOX, drain_claim_key(job_id)], args=[limit])
        return [json.loads(item) for item in raw]

    def release(self, job_id):
        self.redis.delete(drain_claim_key(job_id))

    def inbox_length(self):
        return self.redis.llen(INBOX)

    def finish_drain(self):
        """A drain job found the inbox empty: clear the request flag and look once more.

        Ingest pushes and tests the flag atomically (Lua); this clears the flag and
        reads the length atomically (MULTI). So a submission pushed while the flag
        was still set is seen here, and one pushed after sets the flag again and
        requests its own drain: nothing waits for the next visitor.
        """
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(DRAIN_FLAG)
            pipe.llen(INBOX)
            _, waiting = pipe.execute()
        if waiting:
            self.request_drain()
        return waiting

    def is_queued(self, site_id, client_id):
        return self.redis.exists(submission_key(site_id, client_id)) == 1

    def depth(self):
        """Submissions not yet persisted: waiting in the inbox plus queued jobs."""
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.llen(INBOX)
            pipe.llen(self.queue.key)
            inbox, jobs = pipe.execute()
        return inbox + jobs

    # -- erasure (moderation.services.erasure) -------------------------------------
    def claim_keys(self):
        """Drain jobs' claim lists (lists only: a web process older than redis_keys may still
        write a dashboard claim, a string, under this prefix)."""
        return [key.decode() for key in self.redis.scan_iter(match=CLAIM_PREFIX + "*", _type="list", count=500)]

    def remove_raw(self, list_key, raws, job_id=None):
        """LREM each exact raw element; -1 (nothing removed) while drain job `job_id` runs
        and still holds one of them."""
        if not raws:
            return 0
        keys = [list_key] + ([_text(Job.key_for(job_id))] if job_id else [])
        return self._erase_raw(keys=keys, args=list(raws))

    def delete_job_if_idle(self, job_id, registries):
        """Delete an RQ job no worker holds (queued, scheduled, deferred, failed). 1 deleted,
        0 already gone, -1 busy (a worker took it: wait for it to finish)."""
        keys = [_text(Job.key_for(job_id)), self.queue.key, self.queue.intermediate_queue_key,
                Result.get_key(job_id)] + [registry.key for registry in registries]
        result = self._delete_job(keys=keys, args=[job_id])
        return -1 if result < 0 else min(result, 1)

    def ping(self):
        return self.redis.ping()

    def connect(self, **options):
        """Another client for the same master (a worker's blocking reads, a liveness beat)."""
        return self.target.client(**options)


def init_app(app):
    """Attach `app.broker`. With REDIS_SENTINELS set, Sentinel names the master (REDIS_URL is
    ignored); else REDIS_URL, and with it unset, the embedded server's socket."""
    url = app.config.get("REDIS_URL")
    if app.config.get("REDIS_SENTINELS"):
        url = app.config["REDIS_URL"] = None
    elif not url:
        url = embedded_redis.url_for(app.config["DATA_DIR"])
        app.config["REDIS_URL"] = url
        app.config["EMBEDDED_REDIS"] = True
    app.broker = Broker(
        url,
        app.config["QUEUE_NAME"],
        socket_timeout=app.config["REDIS_SOCKET_TIMEOUT"],
        submission_ttl=app.config["SUBMISSION_TTL"],
        target=RedisTarget.from_config(app.config),
        wait_replicas=app.config["REDIS_WAIT_REPLICAS"],
        wait_timeout=app.config["REDIS_WAIT_TIMEOUT"],
    )


def get_broker():
    return current_app.broker


def _text(key):
    return key.decode() if isinstance(key, bytes) else key
