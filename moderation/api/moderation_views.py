"""Moderation API (Bearer token). Same service layer as the dashboard.

Every view answers 401 without a valid token, 403 when the token's role may
not work on the queue, 404 for an unknown item, 400 for bad fields.
"""
from flask import g, jsonify, request
from sqlalchemy.exc import OperationalError

from ..extensions import db
from ..models import ApiToken
from ..models.base import as_utc, utcnow
from ..schemas.limits import DEFAULT_PAGE, MAX_ID, MAX_PAGE
from ..services import actions
from ..services import reader_profile
from ..services import readers as reader_service
from ..services import moderation as service
from ..services import reports as cluster_service
from . import moderation_bp
from .errors import ApiError, refuse_invalid_unicode


@moderation_bp.before_request
def authenticate():
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    row = ApiToken.lookup(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
    if row is None:
        response = jsonify({"error": "unauthorized", "message": "a valid Bearer token is required"})
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="moderation"'
        return response
    _touch(row)
    g.actor = row.user
    return None


def _touch(row):
    """Record use at most once a minute; bookkeeping must never fail a request."""
    now = utcnow()
    last = as_utc(row.last_used_at)
    if last is not None and (now - last).total_seconds() < 60:
        return
    try:
        row.last_used_at = now
        db.session.commit()
    except OperationalError:
        db.session.rollback()


def _call(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except service.ServiceError as exc:
        db.session.rollback()
        raise ApiError(exc.status, exc.message, exc.fields) from exc


def _json_or_empty():
    if not request.get_data():
        return {}
    if not request.is_json:
        raise ApiError(415, "send the body as JSON with Content-Type: application/json")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object")
    return refuse_invalid_unicode(data)


def _int_arg(name, low, high, default=None):
    """An integer query parameter in [low, high]; 400 for anything else (never silently ignored)."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    value = request.args.get(name, type=int)
    if value is None or not low <= value <= high:
        raise ApiError(400, "invalid fields", {name: f"{name} must be an integer from {low} to {high}"})
    return value


def _listing(fn, default_status):
    """400 for a bad status, or an after/limit that is not an integer in range."""
    after = _int_arg("after", 0, MAX_ID)
    limit = _int_arg("limit", 1, MAX_PAGE, default=DEFAULT_PAGE)
    items, cursor = _call(
        fn, g.actor, request.args.get("status", default_status),
        site_key=request.args.get("site") or None, after=after, limit=limit,
    )
    return jsonify({"items": reader_profile.item_dicts(items), "next": cursor})


@moderation_bp.get("/reports")
def list_reports():
    """Reports in one queue (?status=new|fixed|rejected&site=&after=&limit=)."""
    return _listing(cluster_service.list_reports, "new")


@moderation_bp.get("/comments")
def list_comments():
    """Comments in one queue (?status=pending|approved|rejected|spam|flagged&site=&after=&limit=)."""
    return _listing(service.list_comments, "pending")


@moderation_bp.get("/clusters")
def list_clusters():
    """Same-spot report clusters in one queue (?status=new|fixed|rejected&site=&after=&limit=)."""
    return _listing(cluster_service.list_clusters, "new")


# -- one POST route per action in the registry: /<collection>/<id>/<action> --------------

def _action_view(action):
    def view(**ids):
        data = _json_or_empty()  # also for actions without fields: a non-JSON body is still a 415
        reason = data.get("reason") if action.reason else None
        item = _call(action.perform, ids[f"{action.target}_id"], g.actor, data, reason)
        return jsonify(reader_profile.item_dicts([item])[0])

    view.__name__ = action.endpoint
    view.__doc__ = f"{action.name.capitalize()} one {action.target} (audited as {action.audit})."
    return view


for _action in actions.ACTIONS:
    moderation_bp.add_url_rule(
        f"/{actions.TARGETS[_action.target].collection}/<int(max={MAX_ID}):{_action.target}_id>/{_action.name}",
        endpoint=_action.endpoint, view_func=_action_view(_action), methods=["POST"],
    )


# -- readers: /readers/<reader id>, /readers/<reader id>/<action> ------------------------------
# `path`: an SSO reader's id holds the newsroom's user id, which may contain a "/".

@moderation_bp.get("/readers/<path:reader_key>")
def get_reader(reader_key):
    """One reader: their recent comments across articles, history and the address hint."""
    reader = _call(reader_service.load_reader, reader_key, g.actor)
    return jsonify(reader_profile.profile(reader))


def _reader_action_view(action):
    def view(reader_key):
        data = _json_or_empty()
        reader = _call(action.perform, reader_key, g.actor, data, data.get("reason"))
        return jsonify(reader_profile.profile(reader))

    view.__name__ = f"{action.name}_reader"
    view.__doc__ = f"{action.name.capitalize()} one reader (audited as {action.audit})."
    return view


for _action in reader_profile.READER_ACTIONS:
    moderation_bp.add_url_rule(f"/readers/<path:reader_key>/{_action.name}", endpoint=f"{_action.name}_reader",
                               view_func=_reader_action_view(_action), methods=["POST"])
