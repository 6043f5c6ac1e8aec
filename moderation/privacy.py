"""Reader addresses and e-mails are stored only as keyed hashes (HMAC-SHA256).

Two salts, two lifetimes (docs/privacy.md has the full reasoning):

* **Addresses** are hashed with a *rotating* random salt kept in Redis: a
  ``current`` salt and the ``previous`` one. Every ``ADDRESS_SALT_ROTATION_DAYS``
  (default 30) the current salt becomes the previous one and the old previous salt
  is deleted, so stored address hashes older than two periods can no longer be
  brute-forced back into an address (the IPv4 space is only 2^32 guesses), even by
  someone holding SECRET_KEY. The web process hashes every request under both
  salts; the worker re-keys the reader's earlier comments and address blocks from
  the previous hash to the current one (`rekey_addresses`), so blocking, velocity,
  "trusted commenter" and the dashboard's author history keep working across a
  rotation for any reader who comes back within the overlap.
* **E-mail addresses** are hashed with a *stable* salt derived from SECRET_KEY
  (or IP_HASH_SALT). Blocking by e-mail must survive rotation, and it could not be
  re-keyed later: the retention job deletes the clear e-mail, so nothing would be
  left to hash again. An e-mail is not enumerable the way an address is, so a
  stable secret key is enough to make the hash useless to a thief.
"""
import hashlib
import hmac
import secrets
import time

import redis
import sqlalchemy as sa
from flask import current_app, request

from .redis_keys import PRIVACY_SALTS as SALTS_KEY

DEFAULT_ROTATION_DAYS = 30
# How long a process trusts its copy of the salts before asking Redis again:
# a rotation made by another process (or the CLI) is picked up this fast.
CACHE_SECONDS = 30

# Atomic "read the salts, create or rotate them when due". ARGV: now, period in
# seconds, a fresh random salt (used only if one is needed), force (1/0), the
# legacy salt (previous salt on first use, so hashes stored before rotation
# existed keep matching for one period).
_SALTS_LUA = """
local cur = redis.call('HGET', KEYS[1], 'current')
local since = tonumber(redis.call('HGET', KEYS[1], 'since') or '0')
local now = tonumber(ARGV[1])
if not cur then
  redis.call('HSET', KEYS[1], 'current', ARGV[3], 'since', ARGV[1], 'previous', ARGV[5])
elseif ARGV[4] == '1' or now - since >= tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], 'previous', cur, 'current', ARGV[3], 'since', ARGV[1])
end
return redis.call('HMGET', KEYS[1], 'current', 'previous', 'since')
"""


def _stable_salt():
    salt = current_app.config.get("IP_HASH_SALT")
    if not salt:
        # Derived, not equal: leaking one never reveals the other.
        salt = hmac.new(current_app.config["SECRET_KEY"].encode(), b"ip-hash", "sha256").hexdigest()
        current_app.config["IP_HASH_SALT"] = salt
    return salt


def _hmac(salt, value):
    return hmac.new(salt.encode(), value.strip().lower().encode("utf-8"), hashlib.sha256).hexdigest()


def hash_email(value):
    """Keyed SHA-256 of an e-mail with the stable salt: the same forever (blocks survive)."""
    return _hmac(_stable_salt(), value)


# Older name, used where an e-mail (or anything not an address) is hashed.
hash_value = hash_email


def normalize_email(value):
    return (value or "").strip().lower()


def rotation_seconds():
    days = float(current_app.config.get("ADDRESS_SALT_ROTATION_DAYS") or DEFAULT_ROTATION_DAYS)
    # At least an hour: a misconfigured 0 must not rotate (and forget blocks) on every request.
    return max(days * 86400, 3600.0)


def _state():
    return current_app.extensions.setdefault("privacy", {"salts": None, "fetched": 0.0})


def _fetch(now, force=False):
    broker = current_app.broker
    script = _state().get("script")
    if script is None:
        script = _state()["script"] = broker.redis.register_script(_SALTS_LUA)
    current, previous, since = script(
        keys=[SALTS_KEY],
        args=[repr(now), rotation_seconds(), secrets.token_hex(32), "1" if force else "0", _stable_salt()],
    )
    salts = (current.decode(), previous.decode() if previous else None, float(since))
    _state().update(salts=salts, fetched=now)
    return salts


def address_salts(now=None, strict=False):
    """(current, previous or None, current_since). Cached per process for CACHE_SECONDS.

    When Redis cannot be asked: `strict` raises redis.RedisError (the reader API,
    which answers 503 at once instead of spending a second timeout on the rate
    limiter); otherwise the cached salts, else the stable salt (not cached), which
    then only keys throttles such as the sign-in page's, as nothing is queued.
    """
    now = time.time() if now is None else now
    state = _state()
    salts = state["salts"]
    fresh = salts is not None and now - state["fetched"] < CACHE_SECONDS and now - salts[2] < rotation_seconds()
    if fresh:
        return salts
    try:
        return _fetch(now)
    except redis.RedisError:
        if strict:
            raise
        current_app.logger.warning("privacy: redis unavailable, hashing with the cached or stable salt")
        return salts if salts is not None else (_stable_salt(), None, now)


def rotate_address_salt(now=None):
    """Rotate now (the previous salt is destroyed). Returns the new (current, previous, since)."""
    return _fetch(time.time() if now is None else now, force=True)


def address_hashes(address, now=None, strict=False):
    """(current hash, previous hash or None) of one address."""
    current, previous, _ = address_salts(now, strict)
    return _hmac(current, address), (_hmac(previous, address) if previous else None)


def hash_address(address, now=None):
    """The address's hash under the current salt: what new rows store."""
    return address_hashes(address, now)[0]


def client_address():
    """The reader's address as seen through the trusted proxies (ProxyFix sets remote_addr)."""
    return request.remote_addr or "unknown"


def reporter_hash():
    return hash_address(client_address())


def reporter_hashes():
    """Both hashes of this request's address; the reader API puts both in the payload.
    Raises redis.RedisError when Redis is unreachable (the API's 503)."""
    return address_hashes(client_address(), strict=True)


def rekey_addresses(payloads):
    """Worker side, inside the batch transaction: rows stored under a reader's
    previous-salt hash move to the current one, so every lookup by address hash
    (blocks, velocity, trusted commenter, author history) only needs the current
    hash. Comments and address blocks are indexed by hash; typo reports and flags
    are not looked up by reporter, so they keep their old hash until retention."""
    from .extensions import db  # noqa: PLC0415 - the web path must not need the ORM
    from .models import BlockedCommenter, Comment  # noqa: PLC0415

    pairs = {
        p["reporter_hash_prev"]: p["reporter_hash"]
        for p in payloads
        if p.get("reporter_hash_prev") and p.get("reporter_hash") and p["reporter_hash_prev"] != p["reporter_hash"]
    }
    items = sorted(pairs.items())
    # One statement per table per chunk (a batch holds up to hundreds of readers),
    # chunked to stay under SQLite's bound-parameter limit.
    for start in range(0, len(items), 200):
        chunk = dict(items[start:start + 200])
        db.session.execute(
            sa.update(Comment).where(Comment.reporter_hash.in_(list(chunk)))
            .values(reporter_hash=sa.case(chunk, value=Comment.reporter_hash))
            .execution_options(synchronize_session=False)
        )
        db.session.execute(
            sa.update(BlockedCommenter)
            .where(BlockedCommenter.kind == "address", BlockedCommenter.value_hash.in_(list(chunk)))
            .values(value_hash=sa.case(chunk, value=BlockedCommenter.value_hash))
            .execution_options(synchronize_session=False)
        )
    return len(pairs)
