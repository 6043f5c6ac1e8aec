"""Reader input: the models of moderation/schemas/reader.py, as (values, errors) pairs.

Rules every text field follows (docs/security.md; the cleaning is in moderation/schemas/fields.py):
- Unicode is normalized to NFC and control characters are removed (tab and newline are kept
  where the field keeps line breaks: comment bodies, suggestions, report comments);
- names and titles (single-line fields shown as someone's words) also lose bidi controls and
  other invisible format characters (sanitizer.clean_line): "Editor\u202e ffats" is not
  shown as "Editorstaff";
- a value longer than its limit *after* that is refused (400 naming the field), never truncated;
- unknown fields are ignored, in reports, comments and flags alike (and in the moderation API),
  so an older widget never breaks on a newer server and vice versa. Nothing unknown is stored:
  only the fields of the models are copied into the queued payload.
Everything returned is plain data, ready to queue.
"""
import hashlib

from pydantic import TypeAdapter, ValidationError

from .schemas import limits
from .schemas.fields import CLIENT_ID, ClientId, PageUrl, check, value_error  # noqa: F401  (CLIENT_ID re-exported)
from .schemas.limits import FLAG_REASONS, MAX_ID, REPORT_KINDS  # noqa: F401  (re-exported)
from .schemas.reader import EMAIL, CommentSubmission, FlagSubmission, ReportSubmission  # noqa: F401

# Ids we make ourselves (imports) join their parts with ':', a character CLIENT_ID refuses:
# no reader can send one, so none can be taken before the import that needs it.
INTERNAL_ID_SEPARATOR = ":"


def internal_client_id(*parts):
    """A client_id readers cannot send, e.g. "import:disqus:123" (a hash when longer than the limit)."""
    value = INTERNAL_ID_SEPARATOR.join(str(part) for part in parts)
    if len(value) > limits.CLIENT_ID_MAX:
        digest = hashlib.sha256(value.encode("utf-8")).hexdigest()[:48]
        value = INTERNAL_ID_SEPARATOR.join([str(parts[0]), digest])
    return value


def _submission(model, data):
    values, errors = check(model, data)
    # The follow-up address is queued only when asked for (the worker tests for the key).
    if values.get("notify_email", "") is None:
        del values["notify_email"]
    return values, errors


def validate_report(data):
    """Returns (values, errors) for POST /api/v1/reports."""
    return _submission(ReportSubmission, data)


def validate_comment(data):
    """Returns (values, errors) for POST /api/v1/comments."""
    return _submission(CommentSubmission, data)


def validate_flag(data):
    """Returns (values, errors) for POST /api/v1/comments/<id>/flags."""
    return check(FlagSubmission, data)


def _single(annotated, name, value):
    """(ok, reason, value) for one field, worded as in a 400's `fields`."""
    try:
        return True, None, _ADAPTERS[annotated].validate_python(value)
    except ValidationError as exc:
        return False, value_error(exc, name, annotated), None


_ADAPTERS = {PageUrl: TypeAdapter(PageUrl), ClientId: TypeAdapter(ClientId)}


def validate_url(value):
    return _single(PageUrl, "url", value)


def validate_client_id(value):
    return _single(ClientId, "client_id", value)
