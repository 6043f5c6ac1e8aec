"""Reader input: whitelisted fields, each checked by a validator returning (ok, reason).

Rules every text field follows (docs/security.md):
- Unicode is normalized to NFC and control characters are removed (tab and newline are kept
  where the field keeps line breaks: comment bodies, suggestions, report comments);
- names and titles (single-line fields shown as someone's words) also lose bidi controls and
  other invisible format characters (sanitizer.clean_line): "Editor\u202e ffats" is not
  shown as "Editorstaff";
- a value longer than its limit *after* that is refused (400 naming the field), never truncated;
- unknown fields are ignored, in reports, comments and flags alike (and in the moderation API),
  so an older widget never breaks on a newer server and vice versa. Nothing unknown is stored:
  only the fields named here are copied into the queued payload.
Everything returned is plain data, ready to queue.
"""
import hashlib
import re

from .sanitizer import clean_line, clean_text, strip_controls
from .urls import normalize_url

CLIENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{7,63}")
# Ids we make ourselves (imports) join their parts with ':', a character CLIENT_ID refuses:
# no reader can send one, so none can be taken before the import that needs it.
INTERNAL_ID_SEPARATOR = ":"


def internal_client_id(*parts):
    """A client_id readers cannot send, e.g. "import:disqus:123" (a hash when longer than 64)."""
    value = INTERNAL_ID_SEPARATOR.join(str(part) for part in parts)
    if len(value) > 64:
        digest = hashlib.sha256(value.encode("utf-8")).hexdigest()[:48]
        value = INTERNAL_ID_SEPARATOR.join([str(parts[0]), digest])
    return value
# Deliberately loose: the address is confirmed by a link before any mail is sent.
EMAIL = re.compile(r"[^@\s<>\"]{1,64}@[^@\s<>\"]+\.[^@\s<>\"]+")
_SPACES = re.compile(r"\s+")
REPORT_KINDS = ("typo", "fact", "other")
# Comment ids are INTEGER columns: a larger parent was acknowledged (202) but could never be stored.
MAX_ID = 2**31 - 1


def _text(value, name, min_len, max_len, collapse=False):
    if not isinstance(value, str):
        return False, f"{name} must be a string", None
    # A single-line field (collapse) loses bidi controls and other invisible format
    # characters too; text quoted from the article (exact) keeps them, or it would not be
    # found on the page (soft hyphens are common in news typography).
    value = clean_line(value) if collapse == "line" else clean_text(value)
    if collapse:
        value = _SPACES.sub(" ", value)
    if len(value) < min_len:
        return False, f"{name} is required" if min_len == 1 else f"{name} is too short", None
    if len(value) > max_len:
        return False, f"{name} must be at most {max_len} characters", None
    return True, None, value


def _context(value, name):
    """prefix/suffix: whitespace normalized but kept at the edge next to the selection."""
    if value is None:
        return True, None, ""
    if not isinstance(value, str):
        return False, f"{name} must be a string", None
    value = _SPACES.sub(" ", strip_controls(value))
    if len(value) > 64:
        return False, f"{name} must be at most 64 characters", None
    return True, None, value


class Form:
    """Collects cleaned values and per-field errors."""

    def __init__(self, data):
        self.data = data
        self.values = {}
        self.errors = {}

    def check(self, name, result):
        ok, reason, value = result
        if ok:
            self.values[name] = value
        else:
            self.errors[name] = reason

    def optional_text(self, name, max_len, collapse=False):
        value = self.data.get(name)
        if value is None or value == "":
            self.values[name] = None
            return
        self.check(name, _text(value, name, 0, max_len, collapse))
        if self.values.get(name) == "":
            self.values[name] = None

    def common(self):
        self.check("site", validate_site(self.data.get("site")))
        self.check("url", validate_url(self.data.get("url")))
        self.check("client_id", validate_client_id(self.data.get("client_id")))


def validate_site(value):
    """A site key: any string up to 64 characters (an unknown one is a 403 later, not a 400)."""
    if not isinstance(value, str) or not clean_text(value):
        return False, "site is required", None
    value = clean_text(value)
    if len(value) > 64:
        return False, "site must be at most 64 characters", None
    return True, None, value


def validate_url(value):
    if not isinstance(value, str) or not value.strip():
        return False, "url is required", None
    value = strip_controls(value)
    if len(value) > 2048:
        return False, "url must be at most 2048 characters", None
    normalized = normalize_url(value)
    if normalized is None:
        return False, "url must be an absolute http(s) URL", None
    return True, None, normalized


def validate_client_id(value):
    if not isinstance(value, str) or not CLIENT_ID.fullmatch(value):
        return False, "client_id must be 8-64 letters, digits, '-' or '_' (a UUID)", None
    return True, None, value


def validate_report(data):
    """Returns (values, errors) for POST /api/v1/reports."""
    form = Form(data)
    form.common()
    form.check("exact", _text(data.get("exact"), "exact", 1, 300, collapse=True))
    form.check("prefix", _context(data.get("prefix"), "prefix"))
    form.check("suffix", _context(data.get("suffix"), "suffix"))
    form.optional_text("suggestion", 600)
    form.optional_text("comment", 1000)
    kind = data.get("kind") or "typo"
    if kind not in REPORT_KINDS:
        form.errors["kind"] = "kind must be one of: " + ", ".join(REPORT_KINDS)
    else:
        form.values["kind"] = kind
    position = data.get("position")
    if position is None:
        form.values["position"] = None
    elif isinstance(position, bool) or not isinstance(position, int) or not 0 <= position < 10**7:
        form.errors["position"] = "position must be a non-negative integer"
    else:
        form.values["position"] = position
    return form.values, form.errors


def validate_comment(data):
    """Returns (values, errors) for POST /api/v1/comments."""
    form = Form(data)
    form.common()
    form.check("author", _text(data.get("author"), "author", 1, 80, collapse="line"))
    form.check("body", _text(data.get("body"), "body", 1, 5000))
    form.optional_text("title", 300, collapse="line")
    email = data.get("email")
    email = strip_controls(email) if isinstance(email, str) else email
    if email in (None, ""):
        form.values["email"] = None
    elif not isinstance(email, str) or len(email) > 254 or not EMAIL.fullmatch(email.strip()):
        form.errors["email"] = "email is not a valid address"
    else:
        form.values["email"] = email.strip()
    parent = data.get("parent")
    if parent in (None, ""):
        form.values["parent"] = None
    elif isinstance(parent, bool) or not isinstance(parent, int) or not 1 <= parent <= MAX_ID:
        form.errors["parent"] = "parent must be a comment id"
    else:
        form.values["parent"] = parent
    elapsed = data.get("elapsed_ms")
    # How long the form was open: bots submit within a second or two (used by screening).
    form.values["elapsed_ms"] = (
        elapsed if isinstance(elapsed, int) and not isinstance(elapsed, bool) and elapsed >= 0 else None
    )
    hp = data.get("hp")
    # The honeypot is never reported as an error: a bot must not learn it was caught.
    form.values["honeypot"] = bool(hp) if not isinstance(hp, str) else bool(hp.strip())
    return form.values, form.errors


FLAG_REASONS = ("spam", "abuse", "offtopic")


def validate_flag(data):
    """Returns (values, errors) for POST /api/v1/comments/<id>/flags."""
    form = Form(data)
    form.check("site", validate_site(data.get("site")))
    form.check("client_id", validate_client_id(data.get("client_id")))
    reason = data.get("reason") or "abuse"
    if reason not in FLAG_REASONS:
        form.errors["reason"] = "reason must be one of: " + ", ".join(FLAG_REASONS)
    else:
        form.values["reason"] = reason
    return form.values, form.errors
