"""Every limit, enum and id bound of the API contract, written once (no imports: the database
models, the services and tools/build_widget.py read these without loading anything else)."""

# Ids are INTEGER columns: a larger id or cursor is a bad request (or a 404), never a 500.
MAX_ID = 2**31 - 1

# -- reader submissions (characters, after cleaning; longer is a 400, never truncated) --------
SITE_KEY_MAX = 64
URL_MAX = 2048
CLIENT_ID_MIN = 8
CLIENT_ID_MAX = 64
# Ids the client chooses (a UUID): a letter or digit first, so an id can never start with '-'.
CLIENT_ID_PATTERN = rf"[A-Za-z0-9][A-Za-z0-9_-]{{{CLIENT_ID_MIN - 1},{CLIENT_ID_MAX - 1}}}"
EXACT_MAX = 300
CONTEXT_MAX = 64  # prefix, suffix
SUGGESTION_MAX = 600
REPORT_COMMENT_MAX = 1000
TITLE_MAX = 300
AUTHOR_MAX = 80
BODY_MAX = 5000
EMAIL_MAX = 254  # RFC 5321's path limit
# Reader credentials (docs/identity.md): an SSO token is a few hundred bytes, an anonymous id ~70.
SSO_TOKEN_MAX = 4096
READER_TOKEN_MAX = 200
POSITION_MAX = 10**7 - 1

REPORT_KINDS = ("typo", "fact", "other")
DEFAULT_REPORT_KIND = "typo"
FLAG_REASONS = ("spam", "abuse", "offtopic")
DEFAULT_FLAG_REASON = "abuse"
SUBMISSION_STATUSES = ("queued", "pending", "published", "fixed", "rejected")

# -- reader lists -----------------------------------------------------------------------------
COMMENTS_LIMIT_MAX = 200
# Replies listed under each thread of a list page; the rest are paged with `thread`.
REPLIES_SHOWN = 5
# Orders of the comment list (featured comments first in each); a site picks its default.
SORTS = ("oldest", "newest", "best")
DEFAULT_SORT = "oldest"
# GET /api/v1/counts: article URLs per request.
COUNTS_URLS_MAX = 100

# -- reactions and corrections ------------------------------------------------------------------
VOTE_VALUES = (1, -1)  # like, dislike (dislikes only where the site enables them)
CORRECTION_NOTE_MAX = 500
# A published correction's kind: a report kind, or "editor" for one written by hand.
CORRECTION_KINDS = REPORT_KINDS + ("editor",)

# -- moderation -------------------------------------------------------------------------------
COMMENT_QUEUES = ("pending", "approved", "rejected", "spam", "flagged")
REPORT_QUEUES = ("new", "fixed", "rejected")
MAX_PAGE = 200
DEFAULT_PAGE = 50
REASON_MAX = 500
CORRECTION_MAX = 2000
# A ban on a reader: 1 to this many days, or until lifted (services/readers.py).
MAX_BAN_DAYS = 3650
