"""The moderation API: queue listings, decision bodies, and the items as moderators see them.

The services (moderation/services) check these bodies themselves, with the same limits; the
models are the document of that contract (the OpenAPI document is generated from them).
"""
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from ..models.readers import READER_KINDS
from . import limits
from .fields import NON_BLANK, Contract, Integer, Text


def _listing(name, queues, default):
    """A listing's query parameters for one kind of queue."""
    return type(name, (Contract,), {
        "__annotations__": {
            "status": Literal[queues],
            "site": str | None,
            "after": Integer(0, limits.MAX_ID) | None,
            "limit": Integer(1, limits.MAX_PAGE),
        },
        "__doc__": "Oldest first, keyset-paginated.",
        "status": Field(default, description="The queue."),
        "site": Field(None, description="Only this site (its key)."),
        "after": Field(None, description="Keyset cursor: the `next` of the previous page."),
        "limit": Field(limits.DEFAULT_PAGE, description=f"Items per page (default {limits.DEFAULT_PAGE})."),
    })


CommentListing = _listing("CommentListing", limits.COMMENT_QUEUES, "pending")
ReportListing = _listing("ReportListing", limits.REPORT_QUEUES, "new")

Reason = Annotated[Text(limits.REASON_MAX) | None, Field(
    default=None, description=f"Why (shown in the audit log); trimmed, at most {limits.REASON_MAX} characters.")]


class ReasonBody(Contract):
    """JSON object; may be omitted when nothing is required. Unknown fields are ignored."""

    reason: Reason


class FixSpotBody(Contract):
    """JSON object; may be omitted when nothing is required. Unknown fields are ignored."""

    correction: Annotated[Text(limits.CORRECTION_MAX) | None, Field(
        default=None, description="The corrected text; default: the most suggested text, else the selection itself.")]
    publish: bool | None = Field(default=None, description=(
        "Also publish it as a correction (GET /api/v1/corrections, the Atom feed). Off by default: typo fixes "
        "are not published unless chosen."))
    note: Annotated[Text(limits.CORRECTION_NOTE_MAX) | None, Field(default=None, description=(
        "The published correction's note (\"An earlier version misspelled the governor's name\"). Required "
        "for a fact correction where the site's `correction_note_required` is on (400 otherwise)."))]
    reason: Reason


class CorrectionBody(Contract):
    """A correction written by hand (kind `editor`), published at once. Unknown fields are ignored."""

    site: Annotated[str, Field(min_length=1, max_length=limits.SITE_KEY_MAX, description="The site's key.")]
    url: Annotated[str, Field(min_length=1, max_length=limits.URL_MAX, description="The article's URL.")]
    text: Annotated[str, Field(min_length=1, max_length=limits.CORRECTION_MAX, json_schema_extra={"pattern": NON_BLANK},
                               description="What was corrected, in the editor's words.")]
    note: Annotated[Text(limits.CORRECTION_NOTE_MAX) | None, Field(default=None, description="A short note.")]


class EditorCorrection(BaseModel):
    """A correction as an editor sees it."""

    id: int
    site: str
    url: str
    cluster: int | None = Field(description="The reported spot it corrects (null: written by hand).")
    kind: Literal[limits.CORRECTION_KINDS]
    text: str
    note: str | None
    corrected_at: datetime
    published: bool


class EditorCorrectionList(BaseModel):
    items: list[EditorCorrection]


class FixCommentBody(Contract):
    """JSON object; may be omitted when nothing is required. Unknown fields are ignored."""

    body: Annotated[str, Field(min_length=1, max_length=limits.BODY_MAX, json_schema_extra={"pattern": NON_BLANK},
                               description="The edited comment text (re-sanitized, then published).")]
    reason: Reason


class BanBody(Contract):
    """JSON object; may be omitted (a ban until lifted). Unknown fields are ignored."""

    days: Annotated[Integer(1, limits.MAX_BAN_DAYS) | None, Field(
        default=None, description=f"Ban for this many days (1 to {limits.MAX_BAN_DAYS}); omitted: until lifted.")]
    reason: Reason


class SwitchBody(Contract):
    """JSON object; may be omitted (turns it on). Unknown fields are ignored."""

    on: Annotated[bool | None, Field(default=None, description="false turns it off again; default true.")]
    reason: Reason


# -- items ---------------------------------------------------------------------------------

class ReaderSummary(BaseModel):
    """Who wrote the item: a person, not an address (docs/identity.md)."""

    id: str = Field(description="The reader's id: `anon:…` or `sso:<site id>:<user id>`.")
    kind: Literal[READER_KINDS]
    name: str | None = None
    approved: int = Field(ge=0, description="Their approved comments.")
    rejected: int = Field(ge=0, description="Their rejected comments, spam included.")
    banned_until: datetime | None = Field(
        None, description="null: not banned; 9999-01-01T00:00:00Z: until lifted (compare it with now).")


Reader = Annotated[ReaderSummary | None, Field(default=None, description="null: no reader known (older items).")]

class Report(BaseModel):
    id: int
    client_id: str
    cluster: int | None = None
    cluster_reports: int = Field(None, ge=1)
    site: str
    url: str
    title: str | None = None
    exact: str
    prefix: str | None = None
    suffix: str | None = None
    position: int | None = None
    suggestion: str | None = None
    comment: str | None = None
    kind: Literal[limits.REPORT_KINDS] = None
    status: Literal[limits.REPORT_QUEUES]
    correction: str | None = None
    reason: str | None = None
    created_at: datetime
    decided_at: datetime | None = None
    reader: Reader


class Suggestion(BaseModel):
    text: str
    count: int = Field(ge=1)


class Cluster(BaseModel):
    """Reports of the same spot (same page, selection and context)."""

    id: int
    site: str
    url: str
    title: str | None = None
    exact: str
    prefix: str | None = None
    suffix: str | None = None
    status: Literal[limits.REPORT_QUEUES]
    reports: int = Field(ge=0, description="How many readers reported it.")
    suggestions: list[Suggestion]
    correction: str | None = None
    reason: str | None = None
    first_reported_at: datetime | None = None
    last_reported_at: datetime | None = None
    decided_at: datetime | None = None


class Comment(BaseModel):
    """A comment as a moderator sees it."""

    id: int
    client_id: str
    site: str
    url: str
    title: str | None = None
    parent: int | None = None
    author: str
    email: str | None = None
    body: str = Field(description="As the reader wrote it.")
    body_html: str | None = Field(None, description="Sanitized HTML, as published.")
    status: Literal[limits.COMMENT_QUEUES]
    spam_score: float | None = None
    spam_reasons: list[str] = Field(default_factory=list)
    reason: str | None = None
    created_at: datetime
    edited_at: datetime | None = None
    decided_at: datetime | None = None
    featured: bool = Field(default=False, description="Featured: shown first to readers, with a mark.")
    reader: Reader


class ReaderComment(BaseModel):
    id: int
    url: str
    title: str | None = None
    status: Literal[limits.COMMENT_QUEUES]
    body: str
    reason: str | None = None
    created_at: datetime


class ReaderHistory(BaseModel):
    approved: int = Field(ge=0)
    rejected: int = Field(ge=0)
    spam: int = Field(ge=0)


class ReaderProfile(BaseModel):
    """A reader as the reader panel shows them."""

    id: str
    kind: Literal[READER_KINDS]
    name: str | None = None
    site: str
    banned_until: datetime | None = None
    banned_until_lifted: bool
    ban_reason: str | None = None
    premoderate: bool = Field(description="Always held for a moderator (they are not told).")
    trusted: bool
    first_seen: datetime
    last_seen: datetime
    history: ReaderHistory
    address_shared_by: int = Field(ge=1, description="Readers (this one included) who wrote from this "
                                   "reader's last address in the last 7 days: a hint, never a merged history.")
    comments: list[ReaderComment] = Field(description="Their latest comments across articles, newest first.")


def page_of(item):
    """One page of a queue: {"items": [...], "next": cursor}."""
    return type(f"{item.__name__}Page", (BaseModel,), {
        "__annotations__": {"items": list[item], "next": int | None},
        "__doc__": "One page of the queue.",
        "next": Field(description="Pass as `after` for the next page."),
    })


ReportPage, ClusterPage, CommentPage = page_of(Report), page_of(Cluster), page_of(Comment)
