"""JSON errors for the API: `{"error": code, "message": text, "fields": {...}?}`."""
import json

from flask import current_app, jsonify, request
from redis.exceptions import RedisError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from ..ratelimit import Limited

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


class ApiError(Exception):
    def __init__(self, status, message, fields=None, code=None, retry_after=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.fields = fields
        self.code = code or CODES.get(status, "error")
        self.retry_after = retry_after


def refuse_invalid_unicode(data):
    """400 for a JSON body holding lone surrogates (`"\\ud800"` is valid JSON, but no UTF-8
    string: Redis, the database and every reader would fail on it later — a 500 before)."""
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ApiError(400, "the body contains invalid Unicode (a lone surrogate)") from exc
    return data


def error_response(status, message, fields=None, code=None, retry_after=None):
    body = {"error": code or CODES.get(status, "error"), "message": message}
    if fields:
        body["fields"] = fields
    response = jsonify(body)
    response.status_code = status
    if retry_after is not None:
        response.headers["Retry-After"] = str(int(retry_after))
    return response


def _api_error(exc):
    return error_response(exc.status, exc.message, exc.fields, exc.code, exc.retry_after)


def _http_error(exc):
    messages = {
        413: "request body too large (limit %d bytes)" % (current_app.config["MAX_CONTENT_LENGTH"] or 0),
        405: "method not allowed",
        404: "no such resource",
    }
    response = error_response(exc.code or 500, messages.get(exc.code, exc.description))
    allow = dict(exc.get_headers()).get("Allow")
    if allow:  # a 405 must say what is allowed (RFC 9110)
        response.headers["Allow"] = allow
    return response


def _limited(exc):
    return error_response(
        429, "too many submissions, try again later", retry_after=exc.retry_after
    )


def _redis_down(exc):
    current_app.logger.warning("redis unavailable: %s", exc)
    return error_response(
        503, "the queue is unavailable, try again shortly",
        retry_after=current_app.config["RETRY_AFTER_UNAVAILABLE"],
    )


def _db_down(exc):
    current_app.logger.warning("database unavailable: %s", exc)
    return error_response(
        503, "the database is unavailable, try again shortly",
        retry_after=current_app.config["RETRY_AFTER_UNAVAILABLE"],
    )


def _unexpected(exc):
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500, "internal error")


def register(blueprint):
    """Scope JSON error handling to an API blueprint (the dashboard renders HTML)."""
    blueprint.register_error_handler(ApiError, _api_error)
    blueprint.register_error_handler(HTTPException, _http_error)
    blueprint.register_error_handler(Limited, _limited)
    blueprint.register_error_handler(RedisError, _redis_down)
    blueprint.register_error_handler(OperationalError, _db_down)
    blueprint.register_error_handler(Exception, _unexpected)


def init_app(app):
    """Unrouted /api/ paths (404/405) never reach a blueprint: answer them in JSON too."""

    @app.errorhandler(404)
    @app.errorhandler(405)
    def _unrouted(exc):
        if request.path.startswith("/api/"):
            return _http_error(exc)
        return exc
