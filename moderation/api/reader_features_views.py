"""Reader API, issue 18: comment counts of article lists, votes, the corrections log and its feed.

Read answers are shared-cacheable exactly like the comment list (reader_views._shared_briefly:
Cache-Control, weak ETag, Vary: Origin); the vote is validated and queued like a flag.
Each docstring lists the errors a view answers with.
"""
from flask import current_app, request, url_for

from ..services import comments_feed, corrections
from ..services import counts as comment_counts
from ..schemas.fields import check
from ..schemas.limits import MAX_ID
from ..schemas.reader import CorrectionsQuery, CountsQuery, FeedQuery, VoteSubmission
from . import reader_bp
from .errors import ApiError
from .reader_views import _identify, _json_body, _queue, _shared_briefly, _site


def _conditional(etag, make_body, mimetype="application/json"):
    """200 with the body (made only when needed) or 304, cacheable like the comment list."""
    if request.if_none_match.contains_weak(etag):
        response = current_app.response_class(status=304)
    else:
        response = current_app.response_class(make_body(), mimetype=mimetype)
    response.set_etag(etag, weak=True)
    return _shared_briefly(response)


def _dumps(data):
    return current_app.json.dumps(data, separators=(",", ":")) + "\n"


@reader_bp.get("/counts")
def comment_counts_view():
    """Published comments of up to COUNTS_URLS_MAX articles, keyed by each URL as sent.
    200 or 304; 400 fields (no url, too many, not a URL), 403 site/origin."""
    sent = request.args.getlist("url")
    query, errors = check(CountsQuery, {"site": request.args.get("site"), "url": sent or None})
    if errors:
        raise ApiError(400, "invalid fields", errors)
    site = _site(query["site"])
    normalized = query["url"]
    found = comment_counts.pages(site, set(normalized))
    etag = comment_counts.etag(site, sent, found)
    return _conditional(etag, lambda: _dumps(
        {"counts": comment_counts.counts(site, sent, normalized, found)}))


@reader_bp.post(f"/comments/<int(max={MAX_ID}):comment_id>/votes")
def vote_comment(comment_id):
    """Like (1) or dislike (-1) a published comment, once per reader (a later vote replaces it).
    202; 400 fields (and -1 where the site has dislikes off), 401 invalid_sso, 403 site/origin,
    404 not published, 413, 415, 429 (the reader's flag limits), 503."""
    values, errors = check(VoteSubmission, _json_body())
    if errors:
        raise ApiError(400, "invalid fields", errors)
    site = _site(values["site"])
    if values["value"] == -1 and not site.dislikes:
        raise ApiError(400, "invalid fields", {"value": "value -1 (dislike) is not enabled on this site"})
    if not comments_feed.is_published(site.id, comment_id, site):
        raise ApiError(404, "no published comment with this id on this site")
    identity = _identify(site, values)
    values["comment_id"] = comment_id
    return _queue("votes", site, values, identity, scope="flags")


@reader_bp.get("/corrections")
def list_corrections():
    """The article's published corrections, newest first (`[]` when none). 200 or 304;
    400 fields, 403 site/origin."""
    query, errors = check(CorrectionsQuery, request.args)
    if errors:
        raise ApiError(400, "invalid fields", errors)
    site = _site(query["site"])
    page = corrections.find_page(site.id, query["url"])
    return _conditional(corrections.etag(page), lambda: _dumps({"corrections": corrections.published(page)}))


@reader_bp.get("/corrections.atom")
def corrections_feed():
    """The site's published corrections as an Atom feed, newest first. 200 or 304;
    400 fields, 403 site/origin."""
    query, errors = check(FeedQuery, request.args)
    if errors:
        raise ApiError(400, "invalid fields", errors)
    site = _site(query["site"])
    feed_url = url_for("api.corrections_feed", site=site.key, _external=True)
    return _conditional(corrections.feed_etag(site), lambda: corrections.atom_feed(site, feed_url),
                        mimetype="application/atom+xml")
