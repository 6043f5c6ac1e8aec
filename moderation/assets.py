"""Static assets for embedding: the widget is loaded cross-origin with SRI."""
import base64
import functools
import hashlib
from pathlib import Path

from flask import current_app, request


@functools.lru_cache(maxsize=8)
def _integrity(path, mtime):
    digest = hashlib.sha384(Path(path).read_bytes()).digest()
    return "sha384-" + base64.b64encode(digest).decode()


def integrity(filename):
    """Subresource Integrity value of a file under static/ (recomputed when it changes)."""
    path = Path(current_app.static_folder) / filename
    return _integrity(str(path), path.stat().st_mtime_ns)


def _cross_origin_static(response):
    # `<script integrity=... crossorigin="anonymous">` makes a CORS request: a public
    # file must say any origin may read it, or the browser refuses to run it.
    if request.endpoint == "static":
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers.setdefault("Cache-Control", "public, max-age=300")
    return response


def init_app(app):
    app.after_request(_cross_origin_static)
