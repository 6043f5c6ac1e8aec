"""Readers' own comments: `PATCH` (edit within the site's window) and `DELETE` (tombstone).

The body names the site and carries the reader's credentials, as the POSTs do: `"sso"`
(the newsroom's token) or `"reader"` (the signed anonymous id the first submission was
answered with). Unlike a POST, an id that does not verify is no credential here (401):
a POST grants nothing to an unknown reader, but these act on a comment someone wrote.
"""
from flask import jsonify, request

from ..identity import anonymous, sso
from ..services import reader_own
from ..services.common import ServiceError
from ..schemas.fields import check
from ..schemas.limits import MAX_ID
from ..schemas.reader import OwnCommentChange, OwnCommentEdit
from . import reader_bp
from .errors import ApiError
from .reader_views import _json_body, _site


def _reader_key(site, body):
    """The key of the reader the credentials name. 401 for none or a bad one."""
    token = body.get("sso")
    if token is not None:
        try:
            return sso.verify_site_token(site.id, token).reader_key
        except sso.InvalidSSO as exc:
            raise ApiError(401, exc.message, code=exc.error) from None
    key = anonymous.verify(site.id, body.get("reader"))
    if key is None:
        raise ApiError(401, "send the reader's credentials: \"sso\" or \"reader\"")
    return key


def _own(action, model, comment_id, *args):
    body = _json_body()
    values, errors = check(model, body)
    if errors:
        raise ApiError(400, "invalid fields", errors)
    site = _site(values["site"])
    try:
        comment = action(site, comment_id, _reader_key(site, values), *(values[a] for a in args))
    except ServiceError as exc:
        raise ApiError(exc.status, exc.message, exc.fields, getattr(exc, "code", None)) from None
    return jsonify(reader_own.own_answer(comment))


# One rule for both methods: with two rules on one path, Werkzeug answers an id over MAX_ID
# with 405 for one of them (it names the other rule's method) instead of 404.
@reader_bp.route(f"/comments/<int(max={MAX_ID}):comment_id>", methods=["PATCH", "DELETE"])
def own_comment(comment_id):
    """PATCH: edit one's own comment within the site's `edit_minutes`; screened again.
    DELETE: delete one's own comment (a tombstone keeps the thread).
    200; 400 fields, 401 no or bad credentials, 403 another reader's, window closed (PATCH) or
    decided (PATCH), 404 unknown or deleted, 413, 415."""
    if request.method == "PATCH":
        return _own(reader_own.edit, OwnCommentEdit, comment_id, "body")
    return _own(reader_own.delete, OwnCommentChange, comment_id)
