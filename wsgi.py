"""WSGI entry point: `gunicorn wsgi:app`."""
import gc

from moderation import create_app

app = create_app()

# Everything imported and built so far lives as long as the worker. Left to the
# collector, its first full collection walked all of it in the middle of a request
# (~100 ms, once per worker, a few hundred requests in); frozen, it is never walked.
gc.collect()
gc.freeze()
