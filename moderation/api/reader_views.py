"""Public reader API: submit reports and comments, read published comments.

The POST views validate and queue; they never write the database (the worker
does). Each docstring lists the errors a view answers with.
"""
import time

from flask import current_app, jsonify, request

from .. import ratelimit
from ..broker import get_broker
from ..identity.edge import identify
from ..identity.sso import InvalidSSO
from ..privacy import reporter_hashes
from ..services import comments_feed, submissions
from ..site_registry import registry
from ..schemas.fields import check
from ..schemas.limits import MAX_ID
from ..schemas.payload import NOT_QUEUED, Envelope
from ..schemas.reader import CommentListQuery, SubmissionQuery
from ..validators import validate_comment, validate_flag, validate_report
from . import reader_bp
from .cors import check_site_origin
from .errors import ApiError, refuse_invalid_unicode


def _json_body():
    """The request's JSON object. 415 if not JSON, 413 if too large, 400 if not an object
    or not valid Unicode."""
    if not request.is_json:
        raise ApiError(415, "send the body as JSON with Content-Type: application/json")
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is not None and limit and request.content_length > limit:
        raise ApiError(413, f"request body too large (limit {limit} bytes)")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object")
    return refuse_invalid_unicode(data)


def _site(key):
    """403 for a key no site has."""
    site = registry().get(key)
    if site is None:
        raise ApiError(403, "unknown site", code="unknown_site")
    check_site_origin(site)
    return site


def _check_page_url(site, url):
    if site.allowed_origins and not site.allows_origin(url):
        raise ApiError(400, "invalid fields", {"url": "url is not on this site's allowed origins"})


def _identify(site, values, sso_required=False):
    """Who sends this (identity.edge.identify), before anything is queued: 401 invalid_sso /
    sso_required. The site's SSO secrets come from the site registry's cache (no query); a
    token they refuse is tried once more with fresh ones, in case the secret was just created
    or rotated by another process."""
    token, anon_token = values.get("sso"), values.get("reader")
    keys = registry().sso_keys(site.id) if token is not None else None
    try:
        try:
            return identify(site.id, token, anon_token, keys=keys, sso_required=sso_required)
        except InvalidSSO:
            if token is None or (fresh := registry().sso_keys(site.id, refresh=True)) == keys:
                raise
            return identify(site.id, token, anon_token, keys=fresh, sso_required=sso_required)
    except InvalidSSO as exc:
        raise ApiError(exc.status, exc.message, code=exc.error) from None


def _queue(kind, site, values, identity, scope=None):
    """Rate-limit (`scope`: the limits counted, default `kind`'s), then queue. 429 with
    Retry-After; 503 with Retry-After if Redis is down."""
    reader, previous = reporter_hashes()
    ratelimit.hit(scope or kind, site, reader)
    payload = {key: value for key, value in values.items() if key not in NOT_QUEUED}
    if identity.sso is not None and "author" in payload:
        payload["author"] = identity.sso.username  # the newsroom vouches for the name
    # Both hashes come from us, never from the body: the previous-salt hash lets the
    # worker re-key this reader's earlier rows after a salt rotation (privacy.py).
    # The shape is moderation/schemas/payload.py's.
    payload.update(Envelope(type=kind.rstrip("s"), site_id=site.id, reporter_hash=reader,
                            reporter_hash_prev=previous, received_at=time.time(),
                            identity=identity.as_payload()).model_dump())
    fresh = get_broker().submit(payload)
    # A repeated client_id is the widget retrying: same answer, one submission.
    answer = {"id": values["client_id"], "status": "queued"}
    # A new anonymous id, for the widget to keep and send back as "reader". Not on a retry: the
    # queued submission carries the first attempt's id, which this one is not.
    if identity.issued_token and fresh:
        answer["reader"] = identity.issued_token
    return jsonify(answer), 202


@reader_bp.post("/reports")
def post_report():
    """Queue an error report. 202; 400 fields, 401 invalid_sso, 403 site/origin, 413, 415, 429, 503."""
    values, errors = validate_report(_json_body())
    if errors:
        raise ApiError(400, "invalid fields", errors)
    site = _site(values["site"])
    _check_page_url(site, values["url"])
    return _queue("reports", site, values, _identify(site, values))


@reader_bp.post("/comments")
def post_comment():
    """Queue a comment. 202; 400 fields, 401 invalid_sso/sso_required, 403 site/origin, 413, 415, 429, 503."""
    values, errors = validate_comment(_json_body())
    if errors:
        raise ApiError(400, "invalid fields", errors)
    site = _site(values["site"])
    _check_page_url(site, values["url"])
    return _queue("comments", site, values, _identify(site, values, sso_required=site.sso_required))


@reader_bp.post(f"/comments/<int(max={MAX_ID}):comment_id>/flags")
def flag_comment(comment_id):
    """Flag a published comment (once per reader). 202; 400, 401 invalid_sso, 403, 404 not published, 413,
    415, 429, 503."""
    values, errors = validate_flag(_json_body())
    if errors:
        raise ApiError(400, "invalid fields", errors)
    site = _site(values["site"])
    if not comments_feed.is_published(site.id, comment_id, site):
        raise ApiError(404, "no published comment with this id on this site")
    identity = _identify(site, values)
    values["comment_id"] = comment_id
    return _queue("flags", site, values, identity)


@reader_bp.get("/comments")
def list_comments():
    """Published comments of one article, threaded, in `sort` order (featured first); with
    `thread`, the replies of one top-level comment. 200 or 304; 400 fields, 403 site/origin,
    404 unknown thread."""
    query, errors = check(CommentListQuery, request.args)
    if errors:
        raise ApiError(400, "invalid fields", errors)
    after, thread, url = query["after"], query["thread"], query["url"]
    limit = current_app.config["COMMENTS_PAGE_SIZE"] if query["limit"] is None else query["limit"]
    site = _site(query["site"])
    sort = comments_feed.sort_of(site, query["sort"])

    page = comments_feed.find_page(site.id, url)
    etag = comments_feed.etag(page, after, limit, site, thread, sort)
    if request.if_none_match.contains_weak(etag):
        response = current_app.response_class(status=304)
    else:
        try:
            body = comments_feed.build_json(page, after, limit, site, etag, thread, sort)
        except comments_feed.UnknownThread:
            raise ApiError(404, "no published top-level comment with this id on this article") from None
        response = current_app.response_class(body + "\n", mimetype="application/json")
    response.set_etag(etag, weak=True)
    return _shared_briefly(response)


# Every other reader answer (status lookups, POST answers, errors) is personal or transient:
# no shared cache may keep it, and a CDN's heuristic caching of a 404 is ruled out too.
NOT_SHARED = "private, no-store"


@reader_bp.after_request
def _not_shared(response):
    response.headers.setdefault("Cache-Control", NOT_SHARED)
    return response


def _shared_briefly(response):
    """The list is the same for every reader (no cookie, no token, no reader state: the
    author's own pending comment comes from the browser's storage), so shared caches may keep
    it a second or two: 20,000 readers polling one article cost the app ~1 request/s.
    Browsers still revalidate every poll (max-age=0), a cheap 304 on the ETag. The CORS
    headers depend on Origin, so every answer names it in Vary, with or without one."""
    config = current_app.config
    shared = config["LIST_SHARED_MAX_AGE"]
    if shared > 0:
        response.headers["Cache-Control"] = (
            f"public, max-age=0, s-maxage={shared}, stale-while-revalidate={config['LIST_STALE_WHILE_REVALIDATE']}")
    else:
        response.headers["Cache-Control"] = "no-cache"
    response.vary.add("Origin")
    return response


@reader_bp.get("/submissions/<client_id>")
def submission_status(client_id):
    """Where a submission stands on a site (`?site=KEY`: client_ids are unique per site).
    200; 400 bad id or no site, 403 site/origin, 404 unknown, 503."""
    query, errors = check(SubmissionQuery, {"client_id": client_id, "site": request.args.get("site")})
    if errors:
        raise ApiError(400, "invalid fields", errors)
    site = _site(query["site"])
    found = submissions.describe(site.id, client_id)
    if found is None:
        raise ApiError(404, "no submission with this client_id")
    return jsonify(dict(id=client_id, **found))
