"""The reader API: what the widget sends (submissions, list queries) and what it gets back."""
import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, WithJsonSchema

from . import limits
from .fields import (
    NON_BLANK,
    ClientId,
    Contract,
    Integer,
    PageUrl,
    Refusal,
    SiteKey,
    Text,
    blank_is_none,
    collapsed,
    context,
    email_matching,
    line,
    optional,
    optional_email,
    refuse,
    text,
)

# Deliberately loose: the address is confirmed by a link before any mail is sent.
EMAIL = re.compile(r"[^@\s<>\"]{1,64}@[^@\s<>\"]+\.[^@\s<>\"]+")
# The follow-up address (moderation/notify/followup.py): a looser pattern, matched on the value as
# sent (no control characters stripped), as it always was.
NOTIFY_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")


def _kind(value):
    return value or limits.DEFAULT_REPORT_KIND


def _reason(value):
    return value or limits.DEFAULT_FLAG_REASON


def _elapsed(value):
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _honeypot(value):
    return bool(value) if not isinstance(value, str) else bool(value.strip())


def _notify(description):
    return Annotated[
        Text(limits.EMAIL_MAX) | None, BeforeValidator(blank_is_none), AfterValidator(email_matching(NOTIFY_EMAIL)),
        Field(default=None, description=description,
              json_schema_extra={"format": "email"}),
        Refusal("is not a valid address"),
    ]


def _reader_token(value):
    """An anonymous id that cannot be one of ours is no id, never a 400 (docs/identity.md):
    a reader whose storage got mangled is simply issued a fresh one."""
    return value if isinstance(value, str) and 0 < len(value) <= limits.READER_TOKEN_MAX else None


# The reader's credentials, on every submission (docs/identity.md). Verified by the reader API
# before anything is queued; the queue carries the verified identity, never these tokens.
SsoToken = Annotated[Text(limits.SSO_TOKEN_MAX) | None, Field(default=None, description=(
    "The newsroom's SSO token for a signed-in reader (a JWT, HS256, signed with the site's secret). "
    "A forged, expired or malformed token is a 401 `invalid_sso` and nothing is queued. With a valid "
    "token the author shown is the token's `user.username` (`author` is ignored).")),
    Refusal(f"must be a string of at most {limits.SSO_TOKEN_MAX} characters")]
# No maxLength in the document: a longer value is not refused, it is no id.
ReaderToken = Annotated[str | None, BeforeValidator(_reader_token), Field(
    default=None, description=(
        "The anonymous reader id the server issued (the `reader` of an earlier 202 answer), kept by the "
        "widget and sent with each submission. One that does not verify is treated as none (a new one "
        "is issued), never refused."))]


NOTIFY_SUFFIX = (" Nothing is sent before the reader opens the confirmation link mailed to this address "
                 "(docs/notifications.md).")


class ReportSubmission(Contract):
    """A W3C TextQuoteSelector on the article text plus the reader's suggestion. Unknown fields are ignored."""

    site: SiteKey
    url: PageUrl
    client_id: ClientId
    exact: Annotated[str, BeforeValidator(collapsed), Field(
        min_length=1, max_length=limits.EXACT_MAX, json_schema_extra={"pattern": NON_BLANK},
        description=f"The selected text (whitespace collapsed, 1-{limits.EXACT_MAX} characters).")]
    prefix: Annotated[Text(limits.CONTEXT_MAX) | None, BeforeValidator(context), Field(
        default=None, description="Text just before the selection.")]
    suffix: Annotated[Text(limits.CONTEXT_MAX) | None, BeforeValidator(context), Field(
        default=None, description="Text just after the selection.")]
    suggestion: Annotated[Text(limits.SUGGESTION_MAX) | None, BeforeValidator(optional(text)), Field(
        default=None, description="What it should read.")]
    comment: Annotated[Text(limits.REPORT_COMMENT_MAX) | None, BeforeValidator(optional(text)), Field(
        default=None, description="A note to the editors.")]
    kind: Annotated[Literal[limits.REPORT_KINDS] | None, BeforeValidator(_kind), Field(
        default=limits.DEFAULT_REPORT_KIND), Refusal("must be one of: " + ", ".join(limits.REPORT_KINDS))]
    position: Annotated[Integer(0, limits.POSITION_MAX) | None, Field(
        default=None, description="Offset of the selection in the normalized article text."),
        Refusal("must be a non-negative integer")]
    notify_email: _notify("Opt-in follow-up: mail me when this error is fixed." + NOTIFY_SUFFIX)
    sso: SsoToken
    reader: ReaderToken


class CommentSubmission(Contract):
    """Unknown fields are ignored. Text is stored as sent (control characters removed); the worker renders the body to HTML with a small safelist."""  # noqa: E501  (one line: it is the document's description)

    site: SiteKey
    url: PageUrl
    client_id: ClientId
    author: Annotated[str, BeforeValidator(line), Field(
        min_length=1, max_length=limits.AUTHOR_MAX, json_schema_extra={"pattern": NON_BLANK})]
    body: Annotated[str, BeforeValidator(text), Field(
        min_length=1, max_length=limits.BODY_MAX, json_schema_extra={"pattern": NON_BLANK})]
    title: Annotated[Text(limits.TITLE_MAX) | None, BeforeValidator(optional(line)), Field(
        default=None, description="The article's title.")]
    email: Annotated[Text(limits.EMAIL_MAX) | None, BeforeValidator(optional_email),
                     AfterValidator(email_matching(EMAIL)), Field(default=None, description="Never shown to readers.",
        json_schema_extra={"format": "email"}), Refusal("is not a valid address")]
    parent: Annotated[Integer(1, limits.MAX_ID) | None, BeforeValidator(blank_is_none), Field(
        default=None, description="The comment replied to."),
        Refusal("must be a comment id")]
    # How long the form was open: bots submit within a second or two (used by screening).
    elapsed_ms: Annotated[Integer(0) | None, BeforeValidator(_elapsed), Field(
        default=None, description="How long the form was open (screening).")]
    # Never reported as an error: a bot must not learn it was caught.
    honeypot: Annotated[bool, BeforeValidator(_honeypot), WithJsonSchema({}), Field(
        default=False, validation_alias="hp",
        description="Honeypot, left empty by people. When filled the comment is silently stored as "
                    "spam and its status answers `pending`.")]
    notify_email: _notify("Opt-in follow-up: mail me about approved replies." + NOTIFY_SUFFIX)
    sso: SsoToken
    reader: ReaderToken


class FlagSubmission(Contract):
    site: SiteKey
    client_id: ClientId
    reason: Annotated[Literal[limits.FLAG_REASONS] | None, BeforeValidator(_reason), Field(
        default=limits.DEFAULT_FLAG_REASON), Refusal("must be one of: " + ", ".join(limits.FLAG_REASONS))]
    sso: SsoToken
    reader: ReaderToken


def _vote_value(value):
    if isinstance(value, bool) or value not in limits.VOTE_VALUES:
        refuse("must be 1 (like) or -1 (dislike)")
    return value


class VoteSubmission(Contract):
    """A like (1) or a dislike (-1, only where the site enables dislikes) on a published comment.
    Once per reader: a later vote replaces the earlier one. Unknown fields are ignored."""

    site: SiteKey
    client_id: ClientId
    value: Annotated[Literal[limits.VOTE_VALUES], BeforeValidator(_vote_value), Field(
        description="1: like; -1: dislike (400 where the site has dislikes off).")]
    sso: SsoToken
    reader: ReaderToken


# -- answers -------------------------------------------------------------------------------

class Queued(BaseModel):
    id: str = Field(description="The submission's client_id.")
    status: Literal["queued"]
    reader: str | None = Field(default=None, description=(
        "Present when the server issued a new anonymous reader id (a first submission without `sso`, or "
        "one whose `reader` did not verify): keep it (the widget uses localStorage) and send it as "
        "`reader` with later submissions."))


class Error(BaseModel):
    error: str = Field(description=(
        "Machine-readable code: `bad_request`, `unauthorized`, `invalid_sso`, `sso_required`, `forbidden`, "
        "`unknown_site`, `origin_not_allowed`, `not_found`, `method_not_allowed`, `too_large`, "
        "`unsupported_media_type`, `rate_limited`, `unavailable`."))
    message: str = Field(description="For people (English).")
    fields: dict[str, str] = Field(default_factory=dict, description="Field name → what is wrong with it (400 only).")


class PublicComment(BaseModel):
    id: int
    parent: int | None
    author: str = Field(description="Empty for a deleted comment.")
    body_html: str = Field(description="Sanitized by the server (bleach safelist). For a deleted comment, a "
                                       "tombstone in the site's language.")
    created_at: datetime
    edited_at: datetime | None = Field(description="Last changed by its author (or a moderator).")
    verified: bool = Field(description="Its author signed in through the site (SSO).")
    deleted: bool = Field(description=(
        "Deleted (or erased) at its author's request: it keeps its place in the thread, with no name "
        "and a tombstone for text."))
    likes: int = Field(ge=0, description="Readers who like it.")
    dislikes: int = Field(ge=0, description="Readers who dislike it (0 unless the site enables dislikes).")
    featured: bool = Field(description="Featured by a moderator: shown first, with a mark.")


class WidgetSettings(BaseModel):
    """The site's settings the widget acts on (docs/configuration.md, "Reader identity")."""

    sso_required: bool = Field(description="Only signed-in (SSO) readers may comment.")
    sso_login_url: str | None = Field(description="The site's sign-in page, shown instead of the form.")
    edit_minutes: int = Field(ge=0, description="Readers may edit their comment this long after posting (0: never).")
    dislikes: bool = Field(description="Readers may also dislike comments (`value` -1).")
    default_sort: Literal[limits.SORTS] = Field(description="The order of the list when `sort` is not sent.")


class OwnComment(PublicComment):
    status: Literal[limits.SUBMISSION_STATUSES] = Field(description=(
        "Where the comment now stands for its author (an edit may send it back to `pending`)."))


class OwnCommentChange(Contract):
    """The reader's credentials: `sso` (the site's token) or `reader` (the signed anonymous id
    the first submission was answered with). Unknown fields are ignored."""

    site: SiteKey
    sso: str | None = Field(default=None, description="The site's SSO token (a JWT).")
    reader: str | None = Field(default=None, description="The signed anonymous reader id.")


class OwnCommentEdit(OwnCommentChange):
    body: Annotated[str, BeforeValidator(text), Field(
        min_length=1, max_length=limits.BODY_MAX, json_schema_extra={"pattern": NON_BLANK})]


class SubmissionStatus(BaseModel):
    id: str
    status: Literal[limits.SUBMISSION_STATUSES] = Field(
        description="Spam, flagged and held comments all answer `pending`.")
    already_reported: bool = Field(default_factory=bool, description="Error reports only: other readers reported the same spot first.")
    comment_id: int | None = Field(default=None, description=(
        "Published comments only: the comment's id in the public list. The widget keeps showing the "
        "reader's own copy until a list answer (which a shared cache may hold for a few seconds) has it."))


class Thread(PublicComment):
    replies: list[PublicComment] = Field(max_length=limits.REPLIES_SHOWN, description=(
        f"The first published replies (at most {limits.REPLIES_SHOWN}) at any depth, oldest first."))
    replies_total: int = Field(ge=0, description="Published replies in the thread.")
    replies_next: int | None = Field(description=(
        "Cursor for the rest (\"More replies\"): `thread`=this id, `after`=this value. "
        "Null when every reply is shown."))


class CommentList(BaseModel):
    comments: list[Thread | PublicComment] = Field(description="Threads; with `thread`, that thread's replies.")
    total: int = Field(ge=0, description="Published comments on the page (with `thread`: replies in the thread).")
    next: int | None = Field(description="Cursor for `after` (\"Show more\").")
    site: WidgetSettings | None = Field(default=None, description=(
        "Lists of threads only (not `thread` pages): what the widget needs to know of the site."))


# -- list queries (query strings: every value arrives as text) --------------------------------

def _query_site(value):
    value = (value or "").strip()
    if not value:
        refuse("is required")
    return value


def _query_id(value):
    """An optional id: absent or empty is None; anything int() refuses is an error."""
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        refuse("must be a comment id")


def _query_limit(value):
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0  # not an integer: refused, not ignored


QuerySite = Annotated[str, BeforeValidator(_query_site), Field(
    min_length=1, description="The site's key.", json_schema_extra={"pattern": NON_BLANK})]
QueryId = Annotated[Integer(0, limits.MAX_ID) | None, BeforeValidator(_query_id), Field(default=None),
                    Refusal("must be a comment id")]


def _url_list(value):
    if not isinstance(value, list) or not value:
        refuse("is required")
    if len(value) > limits.COUNTS_URLS_MAX:
        refuse(f"must be at most {limits.COUNTS_URLS_MAX} URLs")
    return value


class CountsQuery(Contract):
    site: QuerySite
    url: Annotated[list[PageUrl], BeforeValidator(_url_list), Field(
        min_length=1, max_length=limits.COUNTS_URLS_MAX,
        description=f"An article URL; repeat it (`url=…&url=…`) for up to {limits.COUNTS_URLS_MAX}.")]


class CorrectionsQuery(Contract):
    site: QuerySite
    url: PageUrl


class FeedQuery(Contract):
    site: QuerySite


class CommentListQuery(Contract):
    site: QuerySite
    url: PageUrl
    after: Annotated[QueryId, Field(
        description="The previous page's `next` (with `thread`: a thread's `replies_next`).")]
    thread: Annotated[QueryId, Field(
        description="A top-level comment's id: list its replies instead of threads.")]
    limit: Annotated[Integer(1, limits.COMMENTS_LIMIT_MAX) | None, BeforeValidator(_query_limit), Field(
        default=None, description="Threads (or replies) per page (default `MODERATION_COMMENTS_PAGE`, 50; "
                                  "only this size is cached)."),
        Refusal(f"must be between 1 and {limits.COMMENTS_LIMIT_MAX}")]
    sort: Annotated[Literal[limits.SORTS] | None, BeforeValidator(blank_is_none), Field(
        default=None, description="`oldest`, `newest` or `best` (likes minus dislikes, then oldest); "
                                  "default: the site's `default_sort`. Featured threads come first in each."),
        Refusal("must be one of: " + ", ".join(limits.SORTS))]


class CountsAnswer(BaseModel):
    counts: dict[str, int] = Field(description=(
        "Published comments per article, keyed by each `url` exactly as sent (0 for an article "
        "nobody commented on)."))


class PublicCorrection(BaseModel):
    text: str = Field(description="What the article now reads (or the editor's words).")
    note: str | None = Field(description="The editor's note, e.g. \"An earlier version misspelled the name\".")
    corrected_at: datetime
    kind: Literal[limits.CORRECTION_KINDS] = Field(description=(
        "The reported error's kind, or `editor` for a correction written by hand."))


class CorrectionList(BaseModel):
    corrections: list[PublicCorrection] = Field(description="Published corrections of the article, newest first.")


class SubmissionQuery(Contract):
    client_id: ClientId  # in the path
    site: QuerySite
