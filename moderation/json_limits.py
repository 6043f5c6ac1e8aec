"""JSON request bodies with a bounded nesting depth, for every view of the app.

Python's json parser recurses once per `[` or `{`: a 2 KB body nested ~1,000 levels deep
raised RecursionError inside `request.get_json()`, a 500 with a traceback on every JSON
endpoint (and a body just under the limit parsed, only to fail later when re-encoded for
Redis). No body we accept is deeper than two levels, so the request class refuses anything
deeper than MAX_JSON_DEPTH before parsing, with a 400 that says why. Installed once in the
app factory (`app.request_class`), so the reader API, the moderation API and the dashboard
all get it; the API blueprints render the 400 as JSON, the dashboard as its error page.
"""
import re
from itertools import accumulate

from flask import Request
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


def json_depth(data):
    """How deep the arrays and objects of a JSON text (bytes or str) nest; 0 for a scalar."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    brackets = _NOT_BRACKETS.sub(b"", _STRINGS.sub(b"", data)).translate(_DELTAS)
    return max(accumulate(memoryview(brackets).cast("b")), default=0)


def too_deep(data):
    """True if the JSON text nests deeper than MAX_JSON_DEPTH (cheap for ordinary bodies)."""
    # A body cannot nest deeper than it has openers: most bodies skip the scan entirely.
    if isinstance(data, str):
        openers = data.count("[") + data.count("{")
    else:
        openers = data.count(b"[") + data.count(b"{")
    return openers > MAX_JSON_DEPTH and json_depth(data) > MAX_JSON_DEPTH


class DepthLimitedRequest(Request):
    """`get_json` raises JSONTooDeep (a 400, even with silent=True) instead of recursing."""

    def get_json(self, force=False, silent=False, cache=True):
        if force or self.is_json:
            if too_deep(self.get_data(cache=True)):
                raise JSONTooDeep()
        try:
            return super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError as exc:  # a parser deeper than our scan thought: still a 400
            raise JSONTooDeep() from exc
