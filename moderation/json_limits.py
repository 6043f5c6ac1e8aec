"""JSON request bodies with a bounded nesting depth, for every view of the app.

Python's json parser recurses once per `[` or `{`: a 2 KB body nested ~1,000 levels deep
raised RecursionError inside `request.get_json()`, a 500 with a traceback on every JSON
endpoint (and a body just under the limit parsed, only to fail later when re-encoded for
Redis). No body we accept is deeper than two levels, so the request class refuses anything
deeper than MAX_JSON_DEPTH before parsing, with a 400 that says why. Installed once in the
app factory (`app.request_class`), so the reader API, the moderation API and the dashboard
all get it; the API blueprints render the 400 as JSON, the dashboard as its error page.

The same class gives a view its own body cap (`body_limit`): MAX_CONTENT_LENGTH (64 KB) is
right for a comment, but the screening form's largest valid word lists are megabytes once
URL-encoded. The cap is read when the body is first read, which for a form is Flask-WTF's
CSRF check in a before_request hook: a cap set in the view would come too late, one in the
request class is in place before any hook runs (the URL is matched when the request starts).
"""
import re
from itertools import accumulate

from flask import Request, current_app
from werkzeug.exceptions import BadRequest

MAX_JSON_DEPTH = 32

# JSON strings may hold brackets; they do not nest. Linear (no backtracking): each
# character of a string is matched once, an escape as a pair.
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = re.compile(rb"[^\[\]{}]+")
# Openers become +1, closers -1 (as signed bytes): the running sum is the depth.
_DELTAS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")


class JSONTooDeep(BadRequest):
    """400: the body nests arrays/objects deeper than we parse."""

    description = f"the JSON body is nested too deeply (at most {MAX_JSON_DEPTH} levels)"


def _as_bytes(data):
    return data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data


def json_depth(data):
    """How deep the arrays and objects of a JSON text (bytes or str) nest; 0 for a scalar."""
    brackets = _NOT_BRACKETS.sub(b"", _STRINGS.sub(b"", _as_bytes(data))).translate(_DELTAS)
    return max(accumulate(memoryview(brackets).cast("b")), default=0)


def too_deep(data):
    """True if the JSON text (bytes or str) nests deeper than MAX_JSON_DEPTH (cheap for ordinary bodies)."""
    data = _as_bytes(data)
    # A body cannot nest deeper than it has openers: most bodies skip the scan entirely.
    return data.count(b"[") + data.count(b"{") > MAX_JSON_DEPTH and json_depth(data) > MAX_JSON_DEPTH


def body_limit(limit, allowed=None):
    """Give a view its own body cap of `limit` bytes (form fields included) in place of
    MAX_CONTENT_LENGTH, for requests where `allowed()` is true (e.g. only for signed-in
    admins: everyone else keeps the small cap). Put it under the route decorator."""
    def decorator(view):
        view.body_limit = (limit, allowed)
        return view

    return decorator


class DepthLimitedRequest(Request):
    """`get_json` raises JSONTooDeep (a 400, even with silent=True) instead of recursing;
    a view marked with `body_limit` gets its own body cap."""

    _own_limit_checked = False

    def _own_limit(self):
        """The matched view's body_limit, if it applies to this request; else None."""
        if not self._own_limit_checked:
            self._own_limit_checked = True  # first: `allowed()` may look at the request itself
            view = current_app.view_functions.get(self.endpoint) if current_app and self.endpoint else None
            limit, allowed = getattr(view, "body_limit", (None, None))
            if limit is not None and (allowed is None or allowed()):
                self._max_content_length = self._max_form_memory_size = limit
        return self._max_content_length

    @property
    def max_content_length(self):
        self._own_limit()
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value):
        self._max_content_length = value

    @property
    def max_form_memory_size(self):
        self._own_limit()
        return super().max_form_memory_size

    @max_form_memory_size.setter
    def max_form_memory_size(self, value):
        self._max_form_memory_size = value

    def get_json(self, force=False, silent=False, cache=True):
        if force or self.is_json:
            if too_deep(self.get_data(cache=True)):
                raise JSONTooDeep()
        try:
            return super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError as exc:  # a parser deeper than our scan thought: still a 400
            raise JSONTooDeep() from exc
