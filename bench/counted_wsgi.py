"""wsgi:app with a count of the comment-list requests that reach it (bench/live_readers.py).

The count is an INCR in the bench's Redis, so it adds up across gunicorn workers; it costs one
round trip per list request that gets past nginx, which is the figure being measured.
"""
import os

import redis

from wsgi import app as _app

COUNTER = os.environ["BENCH_ORIGIN_COUNTER"]  # the key bench/live_readers.py reads
_redis = redis.Redis.from_url(os.environ["REDIS_URL"])


def app(environ, start_response):
    if environ.get("REQUEST_METHOD") == "GET" and environ.get("PATH_INFO") == "/api/v1/comments":
        _redis.incr(COUNTER)
    return _app(environ, start_response)
