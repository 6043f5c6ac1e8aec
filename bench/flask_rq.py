"""Reference: Flask + one plain `rq.enqueue` per request. `gunicorn bench.flask_rq:app`.

REDIS_URL names the Redis; jobs go to the queue `bench-flask-rq` and are never run
(the suite deletes the queue afterwards).
"""
import os

import redis
from flask import Flask, jsonify, request
from rq import Queue

app = Flask(__name__)
queue = Queue("bench-flask-rq", connection=redis.Redis.from_url(os.environ["REDIS_URL"]))


@app.post("/api/v1/comments")
@app.post("/api/v1/reports")
def post():
    data = request.get_json(silent=True) or {}
    queue.enqueue("bench.rq_reference.noop", data, result_ttl=0)
    return jsonify({"id": data.get("client_id"), "status": "queued"}), 202
