"""The OpenAPI document: valid 3.1, in step with the URL map (both directions) and the validators."""
import re
import subprocess
import sys
from pathlib import Path

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from moderation.api.openapi import DOCUMENT
from moderation.validators import validate_comment, validate_flag, validate_report

from support.payloads import ORIGIN, comment_payload, report_payload

ROOT = Path(__file__).resolve().parent.parent
API_BLUEPRINTS = ("api", "moderation_api")
AUTOMATIC = {"HEAD", "OPTIONS"}  # added by Flask to every rule; OPTIONS is the CORS preflight
CONVERTER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def routed_operations(app):
    """{(path in OpenAPI form, lower-case method)} of the two API blueprints."""
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] not in API_BLUEPRINTS:
            continue
        path = CONVERTER.sub(r"{\1}", rule.rule)
        found |= {(path, method.lower()) for method in rule.methods - AUTOMATIC}
    return found


def documented_operations(document):
    methods = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}
    return {(path, method) for path, item in document["paths"].items() for method in item if method in methods}


def test_document_is_valid_openapi_3_1():
    assert DOCUMENT["openapi"].startswith("3.1.")
    validate(DOCUMENT)


def test_validator_refuses_a_broken_document():
    """The check above can fail: a response without its required description is refused."""
    broken = dict(DOCUMENT, paths={"/x": {"get": {"responses": {"200": {"content": {}}}}}})
    with pytest.raises(OpenAPIValidationError):
        validate(broken)


def test_every_route_is_documented(app):
    missing = routed_operations(app) - documented_operations(DOCUMENT)
    assert not missing, f"routes without documentation: {sorted(missing)}"


def test_every_documented_operation_exists(app):
    ghosts = documented_operations(DOCUMENT) - routed_operations(app)
    assert not ghosts, f"documented but not routed: {sorted(ghosts)}"


def test_route_walk_sees_the_blueprints(app):
    """Guard against a walk that finds nothing (both sets empty would pass the tests above)."""
    operations = routed_operations(app)
    assert ("/api/v1/reports", "post") in operations
    assert ("/api/v1/moderation/comments/{comment_id}/approve", "post") in operations
    assert len(operations) >= 18


def test_path_parameters_are_declared():
    for path, item in DOCUMENT["paths"].items():
        names = set(re.findall(r"{([^}]+)}", path))
        for operation in item.values():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == names, path


def test_moderation_operations_need_the_bearer_token_and_reader_ones_do_not():
    assert DOCUMENT["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": DOCUMENT["components"]["securitySchemes"]["bearerAuth"]["description"]}
    for path, method in documented_operations(DOCUMENT):
        operation = DOCUMENT["paths"][path][method]
        if path.startswith("/api/v1/moderation/"):
            assert operation["security"] == [{"bearerAuth": []}], path
            assert "401" in operation["responses"], path
        else:
            assert operation["security"] == [], path


def _schema(name):
    return DOCUMENT["components"]["schemas"][name]


@pytest.mark.parametrize("schema_name, validator, payload", [
    ("ReportSubmission", validate_report, report_payload),
    ("CommentSubmission", validate_comment, comment_payload),
])
def test_documented_lengths_are_the_validators_limits(schema_name, validator, payload):
    """At maxLength the validator accepts the field, one character more it refuses it."""
    checked = 0
    for name, prop in _schema(schema_name)["properties"].items():
        if "maxLength" not in prop or name in ("url", "client_id", "email", "notify_email", "site"):
            continue
        limit = prop["maxLength"]
        _, errors = validator(payload(**{name: "й" * limit}))
        assert name not in errors, (name, errors)
        _, errors = validator(payload(**{name: "й" * (limit + 1)}))
        assert name in errors, name
        checked += 1
    assert checked >= 3


@pytest.mark.parametrize("schema_name, validator, payload", [
    ("ReportSubmission", validate_report, report_payload),
    ("CommentSubmission", validate_comment, comment_payload),
])
def test_documented_integer_bounds_are_the_validators_bounds(schema_name, validator, payload):
    """An integer one past the documented maximum must be a 400, not a 202 the worker cannot store."""
    checked = 0
    for name, prop in _schema(schema_name)["properties"].items():
        if "integer" not in prop.get("type", ()) or "maximum" not in prop:
            continue
        assert name not in validator(payload(**{name: prop["maximum"]}))[1], name
        assert name in validator(payload(**{name: prop["maximum"] + 1}))[1], name
        assert name in validator(payload(**{name: prop["minimum"] - 1}))[1], name
        checked += 1
    assert checked >= 1


def test_documented_required_fields_are_required():
    for schema_name, validator, payload in (
        ("ReportSubmission", validate_report, report_payload()),
        ("CommentSubmission", validate_comment, comment_payload()),
        ("FlagSubmission", validate_flag, {"site": "test-site", "client_id": "a" * 8}),
    ):
        assert validator(payload)[1] == {}
        for name in _schema(schema_name)["required"]:
            data = {k: v for k, v in payload.items() if k != name}
            assert name in validator(data)[1], (schema_name, name)


def test_documented_enums_and_patterns_match_the_validators():
    report = _schema("ReportSubmission")["properties"]
    for kind in report["kind"]["enum"][:-1]:  # the last one is null (default)
        assert validate_report(report_payload(kind=kind))[1] == {}
    assert "kind" in validate_report(report_payload(kind="opinion"))[1]
    pattern = re.compile(report["client_id"]["pattern"])
    for value, ok in (("3f1c9a52-0c1e-4d8e", True), ("short", False), ("-leading-dash", False), ("a" * 65, False)):
        assert bool(pattern.search(value)) is ok
        assert ("client_id" not in validate_report(report_payload(client_id=value))[1]) is ok
    flag = _schema("FlagSubmission")["properties"]
    for reason in flag["reason"]["enum"][:-1]:
        assert validate_flag({"site": "s", "client_id": "a" * 8, "reason": reason})[1] == {}


def test_served_document_is_public_cacheable_and_conditional(client, site):
    response = client.get("/api/v1/openapi.json", headers={"Origin": ORIGIN})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == DOCUMENT
    assert response.headers["Access-Control-Allow-Origin"] == "*"  # not the site's origin echo
    assert "public" in response.headers["Cache-Control"]
    etag = response.headers["ETag"]
    again = client.get("/api/v1/openapi.json", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    other = client.get("/api/v1/openapi.json", headers={"Origin": "https://elsewhere.example"})
    assert other.status_code == 200 and other.headers["Access-Control-Allow-Origin"] == "*"
    validate(other.get_json())


def test_api_reference_is_generated_from_the_current_document():
    """docs/api.md is tools/gen_api_docs.py's rendering of this document (like the widget build)."""
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_api_docs.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    reference = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    for path, method in documented_operations(DOCUMENT):
        assert f"### `{method.upper()} {path}`" in reference
    assert "| `exact` | string | yes | length 1–300" in reference
