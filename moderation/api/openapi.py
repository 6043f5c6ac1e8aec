"""The OpenAPI 3.1 document of the reader and moderation APIs, served at GET /api/v1/openapi.json.

Kept as Python, not YAML, so the field constraints are the validators' own constants
(`moderation/validators.py`, `services/moderation.py`): a limit changed there changes here.
`tests/test_openapi.py` checks the document against the URL map in both directions and
`tests/test_schemathesis.py` checks the real responses against it; `tools/gen_api_docs.py`
renders it as docs/api.md.
"""
import copy
import hashlib
import json

from flask import current_app, request

from ..services.comments_feed import MAX_BYTES, REPLIES_SHOWN
from ..services.moderation import COMMENT_QUEUES, MAX_PAGE, REPORT_QUEUES
from ..validators import CLIENT_ID, FLAG_REASONS, REPORT_KINDS
from . import reader_bp

MAX_ID = 2**31 - 1  # ids are INTEGER columns; the routes refuse larger ones (404)
CLIENT_ID_PATTERN = "^" + CLIENT_ID.pattern + "$"
NON_BLANK = r"\S"  # the validators strip: a value of spaces alone is missing

# -- reusable pieces ---------------------------------------------------------------


def _ref(kind, name):
    return {"$ref": f"#/components/{kind}/{name}"}


def _nullable(schema):
    schema = dict(schema)
    kind = schema.get("type")
    if kind is not None:
        schema["type"] = [kind, "null"]
    if "enum" in schema:
        schema["enum"] = [*schema["enum"], None]
    return schema


def _json(schema, description, headers=None):
    response = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


def _error(status):
    return _ref("responses", ERROR_RESPONSES[status][0])


# Every error is {"error": code, "message": text, "fields"?: {...}} (moderation/api/errors.py).
ERROR_RESPONSES = {
    400: ("BadRequest", "Invalid fields or parameters; `fields` names each one with the reason."),
    401: ("Unauthorized", "No valid Bearer token (the answer carries `WWW-Authenticate: Bearer`)."),
    403: ("Forbidden", "Unknown site, an origin the site does not allow, or a role that may not "
          "work on this queue."),
    404: ("NotFound", "No such item (or not one of the user's sites: the same answer, ids are "
          "not an oracle)."),
    413: ("TooLarge", "The request body is over `MODERATION_MAX_BODY` bytes (64 KB by default)."),
    415: ("UnsupportedMediaType", "The body is not `application/json`."),
    429: ("RateLimited", "Too many submissions from this reader to this site; retry after "
          "`Retry-After` seconds."),
    503: ("Unavailable", "Redis or the database is unreachable; retry after `Retry-After` "
          "seconds. Answered within about a second."),
}

CORS_HEADERS = {
    "Access-Control-Allow-Origin": _ref("headers", "AccessControlAllowOrigin"),
    "Access-Control-Expose-Headers": _ref("headers", "AccessControlExposeHeaders"),
    "Vary": _ref("headers", "Vary"),
}


def _reader_responses(ok_status, ok_response, *errors):
    responses = {str(ok_status): ok_response}
    for status in errors:
        responses[str(status)] = _error(status)
    return responses


def _moderation_responses(ok_response, *errors):
    responses = {"200": ok_response}
    for status in (400, 401, 403, 404, *errors, 503):
        responses[str(status)] = _error(status)
    return responses


def _id_parameter(name, what):
    return {
        "name": name, "in": "path", "required": True, "description": f"The {what}'s id.",
        "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID},
    }


def _listing_parameters(queues, default):
    return [
        {"name": "status", "in": "query", "description": "The queue.",
         "schema": {"type": "string", "enum": list(queues), "default": default}},
        {"name": "site", "in": "query", "description": "Only this site (its key).",
         "schema": {"type": "string"}},
        {"name": "after", "in": "query",
         "description": "Keyset cursor: the `next` of the previous page.",
         "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID}},
        {"name": "limit", "in": "query",
         "description": "Items per page (default 50).",
         "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 50}},
    ]


def _action_body(*names, required=()):
    properties = {name: ACTION_FIELDS[name] for name in names}
    schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return {
        "required": bool(required),
        "description": "JSON object; may be omitted when nothing is required. Unknown fields are ignored.",
        "content": {"application/json": {"schema": schema}},
    }


ACTION_FIELDS = {
    "reason": _nullable({"type": "string", "maxLength": 500,
                         "description": "Why (shown in the audit log); trimmed, at most 500 characters."}),
    "correction": _nullable({"type": "string", "maxLength": 2000,
                             "description": "The corrected text; default: the most suggested text, "
                                            "else the selection itself."}),
    "body": {"type": "string", "minLength": 1, "maxLength": 5000, "pattern": NON_BLANK,
             "description": "The edited comment text (re-sanitized, then published)."},
}


def _action(summary, description, tag, ok_schema, body=None, path_param=None):
    operation = {
        "tags": [tag],
        "summary": summary,
        "description": description,
        "security": [{"bearerAuth": []}],
        "parameters": [path_param],
        "responses": _moderation_responses(_json(ok_schema, "The item after the decision."), 413, 415),
    }
    if body is not None:
        operation["requestBody"] = body
    return operation


def _listing(summary, tag, queues, default, item_schema, roles):
    return {
        "tags": [tag],
        "summary": summary,
        "description": f"Oldest first, keyset-paginated. Roles: {roles}.",
        "security": [{"bearerAuth": []}],
        "parameters": _listing_parameters(queues, default),
        "responses": _moderation_responses(_json({
            "type": "object", "required": ["items", "next"],
            "properties": {
                "items": {"type": "array", "items": item_schema},
                "next": _nullable({"type": "integer", "description": "Pass as `after` for the next page."}),
            },
        }, "One page of the queue.")),
    }


# -- schemas -----------------------------------------------------------------------

TIMESTAMP = {"type": "string", "format": "date-time"}
URL = {"type": "string", "minLength": 1, "maxLength": 2048, "pattern": "^\\s*[Hh][Tt][Tt][Pp][Ss]?://",
       "description": "Absolute http(s) URL of the article, on one of the site's allowed origins. "
                      "Stored normalized (no fragment, no `utm_*`/`fbclid` tracking parameters)."}
SITE_KEY = {"type": "string", "minLength": 1, "pattern": NON_BLANK, "description": "The site's key."}
CLIENT_ID_SCHEMA = {
    "type": "string", "pattern": CLIENT_ID_PATTERN, "minLength": 8, "maxLength": 64,
    "description": "Chosen by the client (a UUID): 8-64 letters, digits, `-`, `_`. "
                   "The same client_id twice on a site is one submission; ids are unique per site.",
}

SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": {"type": "string", "description": (
                "Machine-readable code: `bad_request`, `unauthorized`, `forbidden`, `unknown_site`, "
                "`origin_not_allowed`, `not_found`, `method_not_allowed`, `too_large`, "
                "`unsupported_media_type`, `rate_limited`, `unavailable`.")},
            "message": {"type": "string", "description": "For people (English)."},
            "fields": {"type": "object", "additionalProperties": {"type": "string"},
                       "description": "Field name → what is wrong with it (400 only)."},
        },
    },
    "Queued": {
        "type": "object",
        "required": ["id", "status"],
        "properties": {
            "id": {"type": "string", "description": "The submission's client_id."},
            "status": {"const": "queued"},
        },
    },
    "ReportSubmission": {
        "type": "object",
        "required": ["site", "url", "exact", "client_id"],
        "description": "A W3C TextQuoteSelector on the article text plus the reader's suggestion. "
                       "Unknown fields are ignored.",
        "properties": {
            "site": SITE_KEY,
            "url": URL,
            "exact": {"type": "string", "minLength": 1, "maxLength": 300, "pattern": NON_BLANK,
                      "description": "The selected text (whitespace collapsed, 1-300 characters)."},
            "prefix": _nullable({"type": "string", "maxLength": 64, "description": "Text just before the selection."}),
            "suffix": _nullable({"type": "string", "maxLength": 64, "description": "Text just after the selection."}),
            "suggestion": _nullable({"type": "string", "maxLength": 600, "description": "What it should read."}),
            "comment": _nullable({"type": "string", "maxLength": 1000, "description": "A note to the editors."}),
            "notify_email": _nullable({"type": "string", "maxLength": 254, "format": "email", "description": (
                "Opt-in follow-up: mail me when this error is fixed. Nothing is sent before the reader opens the confirmation "
                "link mailed to this address (docs/notifications.md).")}),
            "kind": _nullable({"type": "string", "enum": list(REPORT_KINDS), "default": "typo"}),
            "position": _nullable({"type": "integer", "minimum": 0, "maximum": 10**7 - 1,
                                   "description": "Offset of the selection in the normalized article text."}),
            "client_id": CLIENT_ID_SCHEMA,
        },
    },
    "CommentSubmission": {
        "type": "object",
        "required": ["site", "url", "author", "body", "client_id"],
        "description": "Unknown fields are ignored. Text is stored as sent (control characters "
                       "removed); the worker renders the body to HTML with a small safelist.",
        "properties": {
            "site": SITE_KEY,
            "url": URL,
            "title": _nullable({"type": "string", "maxLength": 300, "description": "The article's title."}),
            "author": {"type": "string", "minLength": 1, "maxLength": 80, "pattern": NON_BLANK},
            "email": _nullable({"type": "string", "maxLength": 254, "format": "email",
                                "description": "Never shown to readers."}),
            "body": {"type": "string", "minLength": 1, "maxLength": 5000, "pattern": NON_BLANK},
            "parent": _nullable({"type": "integer", "minimum": 1, "maximum": MAX_ID,
                                 "description": "The comment replied to."}),
            "client_id": CLIENT_ID_SCHEMA,
            "elapsed_ms": _nullable({"type": "integer", "minimum": 0,
                                     "description": "How long the form was open (screening)."}),
            "notify_email": _nullable({"type": "string", "maxLength": 254, "format": "email", "description": (
                "Opt-in follow-up: mail me about approved replies. Nothing is sent before the reader opens the confirmation "
                "link mailed to this address (docs/notifications.md).")}),
            "hp": {"description": "Honeypot, left empty by people. When filled the comment is "
                                  "silently stored as spam and its status answers `pending`."},
        },
    },
    "FlagSubmission": {
        "type": "object",
        "required": ["site", "client_id"],
        "properties": {
            "site": SITE_KEY,
            "reason": _nullable({"type": "string", "enum": list(FLAG_REASONS), "default": "abuse"}),
            "client_id": CLIENT_ID_SCHEMA,
        },
    },
    "PublicComment": {
        "type": "object",
        "required": ["id", "parent", "author", "body_html", "created_at"],
        "properties": {
            "id": {"type": "integer"},
            "parent": _nullable({"type": "integer"}),
            "author": {"type": "string"},
            "body_html": {"type": "string", "description": "Sanitized by the server (bleach safelist)."},
            "created_at": TIMESTAMP,
        },
    },
    "Thread": {
        "allOf": [
            _ref("schemas", "PublicComment"),
            {"type": "object", "required": ["replies", "replies_total", "replies_next"], "properties": {
                "replies": {"type": "array", "items": _ref("schemas", "PublicComment"),
                            "maxItems": REPLIES_SHOWN,
                            "description": f"The first published replies (at most {REPLIES_SHOWN}) at any "
                                           "depth, oldest first."},
                "replies_total": {"type": "integer", "minimum": 0,
                                  "description": "Published replies in the thread."},
                "replies_next": _nullable({
                    "type": "integer",
                    "description": "Cursor for the rest (\"More replies\"): `thread`=this id, `after`=this "
                                   "value. Null when every reply is shown."})}},
        ],
    },
    "CommentList": {
        "type": "object",
        "required": ["comments", "total", "next"],
        "properties": {
            "comments": {"type": "array", "items": {"anyOf": [_ref("schemas", "Thread"), _ref("schemas", "PublicComment")]},
                         "description": "Threads; with `thread`, that thread's replies."},
            "total": {"type": "integer", "minimum": 0,
                      "description": "Published comments on the page (with `thread`: replies in the thread)."},
            "next": _nullable({"type": "integer", "description": "Cursor for `after` (\"Show more\")."}),
        },
    },
    "SubmissionStatus": {
        "type": "object",
        "required": ["id", "status"],
        "properties": {
            "id": {"type": "string"},
            "status": {"type": "string", "enum": ["queued", "pending", "published", "fixed", "rejected"],
                       "description": "Spam, flagged and held comments all answer `pending`."},
            "already_reported": {"type": "boolean",
                                 "description": "Error reports only: other readers reported the same spot first."},
        },
    },
    "Report": {
        "type": "object",
        "required": ["id", "client_id", "site", "url", "exact", "status", "created_at"],
        "properties": {
            "id": {"type": "integer"},
            "client_id": {"type": "string"},
            "cluster": _nullable({"type": "integer"}),
            "cluster_reports": {"type": "integer", "minimum": 1},
            "site": {"type": "string"},
            "url": {"type": "string"},
            "title": _nullable({"type": "string"}),
            "exact": {"type": "string"},
            "prefix": _nullable({"type": "string"}),
            "suffix": _nullable({"type": "string"}),
            "position": _nullable({"type": "integer"}),
            "suggestion": _nullable({"type": "string"}),
            "comment": _nullable({"type": "string"}),
            "kind": {"type": "string", "enum": list(REPORT_KINDS)},
            "status": {"type": "string", "enum": list(REPORT_QUEUES)},
            "correction": _nullable({"type": "string"}),
            "reason": _nullable({"type": "string"}),
            "created_at": TIMESTAMP,
            "decided_at": _nullable(TIMESTAMP),
        },
    },
    "Cluster": {
        "type": "object",
        "description": "Reports of the same spot (same page, selection and context).",
        "required": ["id", "site", "url", "exact", "status", "reports", "suggestions"],
        "properties": {
            "id": {"type": "integer"},
            "site": {"type": "string"},
            "url": {"type": "string"},
            "title": _nullable({"type": "string"}),
            "exact": {"type": "string"},
            "prefix": _nullable({"type": "string"}),
            "suffix": _nullable({"type": "string"}),
            "status": {"type": "string", "enum": list(REPORT_QUEUES)},
            "reports": {"type": "integer", "minimum": 0, "description": "How many readers reported it."},
            "suggestions": {"type": "array", "items": {
                "type": "object", "required": ["text", "count"],
                "properties": {"text": {"type": "string"}, "count": {"type": "integer", "minimum": 1}}}},
            "correction": _nullable({"type": "string"}),
            "reason": _nullable({"type": "string"}),
            "first_reported_at": _nullable(TIMESTAMP),
            "last_reported_at": _nullable(TIMESTAMP),
            "decided_at": _nullable(TIMESTAMP),
        },
    },
    "Comment": {
        "type": "object",
        "description": "A comment as a moderator sees it.",
        "required": ["id", "client_id", "site", "url", "author", "body", "status", "created_at"],
        "properties": {
            "id": {"type": "integer"},
            "client_id": {"type": "string"},
            "site": {"type": "string"},
            "url": {"type": "string"},
            "title": _nullable({"type": "string"}),
            "parent": _nullable({"type": "integer"}),
            "author": {"type": "string"},
            "email": _nullable({"type": "string"}),
            "body": {"type": "string", "description": "As the reader wrote it."},
            "body_html": _nullable({"type": "string", "description": "Sanitized HTML, as published."}),
            "status": {"type": "string", "enum": list(COMMENT_QUEUES)},
            "spam_score": _nullable({"type": "number"}),
            "spam_reasons": {"type": "array", "items": {"type": "string"}},
            "reason": _nullable({"type": "string"}),
            "created_at": TIMESTAMP,
            "edited_at": _nullable(TIMESTAMP),
            "decided_at": _nullable(TIMESTAMP),
        },
    },
}

HEADERS = {
    "RetryAfter": {"description": "Seconds to wait before retrying.",
                   "schema": {"type": "integer", "minimum": 0}},
    "ETag": {"description": "Weak validator of the list; send it back as `If-None-Match`.",
             "schema": {"type": "string"}},
    "CacheControl": {"description": "`public, max-age=0, s-maxage=N, stale-while-revalidate=M` (settings "
                                    "`MODERATION_LIST_SHARED_MAX_AGE`, `MODERATION_LIST_STALE`): shared caches keep "
                                    "the list N s, browsers revalidate every time (a 304). Other reader answers: "
                                    "`private, no-store`.",
                     "schema": {"type": "string"}},
    "WWWAuthenticate": {"description": "`Bearer realm=\"moderation\"`.", "schema": {"type": "string"}},
    "AccessControlAllowOrigin": {
        "description": "Reader API only: the request's `Origin`, when a site allows it (the site of "
                       "the request, or, before the site is known, any site). Absent for other origins.",
        "schema": {"type": "string"}},
    "AccessControlExposeHeaders": {"description": "Reader API only: `Retry-After, ETag`.", "schema": {"type": "string"}},
    "Vary": {"description": "Reader API only: `Origin` on cross-origin answers.", "schema": {"type": "string"}},
}


def _components():
    responses = {}
    for status, (name, description) in ERROR_RESPONSES.items():
        headers = dict(CORS_HEADERS)
        if status in (429, 503):
            headers["Retry-After"] = _ref("headers", "RetryAfter")
        if status == 401:
            headers = {"WWW-Authenticate": _ref("headers", "WWWAuthenticate")}
        responses[name] = _json(_ref("schemas", "Error"), description, headers)
    return {
        "schemas": SCHEMAS,
        "responses": responses,
        "headers": HEADERS,
        "securitySchemes": {
            "bearerAuth": {
                "type": "http", "scheme": "bearer",
                "description": "A token from `moderation create-token EMAIL` (stored hashed, shown once).",
            },
        },
    }


# -- paths -------------------------------------------------------------------------

QUEUED = _json(_ref("schemas", "Queued"), "Queued (also for a repeated client_id: one submission).",
               CORS_HEADERS)
SUBMIT_ERRORS = (400, 403, 413, 415, 429, 503)


def _paths():
    report, comment, cluster = (_ref("schemas", name) for name in ("Report", "Comment", "Cluster"))
    comment_id = _id_parameter("comment_id", "comment")
    report_id = _id_parameter("report_id", "report")
    cluster_id = _id_parameter("cluster_id", "cluster")
    reason_body = _action_body("reason")
    comments_all = "admin, editor, moderator"
    reports_roles = "admin, editor"
    return {
        "/api/v1/reports": {
            "post": {
                "tags": ["reader"], "summary": "Submit an error report",
                "description": "Validated and queued (the worker stores it). Rate limited per site "
                               "and reader (default `20/minute;200/day`).",
                "security": [],
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": _ref("schemas", "ReportSubmission")}}},
                "responses": _reader_responses(202, QUEUED, *SUBMIT_ERRORS),
            },
        },
        "/api/v1/comments": {
            "get": {
                "tags": ["reader"], "summary": "Published comments of an article",
                "description": f"Threads, oldest first, up to `limit` top-level comments per page, each with "
                               f"its first {REPLIES_SHOWN} replies; `thread` pages through one thread's other "
                               f"replies. A page ends early (see `next`, `replies_next`) rather than exceed "
                               f"{MAX_BYTES // 1024} KB. Conditional: `If-None-Match` with the last ETag answers 304.",
                "security": [],
                "parameters": [
                    {"name": "site", "in": "query", "required": True, "schema": SITE_KEY},
                    {"name": "url", "in": "query", "required": True, "schema": URL},
                    {"name": "after", "in": "query",
                     "description": "The previous page's `next` (with `thread`: a thread's `replies_next`).",
                     "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID}},
                    {"name": "thread", "in": "query",
                     "description": "A top-level comment's id: list its replies instead of threads.",
                     "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID}},
                    {"name": "limit", "in": "query",
                     "description": "Threads (or replies) per page (default `MODERATION_COMMENTS_PAGE`, 50; "
                                    "only this size is cached).",
                     "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
                    {"name": "If-None-Match", "in": "header", "description": "The ETag of the last answer.",
                     "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": _json(_ref("schemas", "CommentList"), "One page of threads.", {
                        "ETag": _ref("headers", "ETag"), "Cache-Control": _ref("headers", "CacheControl"),
                        **CORS_HEADERS}),
                    "304": {"description": "Unchanged since the ETag sent.", "headers": {
                        "ETag": _ref("headers", "ETag"), **CORS_HEADERS}},
                    "400": _error(400), "403": _error(403), "404": _error(404), "503": _error(503),
                },
            },
            "post": {
                "tags": ["reader"], "summary": "Submit a comment",
                "description": "Validated and queued; screened and stored by the worker. Rate limited "
                               "per site and reader (default `5/minute;100/day`).",
                "security": [],
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": _ref("schemas", "CommentSubmission")}}},
                "responses": _reader_responses(202, QUEUED, *SUBMIT_ERRORS),
            },
        },
        "/api/v1/comments/{comment_id}/flags": {
            "post": {
                "tags": ["reader"], "summary": "Flag a published comment",
                "description": "Once per reader; enough distinct readers send the comment to the "
                               "Flagged queue. 404 unless the comment is published on this site.",
                "security": [],
                "parameters": [comment_id],
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": _ref("schemas", "FlagSubmission")}}},
                "responses": _reader_responses(202, QUEUED, 400, 403, 404, 413, 415, 429, 503),
            },
        },
        "/api/v1/submissions/{client_id}": {
            "get": {
                "tags": ["reader"], "summary": "Where a submission stands",
                "description": "client_ids are unique per site: the same id on another site is another "
                               "submission, so the site is required.",
                "security": [],
                "parameters": [{"name": "client_id", "in": "path", "required": True,
                                "schema": CLIENT_ID_SCHEMA},
                               {"name": "site", "in": "query", "required": True, "schema": SITE_KEY}],
                "responses": _reader_responses(
                    200, _json(_ref("schemas", "SubmissionStatus"), "The public status.", CORS_HEADERS),
                    400, 403, 404, 503),
            },
        },
        "/api/v1/openapi.json": {
            "get": {
                "tags": ["reader"], "summary": "This document",
                "description": "Public and cacheable (`Access-Control-Allow-Origin: *`, strong ETag).",
                "security": [],
                "responses": {
                    "200": {"description": "The OpenAPI 3.1 document.", "headers": {
                        "ETag": _ref("headers", "ETag"),
                        "Access-Control-Allow-Origin": {"schema": {"const": "*"}}},
                        "content": {"application/json": {"schema": {"type": "object"}}}},
                    "304": {"description": "Unchanged since the ETag sent."},
                },
            },
        },
        "/api/v1/moderation/reports": {
            "get": _listing("Error reports in a queue", "moderation: reports", REPORT_QUEUES, "new",
                            report, reports_roles),
        },
        "/api/v1/moderation/reports/{report_id}/fix": {
            "post": _action("Fix the spot of a report",
                            "Fixes the report's whole cluster; answers the report.",
                            "moderation: reports", report, _action_body("correction", "reason"), report_id),
        },
        "/api/v1/moderation/reports/{report_id}/reject": {
            "post": _action("Reject the spot of a report", "Rejects the report's whole cluster.",
                            "moderation: reports", report, reason_body, report_id),
        },
        "/api/v1/moderation/clusters": {
            "get": _listing("Report clusters in a queue", "moderation: reports", REPORT_QUEUES, "new",
                            cluster, reports_roles),
        },
        "/api/v1/moderation/clusters/{cluster_id}/fix": {
            "post": _action("Fix a spot", "Record the correction and mark every report of the spot fixed.",
                            "moderation: reports", cluster, _action_body("correction", "reason"), cluster_id),
        },
        "/api/v1/moderation/clusters/{cluster_id}/reject": {
            "post": _action("Reject a spot", "Every report of the spot is rejected.",
                            "moderation: reports", cluster, reason_body, cluster_id),
        },
        "/api/v1/moderation/clusters/{cluster_id}/reopen": {
            "post": _action("Reopen a spot", "Back to New.", "moderation: reports", cluster,
                            reason_body, cluster_id),
        },
        "/api/v1/moderation/comments": {
            "get": _listing("Comments in a queue", "moderation: comments", COMMENT_QUEUES, "pending",
                            comment, comments_all),
        },
        "/api/v1/moderation/comments/{comment_id}/approve": {
            "post": _action("Approve (publish) a comment", f"Roles: {comments_all}.", "moderation: comments",
                            comment, None, comment_id),
        },
        "/api/v1/moderation/comments/{comment_id}/reject": {
            "post": _action("Reject a comment", f"Roles: {comments_all}.", "moderation: comments",
                            comment, reason_body, comment_id),
        },
        "/api/v1/moderation/comments/{comment_id}/fix": {
            "post": _action("Edit and approve a comment",
                            "The body is re-sanitized; the audit keeps both versions.",
                            "moderation: comments", comment, _action_body("body", "reason", required=("body",)),
                            comment_id),
        },
        "/api/v1/moderation/comments/{comment_id}/spam": {
            "post": _action("Mark a comment as spam", "Also a training example for the spam model.",
                            "moderation: comments", comment, reason_body, comment_id),
        },
        "/api/v1/moderation/comments/{comment_id}/reopen": {
            "post": _action("Reopen a comment", "Back to Pending (and off the public list).",
                            "moderation: comments", comment, reason_body, comment_id),
        },
    }


DESCRIPTION = """\
Two JSON APIs of the moderation service.

**Reader API** (`/api/v1`, no authentication): the widget submits error reports, comments and
flags, reads published comments and asks where its own submissions stand. Submissions are
validated and queued in Redis (202); a worker stores them. CORS: only for the origins a site
allows (`Access-Control-Allow-Origin` echoes the request's `Origin`, `Vary: Origin`); a preflight
(`OPTIONS`) answers 204 with `Access-Control-Allow-Methods: GET, POST, OPTIONS`,
`Access-Control-Allow-Headers: Content-Type`, `Access-Control-Max-Age: 86400` when any site allows
the origin, else 403.

**Moderation API** (`/api/v1/moderation`, Bearer token): the queues and decisions of the
dashboard. Every decision is audited (who, what, when, before/after, reason). Roles: *admin*
and *editor* work on error reports, every role on comments; a user limited to some sites gets
404 for the others' items.

Errors are always `{"error": code, "message": text, "fields"?: {...}}`. Besides the codes listed
per operation, any `/api/` path answers 404 when unknown and 405 (with `Allow`) for a method it
does not have.
"""


def build_document():
    """A fresh copy of the document (callers may change it)."""
    return copy.deepcopy({
        "openapi": "3.1.0",
        "info": {
            "title": "Moderation service API",
            "version": "1.0.0",
            "summary": "Editorial error reports and comment moderation.",
            "description": DESCRIPTION,
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "tags": [
            {"name": "reader", "description": "Public API used by the reader widget."},
            {"name": "moderation: reports", "description": "Error reports and their clusters (admin, editor)."},
            {"name": "moderation: comments", "description": "Comment queues (every role)."},
        ],
        "paths": _paths(),
        "components": _components(),
    })


DOCUMENT = build_document()
_BODY = json.dumps(DOCUMENT, ensure_ascii=False, indent=1, sort_keys=True).encode()
_ETAG = hashlib.sha256(_BODY).hexdigest()[:32]


@reader_bp.get("/openapi.json")
def openapi_document():
    """This document. 200, or 304 for a matching If-None-Match. Public: CORS `*`."""
    response = current_app.response_class(_BODY, mimetype="application/json")
    response.set_etag(_ETAG)
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response.make_conditional(request)
