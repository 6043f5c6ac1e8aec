"""The embedded redis-server: unix socket in the data dir, append-only file, reuse."""
import os
from pathlib import Path

import pytest
import redis

from moderation import embedded_redis
from moderation.embedded_redis import EmbeddedRedis, find_redis_server


@pytest.fixture
def servers():
    """Every EmbeddedRedis a test creates is stopped afterwards."""
    started = []

    def make(data_dir, **kwargs):
        server = EmbeddedRedis(data_dir, **kwargs)
        started.append(server)
        return server

    yield make
    for server in reversed(started):
        server.stop()


def connect(url):
    return redis.Redis.from_url(url, socket_timeout=5)


def aof_files(data_dir):
    redis_dir = Path(data_dir) / "redis"
    # Redis < 7 writes appendonly.aof; Redis 7 an appendonlydir/ with base and incr files.
    return [p for p in redis_dir.rglob("appendonly*") if p.is_file()]


def test_find_redis_server_returns_an_executable():
    path = find_redis_server()
    assert os.path.isfile(path)
    assert os.access(path, os.X_OK)
    assert "redis-server" in os.path.basename(path)


def test_find_redis_server_honours_the_environment(monkeypatch, tmp_path):
    fake = tmp_path / "my-redis-server"
    monkeypatch.setenv("REDIS_SERVER", str(fake))
    assert find_redis_server() == str(fake)


def test_starts_on_a_unix_socket_and_answers_ping(servers, tmp_path):
    server = servers(tmp_path)
    url = server.start()

    assert url == server.url == embedded_redis.url_for(tmp_path)
    assert url.startswith("unix://")
    assert os.path.exists(server.socket)
    assert connect(url).ping() is True
    assert server.process is not None and server.process.poll() is None
    # Unix socket only: no TCP port was opened.
    assert connect(url).config_get("port")["port"] == "0"


def test_writes_an_append_only_file(servers, tmp_path):
    server = servers(tmp_path, appendfsync="always")
    client = connect(server.start())
    assert client.config_get("appendonly")["appendonly"] == "yes"

    client.rpush("moderation:inbox", "payload-1")

    files = aof_files(tmp_path)
    assert files, list((tmp_path / "redis").rglob("*"))
    assert any(b"payload-1" in f.read_bytes() for f in files)


def test_data_survives_stop_and_start(servers, tmp_path):
    server = servers(tmp_path)
    client = connect(server.start())
    client.set("kept", "before-restart")
    client.rpush("moderation:inbox", "a", "b")
    first_pid = server.process.pid

    server.stop()
    assert server.process.poll() is not None
    assert not embedded_redis.is_alive(server.url)

    client = connect(server.start())
    assert server.process.pid != first_pid
    assert client.get("kept") == b"before-restart"
    assert client.lrange("moderation:inbox", 0, -1) == [b"a", b"b"]


def test_data_survives_a_crash_with_fsync_always(servers, tmp_path):
    server = servers(tmp_path, appendfsync="always")
    client = connect(server.start())
    client.set("acknowledged", "yes")

    server.kill()  # SIGKILL: no clean shutdown, the socket file is left behind
    assert not embedded_redis.is_alive(server.url)

    client = connect(server.start())
    assert client.get("acknowledged") == b"yes"


def test_second_start_reuses_the_running_server(servers, tmp_path):
    first = servers(tmp_path)
    url = first.start()
    connect(url).set("shared", "1")
    pid = first.process.pid

    second = servers(tmp_path)
    assert second.start() == url
    assert second.process is None  # nothing spawned
    assert connect(url).info("server")["process_id"] == pid
    assert connect(url).get("shared") == b"1"

    # The same object starting again is also a no-op.
    assert first.start() == url
    assert first.process.pid == pid
    # Stopping the one that did not spawn it leaves the server running.
    second.stop()
    assert embedded_redis.is_alive(url)


def test_long_data_dir_falls_back_to_a_short_socket_path(tmp_path):
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    path = embedded_redis.socket_path(deep)
    assert len(path) <= 100
    assert path == embedded_redis.socket_path(deep)  # stable: every process finds it
    assert path != embedded_redis.socket_path(tmp_path / "other")
