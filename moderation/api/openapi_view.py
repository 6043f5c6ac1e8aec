"""GET /api/v1/openapi.json. The document is built on its first request: building every
model's JSON Schema costs a web process about 7 MB, and most processes never serve it."""
import functools
import hashlib
import json

from flask import current_app, request

from . import reader_bp


@functools.cache
def _document():
    from .openapi import DOCUMENT  # noqa: PLC0415 - see the module docstring

    body = json.dumps(DOCUMENT, ensure_ascii=False, indent=1, sort_keys=True).encode()
    return body, hashlib.sha256(body).hexdigest()[:32]


@reader_bp.get("/openapi.json")
def openapi_document():
    """This document. 200, or 304 for a matching If-None-Match. Public: CORS `*`."""
    body, etag = _document()
    response = current_app.response_class(body, mimetype="application/json")
    response.set_etag(etag)
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response.make_conditional(request)
