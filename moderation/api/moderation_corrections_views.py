"""Moderation API: the published corrections log (admin, editor). Same service as the dashboard
(services/corrections.py); every change audited. 401 without a valid token, 403 for a role
that may not work on reports, 404 for an unknown correction, 400 for bad fields."""
from flask import g, jsonify, request

from ..schemas.limits import MAX_ID
from ..services import corrections
from . import moderation_bp
from .moderation_views import _call, _json_or_empty


@moderation_bp.get("/corrections")
def list_corrections():
    """The newest corrections (published or not) of the user's sites (?site=KEY). 200; 400, 401, 403."""
    rows = _call(corrections.list_for_editors, g.actor, site_key=request.args.get("site") or None)
    return jsonify({"items": [row.to_dict() for row in rows]})


@moderation_bp.post("/corrections")
def write_correction():
    """A correction written by hand for an article, published at once (kind `editor`).
    200; 400 fields, 401, 403, 413, 415."""
    data = _json_or_empty()
    row = _call(corrections.write, g.actor, data.get("site"), data.get("url"), data.get("text"), data.get("note"))
    return jsonify(row.to_dict())


@moderation_bp.post(f"/corrections/<int(max={MAX_ID}):correction_id>/unpublish")
def unpublish_correction(correction_id):
    """Take a correction off the public log and the feed (audited). 200; 400, 401, 403, 404, 413, 415."""
    data = _json_or_empty()
    row = _call(corrections.unpublish, correction_id, g.actor, data.get("reason"))
    return jsonify(row.to_dict())
