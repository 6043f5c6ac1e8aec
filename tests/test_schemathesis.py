"""Schemathesis against the real app (WSGI), driven by the document the app serves.

Every operation of both APIs gets generated requests, valid and invalid (bounded and
deterministic: `derandomize`), sent with the Origin of a real site and a valid Bearer token
of an admin. Each answer must be no 5xx, a documented status with a documented content type
and headers, and a body matching its schema. The app runs on the real Redis; the data the
fuzzer works on is submitted through the API and stored by the real RQ worker, and after the
run the worker must store every submission the API accepted.

Some of the generated ids and keys are replaced by real ones (hooks below), so the fuzzer
also reaches the success paths (202, 200, 304), not only 403/404.
"""
import re

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.pytest._test_builder import build_operation_test
from schemathesis.python._constants.orchestrator import make_constants_value_source
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from moderation.api.openapi import DOCUMENT
from moderation.extensions import db
from moderation.models import Comment, ReportCluster, TypoReport
from moderation.services import submissions

from support.database import reset_database
from support.payloads import ARTICLE, ORIGIN, comment_payload, report_payload

# Not `negative_data_rejection`: it also fails on unknown query parameters, which the API
# ignores by design (documented). Run with it by hand to find unenforced constraints; it found
# `limit=null` answered 200, now a 400 (test_an_integer_query_parameter_that_is_not_one_is_a_400).
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
DOCUMENTED_URL = DOCUMENT["components"]["schemas"]["ReportSubmission"]["properties"]["url"]["pattern"]
# High enough that the fuzzer never meets a 429: the limiter still runs on every submission.
HIGH_LIMIT = "100000/minute"


@pytest.fixture
def app(make_app):
    """The conftest app, with rate limits the fuzzer will not reach (not disabled)."""
    app = make_app(RATELIMIT_REPORTS=HIGH_LIMIT, RATELIMIT_COMMENTS=HIGH_LIMIT, RATELIMIT_FLAGS=HIGH_LIMIT)
    app.broker.redis.flushdb()
    reset_database(app)
    return app


class Seeded:
    """Real ids, made through the API and stored by the worker, for the hooks to use."""

    def __init__(self, app, client, drain, headers):
        self.report_client_ids = []
        for suggestion in ("объявил", "объявил", "обявил"):  # one spot: a cluster of three
            payload = report_payload(suggestion=suggestion)
            assert client.post("/api/v1/reports", json=payload).status_code == 202
            self.report_client_ids.append(payload["client_id"])
        self.comment_client_ids = []
        for body in ("Первый!", "Второй комментарий", "Третий"):
            payload = comment_payload(body=body)
            assert client.post("/api/v1/comments", json=payload).status_code == 202
            self.comment_client_ids.append(payload["client_id"])
        drain()
        with app.app_context():
            self.comment_ids = list(db.session.execute(sa.select(Comment.id).order_by(Comment.id)).scalars())
            self.report_ids = list(db.session.execute(sa.select(TypoReport.id)).scalars())
            self.cluster_ids = list(db.session.execute(sa.select(ReportCluster.id)).scalars())
        assert len(self.comment_ids) == 3 and len(self.report_ids) == 3 and len(self.cluster_ids) == 1
        # One published comment with a reply, so the public list and the flags have something.
        approve = client.post(f"/api/v1/moderation/comments/{self.comment_ids[0]}/approve", headers=headers)
        assert approve.status_code == 200
        reply = comment_payload(body="Ответ", parent=self.comment_ids[0])
        assert client.post("/api/v1/comments", json=reply).status_code == 202
        drain()
        with app.app_context():
            reply_id = db.session.execute(
                sa.select(Comment.id).where(Comment.client_id == reply["client_id"])).scalar_one()
        assert client.post(f"/api/v1/moderation/comments/{reply_id}/approve", headers=headers).status_code == 200
        self.comment_ids.append(reply_id)
        # The published comment belongs to an anonymous reader whose signed id the hooks send, so
        # its author's own-comment operations (PATCH, DELETE) are reached too.
        with app.app_context():
            from moderation.identity import anonymous  # noqa: PLC0415
            from moderation.services import readers  # noqa: PLC0415

            site_id = db.session.get(Comment, self.comment_ids[0]).site_id
            key, self.reader_token = anonymous.issue(site_id)
            reader = readers.resolve_reader(site_id, anon_key=key, name="Гость")
            db.session.get(Comment, self.comment_ids[0]).reader_id = reader.id
            db.session.commit()
            self.reader_keys = [reader.key]
            # A published correction, for the unpublish operation.
            from moderation.models import Correction  # noqa: PLC0415

            correction = Correction(site_id=site_id, page_id=db.session.get(Comment, self.comment_ids[0]).page_id,
                                    kind="editor", text="Исправлено")
            db.session.add(correction)
            db.session.commit()
            self.correction_ids = [correction.id]

    def ids_for(self, name):
        return {"comment_id": self.comment_ids, "report_id": self.report_ids,
                "cluster_id": self.cluster_ids, "reader_key": self.reader_keys,
                "correction_id": self.correction_ids,
                "client_id": self.report_client_ids + self.comment_client_ids}.get(name)


@pytest.fixture
def fuzz_headers(app, site, staff):
    return {"Authorization": "Bearer " + staff.token("admin"), "Origin": ORIGIN}


@pytest.fixture
def accepted():
    """client_ids the API answered 202 for (reports and comments)."""
    return []


@pytest.fixture
def api_schema(app, client, drain, fuzz_headers, accepted, site):
    seeded = Seeded(app, client, drain, {"Authorization": fuzz_headers["Authorization"]})
    # The document as the app serves it. (`from_wsgi` would drop the operation it was loaded
    # from, GET /api/v1/openapi.json; setting `app` is what `from_wsgi` does too.)
    served = client.get("/api/v1/openapi.json")
    assert served.status_code == 200
    schema = schemathesis.openapi.from_dict(served.get_json())
    schema.app = app

    # Only values that are already valid are replaced, so a negative case stays negative.
    def valid_id(value):
        return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 2**31 - 1

    def valid_text(value):
        return isinstance(value, str) and value.strip() != ""

    @schema.hook
    def flatmap_path_parameters(context, path_parameters):
        """Real ids (the success paths) or the generated one."""
        if not isinstance(path_parameters, dict):
            return st.just(path_parameters)
        choices = []
        for name, value in path_parameters.items():
            real = seeded.ids_for(name)
            if real and (valid_id(value) or (name in ("client_id", "reader_key") and valid_text(value))):
                choices += [dict(path_parameters, **{name: one}) for one in real]
        # The generated value last: Hypothesis favours the first choices.
        return st.sampled_from(choices + [path_parameters])

    def with_real_site(values):
        real = dict(values)
        if valid_text(values.get("site")):
            real["site"] = "test-site"
        if valid_text(values.get("reader")):  # the comment author's own id (sso is optional)
            real["reader"] = seeded.reader_token
            real.pop("sso", None)
        if valid_text(values.get("url")) and re.match(DOCUMENTED_URL, values["url"]):
            real["url"] = ARTICLE
        if isinstance(values.get("url"), list) and values["url"]:  # GET /counts: url repeated
            real["url"] = [ARTICLE] * len(values["url"])
        return real

    @schema.hook
    def flatmap_body(context, body):
        """The real site key and an article URL on its origin, in some of the bodies."""
        if not isinstance(body, dict) or "site" not in body:
            return st.just(body)
        return st.sampled_from([with_real_site(body), body])

    @schema.hook
    def flatmap_query(context, query):
        if context.operation.path not in ("/api/v1/comments", "/api/v1/submissions/{client_id}", "/api/v1/counts",
                                          "/api/v1/corrections", "/api/v1/corrections.atom") \
                or not isinstance(query, dict):
            return st.just(query)
        return st.sampled_from([with_real_site(query), query])

    yield schema

    # The worker must store everything the API acknowledged during the fuzz (nothing lost).
    drain()
    with app.app_context():
        from rq.registry import FailedJobRegistry  # noqa: PLC0415

        assert FailedJobRegistry(queue=app.broker.queue).count == 0
        statuses = {cid: submissions.status_of(site.id, cid) for cid in accepted}
    stuck = {cid: s for cid, s in statuses.items() if s in (None, "queued")}
    assert not stuck, f"acknowledged but not stored: {stuck}"


# The operations, known at collection time from the document itself; each test then fuzzes
# its operation as loaded from the app's own /api/v1/openapi.json, with Schemathesis's three
# phases (explicit examples, coverage: boundary and invalid values of every field, fuzzing:
# positive and negative). Built with the per-operation builder that `schema.parametrize()`
# uses, because its pytest plugin breaks on pytest 9.2 (`Function` has no `_nodeid`).
LABELS = [result.ok().label for result in schemathesis.openapi.from_dict(DOCUMENT).get_all_operations()]
FUZZ = settings(max_examples=30, derandomize=True, deadline=None, database=None,
                suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])


@pytest.mark.parametrize("label", LABELS)
def test_operation_conforms_to_the_document(label, api_schema, fuzz_headers, accepted):
    operation = next(op for op in (r.ok() for r in api_schema.get_all_operations()) if op.label == label)
    seen = []

    def check(case):
        response = case.call_and_validate(headers=fuzz_headers, checks=CHECKS)
        seen.append(response.status_code)
        if response.status_code == 202 and operation.path in ("/api/v1/reports", "/api/v1/comments"):
            accepted.append(response.json()["id"])

    build_operation_test(
        config=api_schema.config, operation=operation, test_func=check, given_kwargs={},
        feedback=FeedbackSources(constants_value_source=make_constants_value_source(api_schema)),
        explicit_settings=FUZZ,
    )()
    # The hooks put real ids and keys in: the success answer must have been reached.
    success = {int(code) for code in operation.definition.raw["responses"] if code.startswith("2")}
    assert set(seen) & success, f"{label}: only {sorted(set(seen))}"


BODY_OPERATIONS = [
    (path.replace("{", "").replace("}", "").replace("comment_id", "1").replace("report_id", "1")
     .replace("cluster_id", "1").replace("correction_id", "1"), method)
    for path, item in DOCUMENT["paths"].items() for method, operation in item.items()
    if "requestBody" in operation
]


@pytest.mark.parametrize("path, method", BODY_OPERATIONS)
def test_lone_surrogates_in_a_body_are_a_400(path, method, client, fuzz_headers):
    """Valid JSON, but no UTF-8: Hypothesis never generates it (its text has no surrogates).
    It was a 500 on the reader API (the Redis enqueue could not encode it); now every body is
    checked before anything else, so the moderation API answers 400 too, whatever the id."""
    raw = '{"site": "test-site", "url": "https://news.example/a", "exact": "a\\ud800", "author": "\\udfff",'
    raw += ' "body": "b\\ud800", "reason": "\\ud800", "client_id": "3f1c9a52-0c1e-4d8e"}'
    response = client.open(path, method=method.upper(), data=raw.encode(), content_type="application/json",
                           headers=fuzz_headers)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error"] == "bad_request"


INTEGER_QUERY_PARAMETERS = [
    (path, parameter["name"])
    for path, item in DOCUMENT["paths"].items() for operation in item.values()
    for parameter in operation.get("parameters", [])
    if parameter["in"] == "query" and parameter["schema"].get("type") == "integer"
]


@pytest.mark.parametrize("path, name", INTEGER_QUERY_PARAMETERS)
def test_an_integer_query_parameter_that_is_not_one_is_a_400(path, name, client, fuzz_headers):
    """Schemathesis's negative cases (`limit=null`) were answered 200: silently ignored."""
    for value in ("abc", "null", "1.5", "-1", "999999999999"):
        query = {"site": "test-site", "url": ARTICLE, name: value}
        response = client.get(path, query_string=query, headers=fuzz_headers)
        assert response.status_code == 400, (value, response.status_code, response.get_data(as_text=True))
        assert name in response.get_json()["fields"]
