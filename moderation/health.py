"""GET /healthz: what a load balancer and an on-call editor need to know."""
import sqlalchemy as sa
from flask import current_app, jsonify

from .extensions import db


def healthz():
    """200 when the database and Redis answer, else 503 naming what is down."""
    body = {"db": "ok", "redis": "ok", "queue_depth": None}
    try:
        db.session.execute(sa.text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "down"
        current_app.logger.warning("healthz: database down: %s", exc)
        db.session.rollback()
        body["db"] = "down"
    try:
        body["queue_depth"] = current_app.broker.depth()
    except Exception as exc:  # noqa: BLE001
        current_app.logger.warning("healthz: redis down: %s", exc)
        body["redis"] = "down"
    healthy = body["db"] == "ok" and body["redis"] == "ok"
    response = jsonify(body)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    if not healthy:
        response.headers["Retry-After"] = str(current_app.config["RETRY_AFTER_UNAVAILABLE"])
    return response


def init_app(app):
    app.add_url_rule("/healthz", "healthz", healthz)
