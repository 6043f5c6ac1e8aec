"""Child processes of the benchmark: start on loopback, wait until they answer, stop, peak RSS."""
import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url, timeout=60.0, proc=None):
    """Poll until `url` answers anything at all (even 4xx); raise if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode} before answering {url}")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


class Procs:
    """Every process we start, stopped in reverse order (their whole process group)."""

    def __init__(self, logdir):
        self.logdir = Path(logdir)
        self.logdir.mkdir(parents=True, exist_ok=True)
        self.started = []

    def start(self, name, args, env=None, cwd=ROOT):
        log = open(self.logdir / f"{name}.log", "ab")
        proc = subprocess.Popen(args, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        proc.bench_name = name
        self.started.append(proc)
        return proc

    def stop(self, proc, timeout=15.0):
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if proc in self.started:
            self.started.remove(proc)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop_all()

    def stop_all(self):
        for proc in reversed(list(self.started)):
            self.stop(proc)


def children(pid):
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def peak_rss_mb(pid):
    """VmHWM (the kernel's peak resident set) of one process, in MB; None if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def gunicorn_worker_peak_mb(master):
    """The largest peak RSS among a gunicorn master's workers."""
    peaks = [peak_rss_mb(pid) for pid in children(master.pid)]
    peaks = [p for p in peaks if p is not None]
    return max(peaks) if peaks else None


@contextlib.contextmanager
def local_redis(directory):
    """A redis-server (the embedded one, AOF on) in `directory` on a free loopback port; stopped on exit."""
    from moderation.embedded_redis import EmbeddedRedis  # noqa: PLC0415

    server = EmbeddedRedis(Path(directory) / "redis", port=free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()
