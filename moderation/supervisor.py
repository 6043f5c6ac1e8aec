"""`moderation run`'s children: started together, stopped together.

SIGTERM (systemd, containers), SIGINT (Ctrl+C) and SIGHUP (a closed terminal or
multiplexer) all stop every child within STOP_SECONDS: the queue workers first
(SIGTERM; a worker still busy after WORKER_GRACE seconds is killed with its RQ
scheduler, and its claimed batch is recovered by the next worker, see
docs/guarantees.md), then the embedded Redis (SHUTDOWN, which flushes its
append-only file). Before, only Ctrl+C ran the clean-up; SIGTERM and SIGHUP
ended the process at once and left Redis and the workers running.

A child that exits on its own takes the others down with a message naming it:
a service whose worker or Redis is gone would keep accepting submissions that
nobody stores. Children also get SIGTERM from the kernel if `moderation run`
itself is killed (PR_SET_PDEATHSIG, Linux), so even kill -9 leaves no orphan.
"""
import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import threading
import time

import click

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
STOP_SECONDS = 10
WORKER_GRACE = 5.0
POLL_SECONDS = 0.5
_PR_SET_PDEATHSIG = 1


class Stop(Exception):
    """Raised in the main thread to leave the web server and start the clean-up."""

    def __init__(self, reason, failed=False):
        super().__init__(reason)
        self.reason = reason
        self.failed = failed


def die_with_parent():
    """preexec_fn: the kernel sends this child SIGTERM when its parent dies (Linux only)."""
    name = ctypes.util.find_library("c")
    if not name or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(name, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


class Supervisor:
    """Owns the children of `moderation run`; a context manager that always stops them."""

    def __init__(self, echo=click.echo):
        self.echo = echo
        self.children = []  # (label, Popen), in start order
        self.redis = None
        self.stopping = False
        self.failure = None
        self._previous = {}
        self._watcher = None

    # -- start -------------------------------------------------------------------------

    def __enter__(self):
        for signum in STOP_SIGNALS:
            self._previous[signum] = signal.signal(signum, self._on_signal)
        return self

    def adopt_redis(self, server):
        """The embedded Redis (moderation.embedded_redis.EmbeddedRedis), if we started it."""
        if server is not None and server.process is not None:
            self.redis = server

    def spawn(self, label, args, env):
        # Its own session: a terminal's Ctrl+C or hang-up reaches us, not the child directly,
        # and the child's own children (RQ's scheduler) can be stopped with it as a group.
        proc = subprocess.Popen(args, env=env, start_new_session=True, preexec_fn=die_with_parent)
        self.children.append((label, proc))
        return proc

    def watch(self):
        """Check the children in the background; one that exits stops everything."""
        self._watcher = threading.Thread(target=self._watch, name="moderation-run-watch", daemon=True)
        self._watcher.start()

    def _watch(self):
        main = threading.main_thread()
        while not self.stopping and main.is_alive():
            for label, proc in self._processes():
                code = proc.poll()
                if code is not None and not self.stopping:
                    how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
                    self.failure = f"{label} (pid {proc.pid}) {how}; stopping everything"
                    os.kill(os.getpid(), signal.SIGTERM)  # the main thread stops the rest
                    return
            time.sleep(POLL_SECONDS)

    def _processes(self):
        out = list(self.children)
        if self.redis is not None and self.redis.process is not None:
            out.append(("the embedded Redis", self.redis.process))
        return out

    def _on_signal(self, signum, _frame):
        if self.stopping:
            return  # a second Ctrl+C must not interrupt the clean-up
        self.stopping = True
        if self.failure:
            raise Stop(self.failure, failed=True)
        raise Stop(f"{signal.Signals(signum).name} received; stopping")

    # -- stop ----------------------------------------------------------------------------

    def __exit__(self, exc_type, exc, _tb):
        self.stopping = True
        asked = isinstance(exc, Stop)
        failed = self.failure is not None or (asked and exc.failed)
        if failed:
            self.echo(f"moderation run: {self.failure or exc.reason}", err=True)
        elif asked:
            self.echo(f"moderation run: {exc.reason}")
        try:
            self.stop()
        finally:
            for signum, previous in self._previous.items():
                signal.signal(signum, previous)
        if failed:
            raise SystemExit(1)
        return asked  # a requested stop is a clean exit (status 0)

    def stop(self):
        """Workers first (they may be finishing a batch in Redis), then Redis."""
        deadline = time.monotonic() + WORKER_GRACE
        for _label, proc in self.children:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for _label, proc in self.children:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # a late worker, and RQ's scheduler child
            except (ProcessLookupError, PermissionError):
                pass
            proc.wait()
        if self.redis is not None:
            self.redis.stop(timeout=STOP_SECONDS - WORKER_GRACE - 1)
