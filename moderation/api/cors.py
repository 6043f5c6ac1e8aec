"""CORS for the reader API: only for origins a site allows.

A preflight carries no body, hence no site key: it is allowed when any site
allows the origin, and the real request is then checked against its own site.
Requests without an Origin header (curl, servers) are not cross-origin and pass.
"""
from flask import g, make_response, request

from ..site_registry import registry
from .errors import ApiError, error_response

ALLOW_METHODS = "GET, POST, PATCH, DELETE, OPTIONS"  # PATCH, DELETE: readers' own comments
# If-None-Match: the widget's comment polls are conditional; it is not a CORS-safelisted
# header, so without it every poll after the first fails its preflight on a real embed.
ALLOW_HEADERS = "Content-Type, If-None-Match"
EXPOSE_HEADERS = "Retry-After, ETag"


def _decorate(response, origin):
    headers = response.headers
    headers["Access-Control-Allow-Origin"] = origin
    headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
    # The same header `response.vary.add` gives, without parsing a Vary that is not there
    # (every POST answer): ~9 -> ~3 us per answer.
    if "Vary" in headers:
        response.vary.add("Origin")
    else:
        headers["Vary"] = "Origin"
    return response


def preflight():
    """before_request: answer OPTIONS here; 403 for an origin no site allows."""
    if request.method != "OPTIONS":
        return None
    origin = request.headers.get("Origin")
    if not origin or not registry().any_allows_origin(origin):
        return error_response(403, "origin not allowed")
    response = _decorate(make_response("", 204), origin)
    response.headers["Access-Control-Allow-Methods"] = ALLOW_METHODS
    response.headers["Access-Control-Allow-Headers"] = ALLOW_HEADERS
    response.headers["Access-Control-Max-Age"] = "86400"
    return response


def apply(response):
    """after_request: CORS headers for the checked origin, or any site's (errors too)."""
    origin = request.headers.get("Origin")
    if not origin or request.method == "OPTIONS":
        return response
    if "Access-Control-Allow-Origin" in response.headers:  # a public view chose `*` itself
        return response
    allowed = getattr(g, "cors_origin", None)
    if allowed is None:
        try:
            if not registry().any_allows_origin(origin):
                return response
        except Exception:  # noqa: BLE001 - database trouble must not turn a 503 into a 500
            return response
        allowed = origin
    return _decorate(response, allowed)


def check_site_origin(site):
    """In a view: refuse a browser request from an origin this site does not allow."""
    origin = request.headers.get("Origin")
    if origin is None:
        return
    if not site.allows_origin(origin):
        raise ApiError(403, "origin not allowed for this site", code="origin_not_allowed")
    g.cors_origin = origin
