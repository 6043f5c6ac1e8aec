"""RQ jobs. They take plain data or ids, never ORM objects, and run in an app context.

Our worker (`moderation.jobs.worker`) preloads the app and wraps every job in
its context. A job run by any other RQ worker gets an app built on first use:
never at import time, so importing this package has no side effects.
"""
import functools
import threading

from flask import has_app_context

_app = None

# Set when this worker process is asked to stop (SIGTERM/SIGINT, see worker.AppWorker):
# long jobs hand over at their next safe point instead of running out their budget.
stop_requested = threading.Event()


def _fallback_app():
    global _app
    if _app is None:
        from .. import create_app  # noqa: PLC0415

        _app = create_app()
    return _app


def in_app_context(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if has_app_context():
            return fn(*args, **kwargs)
        with _fallback_app().app_context():
            return fn(*args, **kwargs)

    return wrapper
