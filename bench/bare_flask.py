"""The ceiling for any Flask handler: parse JSON, answer JSON. `gunicorn bench.bare_flask:app`.

POST /api/v1/comments and /api/v1/reports answer 202 like ours (no validation, no Redis);
GET /api/v1/comments answers a small fixed list.
"""
from flask import Flask, jsonify, request

app = Flask(__name__)


@app.post("/api/v1/comments")
@app.post("/api/v1/reports")
def post():
    data = request.get_json(silent=True) or {}
    return jsonify({"id": data.get("client_id"), "status": "queued"}), 202


@app.get("/api/v1/comments")
def comments():
    return jsonify({"comments": [], "total": 0, "next": None})
