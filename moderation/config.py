"""Configuration classes. Every setting can come from the environment.

`MODERATION_ENV` picks the class: ``production`` (default), ``development`` or
``testing``. Production refuses to start without ``SECRET_KEY``.
"""
import os
import secrets
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _ints(value):
    return [int(part) for part in value.split(",") if part.strip()]


def _bool(value):
    return value.strip().lower() in ("1", "true", "yes", "on")


def _list(value):
    return tuple(item.strip() for item in value.split(",") if item.strip())


def _addresses(value, default_port=26379):
    """"host1:26379,host2:26379" (or "[::1]:26379") -> (("host1", 26379), ("host2", 26379))."""
    out = []
    for item in _list(value):
        host, colon, port = item.rpartition(":")
        if not colon or host.endswith(":"):  # no port, or a bare IPv6 address
            host, port = item, default_port
        out.append((host.strip("[]"), int(port)))
    return tuple(out)


class Config:
    """Defaults; `from_env` overlays the environment when the app is created."""

    ENV_NAME = "production"
    TESTING = False
    DEBUG = False

    DATA_DIR = str(ROOT / "instance")
    SECRET_KEY = None
    # Stable salt for e-mail hashes (and, before rotation, addresses); derived from SECRET_KEY when unset.
    IP_HASH_SALT = None
    # Address hashes use a random salt in Redis, rotated this often (docs/privacy.md).
    ADDRESS_SALT_ROTATION_DAYS = 30

    SQLALCHEMY_DATABASE_URI = None  # default: SQLite in DATA_DIR
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    # None: an embedded redis-server is started on a unix socket in DATA_DIR.
    REDIS_URL = None
    # Embedded Redis durability: "everysec" survives a restart or crash of Redis
    # itself; "always" also survives a power cut, at a throughput cost.
    REDIS_APPENDFSYNC = "everysec"
    # Client-side budget: a down Redis must turn into a 503 well within 1 s.
    REDIS_SOCKET_TIMEOUT = 0.5
    # Redis Sentinel (docs/configuration.md): set, the web app and the workers ask these
    # sentinels ((host, port), ...) where the master named REDIS_SENTINEL_MASTER is, and ask
    # again after a failover; REDIS_URL is then ignored. The password is the sentinels' own;
    # the master's (and replicas') password and database number are the next two.
    REDIS_SENTINELS = ()
    REDIS_SENTINEL_MASTER = None
    REDIS_SENTINEL_PASSWORD = None
    REDIS_SENTINEL_MASTER_PASSWORD = None
    REDIS_SENTINEL_DB = 0
    # Replication is asynchronous: a 202 can be lost in a failover unless that many replicas
    # confirmed the submission first (Redis WAIT after the ingest script, docs/guarantees.md).
    # Fewer within REDIS_WAIT_TIMEOUT seconds (below REDIS_SOCKET_TIMEOUT): 503, Retry-After.
    REDIS_WAIT_REPLICAS = 0
    REDIS_WAIT_TIMEOUT = 0.25
    QUEUE_NAME = "moderation"
    # How many submissions one worker job takes from the inbox at a time.
    DRAIN_BATCH_SIZE = 500
    # A drain job stops after this many seconds and hands over to a fresh job.
    DRAIN_TIME_BUDGET = 10.0
    # Seconds one drain transaction may hold the database (SQLite's single write lock):
    # a batch is stored in as many transactions as that takes (moderation/jobs/persist.py),
    # with a pause of DRAIN_LOCK_PAUSE seconds after each in which waiting writers get in.
    DRAIN_TRANSACTION_BUDGET = 0.2
    DRAIN_LOCK_PAUSE = 0.01
    # Dedup window for client_id in Redis; the database unique index covers the rest.
    SUBMISSION_TTL = 7 * 24 * 3600
    WORKER_MAINTENANCE_INTERVAL = 15

    # 64 KB: a 5,000-character comment of emoji, or of escaped Cyrillic, still fits.
    MAX_CONTENT_LENGTH = 64 * 1024
    RETRY_AFTER_UNAVAILABLE = 5
    # SQLite: seconds a connection waits for the write lock (busy timeout). A unit of work
    # (moderation/db_retry.py) that still finds the database locked or busy is redone whole
    # for up to DB_RETRY_BUDGET seconds before the request answers 503.
    DB_BUSY_TIMEOUT = 15.0
    DB_RETRY_BUDGET = 20.0

    # Default rate limits per reader (address hash) per site; a site can override them.
    RATELIMIT_REPORTS = "20/minute;200/day"
    RATELIMIT_COMMENTS = "5/minute;100/day"
    RATELIMIT_FLAGS = "10/minute;100/day"
    # Failed dashboard sign-ins (moderation.dashboard.login_throttle, docs/security.md):
    # one client on one account (the waits grow: a minute, an hour, a day), all clients
    # without the account's device cookie together, one address on any accounts.
    LOGIN_LIMIT_CLIENT = "5 per minute;10 per hour;20 per day"
    LOGIN_LIMIT_ACCOUNT = "30 per hour;100 per day"
    LOGIN_LIMIT_ADDRESS = "20 per 15 minutes;100 per day"
    # Lifetime of the device cookie a successful sign-in leaves in the browser.
    LOGIN_DEVICE_DAYS = 180
    # Limiter's Redis unreachable: count the decorated (sign-in) limits in process memory
    # rather than letting every guess through.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # Check every window of a limit so Retry-After names the longest breached one.
    RATELIMIT_FAIL_ON_FIRST_BREACH = False
    RATELIMIT_ENABLED = True
    RATELIMIT_STRATEGY = "fixed-window"
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True  # Redis down: the enqueue answers 503 instead.
    # Number of reverse proxies in front of us whose X-Forwarded-For we trust.
    TRUSTED_PROXIES = 0
    # Seconds a site's settings are cached in each web process.
    SITE_CACHE_SECONDS = 30
    COMMENTS_PAGE_SIZE = 50
    # The public comment list (GET /api/v1/comments) in shared caches (deploy/nginx.conf, a
    # CDN): fresh this many seconds (s-maxage; 0: not shared, every poll reaches the app),
    # then served stale this many more while one request refetches it (stale-while-revalidate).
    # Their sum plus the widget's 4 s poll is how late a newly approved comment can be.
    LIST_SHARED_MAX_AGE = 1
    LIST_STALE_WHILE_REVALIDATE = 1

    # Notifications (docs/notifications.md). No SMTP_HOST: e-mail is off (logged, not sent).
    SMTP_HOST = None
    SMTP_PORT = 587
    SMTP_USER = None
    SMTP_PASSWORD = None
    SMTP_STARTTLS = True
    SMTP_FROM = "moderation@localhost"
    SMTP_TIMEOUT = 10.0
    # Absolute links in e-mails (unsubscribe, dashboard) are built on this, e.g. https://moderation.example
    PUBLIC_URL = None
    # Links in staff e-mails (moderation/notify/links.py): one-click Approve / Reject / Spam
    # work this many hours, a password-reset link this many minutes; each works once.
    MAIL_ACTION_HOURS = 72
    PASSWORD_RESET_MINUTES = 60
    # Requests to those links per address (any outcome; a token is not guessable, this keeps
    # scripts from hammering the pages), and "forgot password" requests per address and
    # per e-mail address asked for (known or not: the answer must not tell which).
    MAIL_LINK_LIMIT = "30 per 15 minutes;200 per day"
    RESET_LIMIT_ADDRESS = "5 per 15 minutes;20 per day"
    RESET_LIMIT_ACCOUNT = "3 per hour;10 per day"
    WEBHOOK_TIMEOUT = 5.0
    # GET /metrics (Prometheus) needs `Authorization: Bearer <this>`; unset: no such endpoint (404).
    METRICS_TOKEN = None
    WEBHOOK_MAX_RESPONSE = 64 * 1024
    # Networks a webhook may reach although they are not public (CIDR strings; empty = none):
    # every other loopback, private, link-local... address is refused (moderation.notify.http).
    WEBHOOK_ALLOWED_NETWORKS = ()
    # Seconds between the retries of a failed webhook or e-mail (RQ Retry intervals).
    NOTIFY_RETRY_INTERVALS = [10, 60, 300, 1800, 7200]
    # How often a worker checks whether hourly/daily digests are due.
    DIGEST_CHECK_SECONDS = 300
    # Already-fixed detection (moderation.jobs.fixed_check): seconds between runs (0 = never
    # scheduled; `moderation check-fixed` still works), seconds between two page fetches,
    # pages and seconds one job spends before handing over to a fresh job at the back of the
    # queue (drain jobs queued meanwhile go first), and the least page text (characters)
    # that counts as "the article is still there".
    FIXED_CHECK_INTERVAL = 3600
    FIXED_CHECK_DELAY = 1.0
    FIXED_CHECK_PAGES = 50
    FIXED_CHECK_BUDGET = 30.0
    FIXED_CHECK_MIN_TEXT = 200
    # The page fetcher (moderation.safe_fetch): networks exempt from the non-public address
    # refusal (CIDR strings; empty = none), overall timeout and body cap.
    FETCH_ALLOWED_NETWORKS = ()
    FETCH_TIMEOUT = 10.0
    FETCH_MAX_BYTES = 2 * 1024 * 1024

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = True
    # How long a sign-in lasts, with "remember me" or without: the cookie's expiry and,
    # checked on the server, the most a copied session or remember cookie is worth.
    REMEMBER_COOKIE_DURATION = timedelta(days=14)


# Environment variable -> (config key, parser). Documented in docs/configuration.md.
ENVIRONMENT = {
    "MODERATION_DATA_DIR": ("DATA_DIR", str),
    "SECRET_KEY": ("SECRET_KEY", str),
    "IP_HASH_SALT": ("IP_HASH_SALT", str),
    "MODERATION_SALT_ROTATION_DAYS": ("ADDRESS_SALT_ROTATION_DAYS", float),
    "DATABASE_URL": ("SQLALCHEMY_DATABASE_URI", str),
    "REDIS_URL": ("REDIS_URL", str),
    "MODERATION_REDIS_APPENDFSYNC": ("REDIS_APPENDFSYNC", str),
    "MODERATION_REDIS_TIMEOUT": ("REDIS_SOCKET_TIMEOUT", float),
    "REDIS_SENTINELS": ("REDIS_SENTINELS", _addresses),
    "REDIS_SENTINEL_MASTER": ("REDIS_SENTINEL_MASTER", str),
    "REDIS_SENTINEL_PASSWORD": ("REDIS_SENTINEL_PASSWORD", str),
    "REDIS_SENTINEL_MASTER_PASSWORD": ("REDIS_SENTINEL_MASTER_PASSWORD", str),
    "REDIS_SENTINEL_DB": ("REDIS_SENTINEL_DB", int),
    "MODERATION_REDIS_WAIT_REPLICAS": ("REDIS_WAIT_REPLICAS", int),
    "MODERATION_REDIS_WAIT_TIMEOUT": ("REDIS_WAIT_TIMEOUT", float),
    "MODERATION_QUEUE": ("QUEUE_NAME", str),
    "MODERATION_BATCH_SIZE": ("DRAIN_BATCH_SIZE", int),
    "MODERATION_DRAIN_BUDGET": ("DRAIN_TIME_BUDGET", float),
    "MODERATION_DRAIN_TRANSACTION": ("DRAIN_TRANSACTION_BUDGET", float),
    "MODERATION_DB_BUSY_TIMEOUT": ("DB_BUSY_TIMEOUT", float),
    "MODERATION_DB_RETRY_BUDGET": ("DB_RETRY_BUDGET", float),
    "MODERATION_SUBMISSION_TTL": ("SUBMISSION_TTL", int),
    "MODERATION_WORKER_MAINTENANCE": ("WORKER_MAINTENANCE_INTERVAL", int),
    "MODERATION_MAX_BODY": ("MAX_CONTENT_LENGTH", int),
    "MODERATION_LIMIT_REPORTS": ("RATELIMIT_REPORTS", str),
    "MODERATION_LIMIT_COMMENTS": ("RATELIMIT_COMMENTS", str),
    "MODERATION_LIMIT_FLAGS": ("RATELIMIT_FLAGS", str),
    "MODERATION_RATELIMIT": ("RATELIMIT_ENABLED", _bool),
    "MODERATION_TRUSTED_PROXIES": ("TRUSTED_PROXIES", int),
    "MODERATION_SITE_CACHE": ("SITE_CACHE_SECONDS", int),
    "MODERATION_COMMENTS_PAGE": ("COMMENTS_PAGE_SIZE", int),
    "MODERATION_LIST_SHARED_MAX_AGE": ("LIST_SHARED_MAX_AGE", int),
    "MODERATION_LIST_STALE": ("LIST_STALE_WHILE_REVALIDATE", int),
    "SMTP_HOST": ("SMTP_HOST", str),
    "SMTP_PORT": ("SMTP_PORT", int),
    "SMTP_USER": ("SMTP_USER", str),
    "SMTP_PASSWORD": ("SMTP_PASSWORD", str),
    "SMTP_STARTTLS": ("SMTP_STARTTLS", _bool),
    "SMTP_FROM": ("SMTP_FROM", str),
    "SMTP_TIMEOUT": ("SMTP_TIMEOUT", float),
    "MODERATION_PUBLIC_URL": ("PUBLIC_URL", str),
    "MODERATION_MAIL_ACTION_HOURS": ("MAIL_ACTION_HOURS", float),
    "MODERATION_PASSWORD_RESET_MINUTES": ("PASSWORD_RESET_MINUTES", float),
    "MODERATION_WEBHOOK_TIMEOUT": ("WEBHOOK_TIMEOUT", float),
    "MODERATION_METRICS_TOKEN": ("METRICS_TOKEN", str),
    "MODERATION_WEBHOOK_ALLOWED_NETWORKS": ("WEBHOOK_ALLOWED_NETWORKS", _list),
    "MODERATION_NOTIFY_RETRIES": ("NOTIFY_RETRY_INTERVALS", _ints),
    "MODERATION_DIGEST_CHECK": ("DIGEST_CHECK_SECONDS", int),
    "MODERATION_FIXED_CHECK_INTERVAL": ("FIXED_CHECK_INTERVAL", int),
    "MODERATION_FETCH_ALLOWED_NETWORKS": ("FETCH_ALLOWED_NETWORKS", _list),
    "MODERATION_FETCH_TIMEOUT": ("FETCH_TIMEOUT", float),
    "MODERATION_FETCH_MAX_BYTES": ("FETCH_MAX_BYTES", int),
    "MODERATION_SIGNIN_DAYS": ("REMEMBER_COOKIE_DURATION", lambda value: timedelta(days=float(value))),
}


def from_env(environ=None):
    """Settings present in the environment, parsed."""
    environ = os.environ if environ is None else environ
    out = {}
    for name, (key, parse) in ENVIRONMENT.items():
        value = environ.get(name)
        if value not in (None, ""):
            out[key] = parse(value)
    return out


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    # `make run` serves its demo article on loopback: let the fixed check fetch it.
    FETCH_ALLOWED_NETWORKS = ("127.0.0.0/8", "::1/128")


class TestingConfig(DevelopmentConfig):
    ENV_NAME = "testing"
    TESTING = True
    WTF_CSRF_ENABLED = True
    SECRET_KEY = "testing-not-secret"
    # Tests that want the scheduled fixed check turn it on; the rest must not fetch anything.
    FIXED_CHECK_INTERVAL = 0
    FETCH_ALLOWED_NETWORKS = ()


CONFIGS = {
    "production": Config,
    "development": DevelopmentConfig,
    "testing": TestingConfig,
}


def load_secret_key(data_dir):
    """Development convenience: a random key kept in DATA_DIR so sessions survive restarts."""
    path = Path(data_dir) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
