"""RQ jobs. They take plain data or ids, never ORM objects, and run in an app context.

Our worker (`moderation.jobs.worker`) preloads the app and wraps every job in
its context. A job run by any other RQ worker gets an app built on first use:
never at import time, so importing this package has no side effects.
"""
import functools

from flask import has_app_context

_app = None


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
