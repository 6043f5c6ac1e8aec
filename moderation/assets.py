"""Static assets for embedding: the widget is loaded cross-origin with SRI."""
import base64
import functools
import hashlib
from pathlib import Path

from flask import current_app, request, send_from_directory


@functools.lru_cache(maxsize=8)
def _integrity(path, mtime):
    digest = hashlib.sha384(Path(path).read_bytes()).digest()
    return "sha384-" + base64.b64encode(digest).decode()


def integrity(filename):
    """Subresource Integrity value of a file under static/ (recomputed when it changes)."""
    path = Path(current_app.static_folder) / filename
    return _integrity(str(path), path.stat().st_mtime_ns)


def widget_file(language):
    """The widget bundle of a site's language under static/ (tools/build_widget.py builds one per
    catalog): `js/widget.<lang>.js`, or the English `js/widget.js` if that language has none."""
    name = f"js/widget.{language}.js"
    if language and language != "en" and (Path(current_app.static_folder) / name).is_file():
        return name
    return "js/widget.js"


def _cross_origin_static(response):
    # `<script integrity=... crossorigin="anonymous">` makes a CORS request: a public
    # file must say any origin may read it, or the browser refuses to run it.
    if request.endpoint == "static":
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers.setdefault("Cache-Control", "public, max-age=300")
    return response


def favicon():
    """The dashboard's icon where browsers look for it unasked (pages link static/favicon.svg)."""
    return send_from_directory(current_app.static_folder, "favicon.svg", mimetype="image/svg+xml",
                               max_age=86400)


def init_app(app):
    app.after_request(_cross_origin_static)
    # Without it every page a browser opens logs a 404 for /favicon.ico.
    app.add_url_rule("/favicon.ico", "favicon", favicon)
