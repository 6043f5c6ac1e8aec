"""The OpenAPI 3.1 document of the reader and moderation APIs, served at GET /api/v1/openapi.json.

Generated, not written: every schema is a model of moderation/schemas (`model_json_schema`, JSON
Schema 2020-12, which OpenAPI 3.1 uses as is), every parameter list is a query model's fields;
what is left here is the table of paths and the words of each operation.
`tests/test_openapi.py` checks the document against the URL map in both directions and
`tests/test_schemathesis.py` checks the real responses against it; `tools/gen_api_docs.py`
renders it as docs/api.md.
"""
import copy

from pydantic import TypeAdapter

from ..schemas import moderation as mod
from ..schemas import reader
from ..schemas.fields import ContractSchema, Integer
from ..schemas.limits import COUNTS_URLS_MAX, MAX_ID, REPLIES_SHOWN
from ..services import actions
from ..services.reader_profile import READER_ACTIONS
from ..services.comments_feed import MAX_BYTES
from ..services.corrections import FEED_ENTRIES

REF = "#/components/schemas/{model}"
SCHEMAS = {}  # name -> JSON Schema, filled by schema_of


def schema_of(model):
    """A $ref to the model's component (its nested models become components too)."""
    schema = model.model_json_schema(ref_template=REF, schema_generator=ContractSchema)
    SCHEMAS.update(schema.pop("$defs", {}))
    SCHEMAS[model.__name__] = schema
    return _ref("schemas", model.__name__)


def _ref(kind, name):
    return {"$ref": f"#/components/{kind}/{name}"}


def _json(schema, description, headers=None):
    response = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


def parameters(model, where="query", path=()):
    """OpenAPI parameters from a query model's fields (`path`: the ones in the URL path)."""
    schema = model.model_json_schema(schema_generator=ContractSchema)
    required = set(schema.get("required", ()))
    found = []
    for name, prop in schema["properties"].items():
        prop = dict(prop)
        parameter = {"name": name, "in": "path" if name in path else where}
        if name in required or name in path:
            parameter["required"] = True
        if "description" in prop:
            parameter["description"] = prop.pop("description")
        if isinstance(prop.get("type"), list):  # a query parameter is absent, never null
            prop["type"] = next(kind for kind in prop["type"] if kind != "null")
        parameter["schema"] = prop
        found.append(parameter)
    return found


def _id_parameter(name, what):
    schema = TypeAdapter(Integer(0, MAX_ID)).json_schema()
    return {"name": name, "in": "path", "required": True, "description": f"The {what}'s id.", "schema": schema}


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

# The reader API's 401 is not the moderation API's (no Bearer token is involved): its own response.
SSO_REFUSED = ("SsoRefused", "`invalid_sso`: the `sso` token is forged, expired or malformed (the message says "
               "which); `sso_required` (comments only): the site takes comments from signed-in readers only "
               "and none was sent. Nothing is queued.")

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
CORS_HEADERS = {
    "Access-Control-Allow-Origin": _ref("headers", "AccessControlAllowOrigin"),
    "Access-Control-Expose-Headers": _ref("headers", "AccessControlExposeHeaders"),
    "Vary": _ref("headers", "Vary"),
}


def _errors(*statuses):
    return {str(status): _ref("responses", ERROR_RESPONSES[status][0]) for status in statuses}


def _responses(ok_status, ok_response, *errors):
    return {str(ok_status): ok_response, **_errors(*errors)}


def _body(model, required):
    return {"required": required, "content": {"application/json": {"schema": schema_of(model)}}}


# -- the reader API ----------------------------------------------------------------------

SUBMIT_ERRORS = (400, 403, 413, 415, 429, 503)


def _submit(summary, description, model, *errors, path_parameters=()):
    queued = _json(schema_of(reader.Queued), "Queued (also for a repeated client_id: one submission).",
                   CORS_HEADERS)
    operation = {"tags": ["reader"], "summary": summary, "description": description, "security": []}
    if path_parameters:
        operation["parameters"] = list(path_parameters)
    responses = _responses(202, queued, *errors) | {"401": _ref("responses", SSO_REFUSED[0])}
    return operation | {"requestBody": _body(model, True), "responses": dict(sorted(responses.items()))}


# 401 of the reader's own-comment operations: their credentials are in the body, not a Bearer token.
READER_UNAUTHORIZED = {"description": "No reader credentials, an anonymous id that does not verify, or a "
                                      "refused SSO token (`invalid_sso`).",
                       "content": {"application/json": {"schema": _ref("schemas", "Error")}},
                       "headers": CORS_HEADERS}


def _own(summary, description, model):
    answer = _json(schema_of(reader.OwnComment), "The comment as its reader now sees it.", CORS_HEADERS)
    return {"tags": ["reader"], "summary": summary, "description": description, "security": [],
            "parameters": [_id_parameter("comment_id", "comment")], "requestBody": _body(model, True),
            "responses": {"200": answer, "401": READER_UNAUTHORIZED, **_errors(400, 403, 404, 413, 415, 503)}}


def _list_headers():
    return {"ETag": _ref("headers", "ETag"), "Cache-Control": _ref("headers", "CacheControl"), **CORS_HEADERS}


def _cached(summary, description, query, ok):
    """A public GET answered like the comment list: shared-cacheable, conditional on its ETag."""
    return {
        "tags": ["reader"], "summary": summary, "description": description, "security": [],
        "parameters": parameters(query) + [
            {"name": "If-None-Match", "in": "header", "description": "The ETag of the last answer.",
             "schema": {"type": "string"}}],
        "responses": {
            "200": ok,
            "304": {"description": "Unchanged since the ETag sent.",
                    "headers": {"ETag": _ref("headers", "ETag"), **CORS_HEADERS}},
            **_errors(400, 403, 503),
        },
    }


def _reader_paths():
    etag = {"ETag": _ref("headers", "ETag")}
    return {
        "/api/v1/reports": {"post": _submit(
            "Submit an error report", "Validated and queued (the worker stores it). Rate limited per site "
            "and reader (default `20/minute;200/day`).", reader.ReportSubmission, *SUBMIT_ERRORS)},
        "/api/v1/comments": {
            "get": {
                "tags": ["reader"], "summary": "Published comments of an article",
                "description": f"Threads in `sort` order (default the site's; featured threads first), up to `limit` top-level comments per page, each with "
                               f"its first {REPLIES_SHOWN} replies; `thread` pages through one thread's other "
                               f"replies. A page ends early (see `next`, `replies_next`) rather than exceed "
                               f"{MAX_BYTES // 1024} KB. Conditional: `If-None-Match` with the last ETag answers 304.",
                "security": [],
                "parameters": parameters(reader.CommentListQuery) + [
                    {"name": "If-None-Match", "in": "header", "description": "The ETag of the last answer.",
                     "schema": {"type": "string"}}],
                "responses": {
                    "200": _json(schema_of(reader.CommentList), "One page of threads.", {
                        **etag, "Cache-Control": _ref("headers", "CacheControl"), **CORS_HEADERS}),
                    "304": {"description": "Unchanged since the ETag sent.", "headers": {**etag, **CORS_HEADERS}},
                    **_errors(400, 403, 404, 503),
                },
            },
            "post": _submit("Submit a comment", "Validated and queued; screened and stored by the worker. Rate "
                            "limited per site and reader (default `5/minute;100/day`). On a site with the "
                            "setting `sso_required` a comment without a valid `sso` token is a 401 `sso_required`.",
                            reader.CommentSubmission, *SUBMIT_ERRORS),
        },
        "/api/v1/comments/{comment_id}/flags": {"post": _submit(
            "Flag a published comment", "Once per reader; enough distinct readers send the comment to the "
            "Flagged queue. 404 unless the comment is published on this site.", reader.FlagSubmission,
            400, 403, 404, 413, 415, 429, 503, path_parameters=[_id_parameter("comment_id", "comment")])},
        "/api/v1/comments/{comment_id}/votes": {"post": _submit(
            "Like or dislike a published comment", "Once per reader: a later vote replaces the earlier one, the "
            "same value again changes nothing. `value` -1 is a 400 unless the site enables dislikes (setting "
            "`dislikes`). Counts against the reader's flag limits (default `10/minute;100/day`). 404 unless "
            "the comment is published on this site.", reader.VoteSubmission,
            400, 403, 404, 413, 415, 429, 503, path_parameters=[_id_parameter("comment_id", "comment")])},
        "/api/v1/counts": {"get": _cached(
            "Comment counts of article lists", f"Published comments of up to {COUNTS_URLS_MAX} articles in one "
            "request (`url` repeated), keyed by each URL as sent, normalized like the list. Cacheable like the "
            "list.", reader.CountsQuery, _json(schema_of(reader.CountsAnswer), "The counts.", _list_headers()))},
        "/api/v1/corrections": {"get": _cached(
            "Published corrections of an article", "Newest first; `[]` when there are none. Cacheable like "
            "the comment list.", reader.CorrectionsQuery,
            _json(schema_of(reader.CorrectionList), "The corrections.", _list_headers()))},
        "/api/v1/corrections.atom": {"get": _cached(
            "The site's corrections feed (Atom)", f"The site's published corrections, newest first (at most "
            f"{FEED_ENTRIES}), each entry linking its article. Cacheable like the comment list.", reader.FeedQuery,
            {"description": "An Atom 1.0 feed.", "headers": _list_headers(),
             "content": {"application/atom+xml": {"schema": {"type": "string"}}}})},
        "/api/v1/comments/{comment_id}": {
            "patch": _own("Edit one's own comment", (
                "Only by the comment's reader (`sso` or `reader` in the body), within the site's `edit_minutes` "
                "of posting (403 `edit_window_closed`, also when the site allows no edits), while it is pending "
                "or published. Screened again; on a pre-moderated site an edited published comment goes back to "
                "Pending. Every version is kept in the audit trail."), reader.OwnCommentEdit),
            "delete": _own("Delete one's own comment", (
                "Only by the comment's reader. The text and the name go; the comment keeps its place in the "
                "thread (`deleted`: true). The audit trail keeps what it said."), reader.OwnCommentChange),
        },
        "/api/v1/submissions/{client_id}": {"get": {
            "tags": ["reader"], "summary": "Where a submission stands",
            "description": "client_ids are unique per site: the same id on another site is another "
                           "submission, so the site is required.",
            "security": [],
            "parameters": parameters(reader.SubmissionQuery, path=("client_id",)),
            "responses": _responses(200, _json(schema_of(reader.SubmissionStatus), "The public status.",
                                               CORS_HEADERS), 400, 403, 404, 503),
        }},
        "/api/v1/openapi.json": {"get": {
            "tags": ["reader"], "summary": "This document",
            "description": "Public and cacheable (`Access-Control-Allow-Origin: *`, strong ETag).",
            "security": [],
            "responses": {
                "200": {"description": "The OpenAPI 3.1 document.", "headers": {
                    **etag, "Access-Control-Allow-Origin": {"schema": {"const": "*"}}},
                    "content": {"application/json": {"schema": {"type": "object"}}}},
                "304": {"description": "Unchanged since the ETag sent."},
            },
        }},
    }


# -- the moderation API ------------------------------------------------------------------

COMMENT_ROLES, REPORT_ROLES = "admin, editor, moderator", "admin, editor"
# What each kind of item is: its tag, model, page model, listing query, the roles that work on it.
TARGETS = {
    "reports": ("moderation: reports", "report", mod.Report, mod.ReportPage, mod.ReportListing,
                "Error reports in a queue", REPORT_ROLES),
    "clusters": ("moderation: reports", "cluster", mod.Cluster, mod.ClusterPage, mod.ReportListing,
                 "Report clusters in a queue", REPORT_ROLES),
    "comments": ("moderation: comments", "comment", mod.Comment, mod.CommentPage, mod.CommentListing,
                 "Comments in a queue", COMMENT_ROLES),
}
# What the document says of each decision; which decisions exist, their paths and bodies come
# from the services' action registry (an action missing here fails at import, and the tests).
ACTION_DOCS = {
    ("report", "fix"): ("Fix the spot of a report", "Fixes the report's whole cluster; answers the report."),
    ("report", "reject"): ("Reject the spot of a report", "Rejects the report's whole cluster."),
    ("cluster", "fix"): ("Fix a spot", "Record the correction and mark every report of the spot fixed."),
    ("cluster", "reject"): ("Reject a spot", "Every report of the spot is rejected."),
    ("cluster", "reopen"): ("Reopen a spot", "Back to New."),
    ("comment", "approve"): ("Approve (publish) a comment", f"Roles: {COMMENT_ROLES}."),
    ("comment", "reject"): ("Reject a comment", f"Roles: {COMMENT_ROLES}."),
    ("comment", "fix"): ("Edit and approve a comment", "The body is re-sanitized; the audit keeps both versions."),
    ("comment", "spam"): ("Mark a comment as spam", "Also a training example for the spam model."),
    ("comment", "reopen"): ("Reopen a comment", "Back to Pending (and off the public list)."),
    ("comment", "feature"): ("Feature a comment", "Published comments only (400 otherwise): shown first in every "
                             "order of the public list, with a mark (`featured`). Audited as `comment.feature`."),
    ("comment", "unfeature"): ("Stop featuring a comment", "Audited as `comment.unfeature`."),
}
# The body an action takes, by its registry fields: (model or None, required).
BODIES = {(): mod.ReasonBody, ("correction", "publish", "note"): mod.FixSpotBody, ("body",): mod.FixCommentBody}


def _action_body(action):
    if not action.fields and not action.reason:
        return None, False
    return BODIES[action.fields], bool(action.required) or action.reason_required


def _moderation(tag, summary, description, ok, *errors, parameters=()):
    return {"tags": [tag], "summary": summary, "description": description, "security": [{"bearerAuth": []}],
            "parameters": list(parameters), "responses": _responses(200, ok, 400, 401, 403, 404, *errors, 503)}


def _moderation_paths():
    paths = {}
    for target, (tag, _item_name, item, page, query, summary, roles) in TARGETS.items():
        paths[f"/api/v1/moderation/{target}"] = {"get": _moderation(
            tag, summary, f"Oldest first, keyset-paginated. Roles: {roles}.",
            _json(schema_of(page), "One page of the queue."), parameters=parameters(query))}
    for action in actions.ACTIONS:
        tag, item_name, item, *_ = TARGETS[actions.TARGETS[action.target].collection]
        summary, description = ACTION_DOCS[(action.target, action.name)]
        operation = _moderation(tag, summary, description, _json(schema_of(item), "The item after the decision."),
                                413, 415, parameters=[_id_parameter(f"{item_name}_id", item_name)])
        body, required = _action_body(action)
        if body is not None:
            operation["requestBody"] = _body(body, required)
        paths["/api/v1/moderation" + action.path] = {"post": operation}
    return paths | _reader_paths_moderation() | _corrections_paths()


def _corrections_paths():
    tag, roles = "moderation: reports", REPORT_ROLES
    one = _json(schema_of(mod.EditorCorrection), "The correction.")
    listing = _moderation(tag, "Corrections", f"The newest corrections of the user's sites, published or not, "
                          f"newest first (`site`: one site). Roles: {roles}.",
                          _json(schema_of(mod.EditorCorrectionList), "The corrections."),
                          parameters=[{"name": "site", "in": "query", "description": "A site's key.",
                                       "schema": {"type": "string"}}])
    write = _moderation(tag, "Write a correction", f"Published at once on the article's corrections log (kind "
                        f"`editor`). Audited as `correction.publish`. Roles: {roles}.", one, 413, 415)
    write["requestBody"] = _body(mod.CorrectionBody, True)
    unpublish = _moderation(tag, "Unpublish a correction", f"Off the public log and the feed; the row and the "
                            f"audit trail stay. Audited as `correction.unpublish`. Roles: {roles}.", one, 413, 415,
                            parameters=[_id_parameter("correction_id", "correction")])
    unpublish["requestBody"] = _body(mod.ReasonBody, False)
    return {"/api/v1/moderation/corrections": {"get": listing, "post": write},
            "/api/v1/moderation/corrections/{correction_id}/unpublish": {"post": unpublish}}


READER_TAG = "moderation: readers"
# What the document says of each reader action (services/reader_profile.py lists them).
READER_ACTION_DOCS = {
    "ban": ("Ban a reader", "Their later comments are stored as rejected (\"banned until …\"); they are told "
            "\"not published\", nothing more. A ban on an anonymous reader also holds on their e-mail and, "
            "for 6 hours, their last address (docs/identity.md). Audited as `reader.ban`.", mod.BanBody),
    "unban": ("Lift a reader's ban", "Ends a ban of either kind at once. Audited as `reader.unban`.", mod.ReasonBody),
    "trust": ("Trust a reader", "Their comments may skip pre-moderation; clears always-pre-moderate. "
              "`on: false` undoes it. Audited as `reader.trust`.", mod.SwitchBody),
    "premoderate": ("Always pre-moderate a reader", "Every comment of theirs waits for a moderator, without "
                    "telling them; clears trust. `on: false` undoes it. Audited as `reader.premoderate`.",
                    mod.SwitchBody),
}


def _reader_paths_moderation():
    parameter = {"name": "reader_key", "in": "path", "required": True,
                 "description": "The reader's id (`reader.id` of an item: `anon:…` or `sso:<site id>:<user id>`).",
                 "schema": {"type": "string", "minLength": 1, "maxLength": 200}}
    profile = _json(schema_of(mod.ReaderProfile), "The reader.")
    paths = {"/api/v1/moderation/readers/{reader_key}": {"get": _moderation(
        READER_TAG, "A reader", f"Their latest comments across articles with their statuses, their history and "
        f"how many readers share their address this week. Roles: {COMMENT_ROLES}; a reader belongs to a site.",
        profile, parameters=[parameter])}}
    for action in READER_ACTIONS:
        summary, description, body = READER_ACTION_DOCS[action.name]
        operation = _moderation(READER_TAG, summary, f"{description} Roles: {COMMENT_ROLES}.",
                                _json(schema_of(mod.ReaderProfile), "The reader after the change."),
                                413, 415, parameters=[parameter])
        operation["requestBody"] = _body(body, False)
        paths[f"/api/v1/moderation/readers/{{reader_key}}/{action.name}"] = {"post": operation}
    return paths


DESCRIPTION = """\
Two JSON APIs of the moderation service.

**Reader API** (`/api/v1`, no authentication): the widget submits error reports, comments,
flags and votes, reads published comments, comment counts and corrections, and asks where its
own submissions stand. Submissions are
validated and queued in Redis (202); a worker stores them. CORS: only for the origins a site
allows (`Access-Control-Allow-Origin` echoes the request's `Origin`, `Vary: Origin`); a preflight
(`OPTIONS`) answers 204 with `Access-Control-Allow-Methods: GET, POST, PATCH, DELETE, OPTIONS`,
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


def _components():
    responses = {}
    error = schema_of(reader.Error)
    for status, (name, description) in ERROR_RESPONSES.items():
        headers = dict(CORS_HEADERS)
        if status in (429, 503):
            headers["Retry-After"] = _ref("headers", "RetryAfter")
        if status == 401:
            headers = {"WWW-Authenticate": _ref("headers", "WWWAuthenticate")}
        responses[name] = _json(error, description, headers)
    responses[SSO_REFUSED[0]] = _json(error, SSO_REFUSED[1], dict(CORS_HEADERS))
    return {
        "schemas": dict(sorted(SCHEMAS.items())),
        "responses": responses,
        "headers": HEADERS,
        "securitySchemes": {
            "bearerAuth": {
                "type": "http", "scheme": "bearer",
                "description": "A token from `moderation create-token EMAIL` (stored hashed, shown once).",
            },
        },
    }


def build_document():
    """A fresh copy of the document (callers may change it)."""
    paths = {**_reader_paths(), **_moderation_paths()}
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
            {"name": READER_TAG, "description": "Readers (people, not addresses): bans, trust, pre-moderation "
                                                "(every role)."},
        ],
        "paths": paths,
        "components": _components(),
    })


DOCUMENT = build_document()
