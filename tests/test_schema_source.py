"""One schema source: every limit and enum of the API contract is written once, in
moderation/schemas/limits.py, and the validators, the OpenAPI document, the widget and the
database columns all read it (issue 15). A limit typed a second time anywhere fails here."""
import importlib.util
import json
import re
from pathlib import Path

import pytest

from moderation.api.openapi import DOCUMENT
from moderation.models import Comment, CommentFlag, ReportCluster, TypoReport
from moderation.schemas import limits
from moderation.validators import validate_comment, validate_report
from support.payloads import comment_payload, report_payload

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "moderation" / "schemas" / "limits.py"

# (submission schema, field, limit): the field's maxLength in the document, the validator's
# limit, the widget's and the column's are this one constant.
LENGTHS = [
    ("ReportSubmission", "exact", "EXACT_MAX"),
    ("ReportSubmission", "prefix", "CONTEXT_MAX"),
    ("ReportSubmission", "suffix", "CONTEXT_MAX"),
    ("ReportSubmission", "suggestion", "SUGGESTION_MAX"),
    ("ReportSubmission", "comment", "REPORT_COMMENT_MAX"),
    ("ReportSubmission", "site", "SITE_KEY_MAX"),
    ("ReportSubmission", "url", "URL_MAX"),
    ("ReportSubmission", "client_id", "CLIENT_ID_MAX"),
    ("ReportSubmission", "notify_email", "EMAIL_MAX"),
    ("CommentSubmission", "author", "AUTHOR_MAX"),
    ("CommentSubmission", "body", "BODY_MAX"),
    ("CommentSubmission", "title", "TITLE_MAX"),
    ("CommentSubmission", "email", "EMAIL_MAX"),
    ("FixSpotBody", "correction", "CORRECTION_MAX"),
    ("ReasonBody", "reason", "REASON_MAX"),
    ("FixCommentBody", "body", "BODY_MAX"),
]


# Where the contract's lengths were typed before: a user's e-mail (254) or a webhook URL (2000)
# elsewhere is another fact that happens to share a number.
CONTRACT_FILES = [
    "moderation/validators.py", "moderation/api/openapi.py", "moderation/api/reader_views.py",
    "moderation/api/moderation_views.py", "moderation/services/moderation.py", "moderation/services/reports.py",
    "moderation/notify/followup.py", "moderation/models/content.py", "moderation/models/clusters.py",
    *(str(p.relative_to(ROOT)) for p in (ROOT / "moderation" / "schemas").glob("*.py")),
]


def _python_sources():
    for path in sorted((ROOT / "moderation").rglob("*.py")):
        if path != SOURCE:
            yield path, path.read_text(encoding="utf-8")


@pytest.mark.parametrize("schema, field, name", LENGTHS)
def test_documented_max_length_is_the_schema_constant(schema, field, name):
    assert DOCUMENT["components"]["schemas"][schema]["properties"][field]["maxLength"] == getattr(limits, name)


@pytest.mark.parametrize("field, name, validate, payload", [
    ("exact", "EXACT_MAX", validate_report, report_payload),
    ("suggestion", "SUGGESTION_MAX", validate_report, report_payload),
    ("comment", "REPORT_COMMENT_MAX", validate_report, report_payload),
    ("author", "AUTHOR_MAX", validate_comment, comment_payload),
    ("body", "BODY_MAX", validate_comment, comment_payload),
    ("title", "TITLE_MAX", validate_comment, comment_payload),
])
def test_validator_limit_is_the_schema_constant(field, name, validate, payload, monkeypatch):
    """The validator refuses one past the constant, and follows the constant when it changes."""
    limit = getattr(limits, name)
    assert field not in validate(payload(**{field: "й" * limit}))[1]
    assert validate(payload(**{field: "й" * (limit + 1)}))[1][field] == f"{field} must be at most {limit} characters"


def test_widget_limits_are_injected_from_the_schema():
    spec = importlib.util.spec_from_file_location("build_widget", ROOT / "tools" / "build_widget.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    table = build.widget_limits()
    assert table["kinds"] == list(limits.REPORT_KINDS) and table["reasons"] == list(limits.FLAG_REASONS)
    assert (table["suggestion"], table["body"], table["author"]) == (
        limits.SUGGESTION_MAX, limits.BODY_MAX, limits.AUTHOR_MAX)
    for bundle in ("widget.js", "widget.ru.js", "widget.kk.js"):
        served = (ROOT / "static" / "js" / bundle).read_text(encoding="utf-8")
        # the minifier writes the table as JS (1000 as 1e3, keys unquoted): read it back as JSON.
        [literal] = re.findall(r"\{context:[^{}]*\}", served)
        assert json.loads(re.sub(r"([{,])([a-z]+):", r'\1"\2":', literal)) == table, bundle
    source = (ROOT / "static" / "js" / "src" / "widget.js").read_text(encoding="utf-8")
    assert not re.search(r'maxlength:\s*"?\d', source), "a maxlength typed in the widget source"
    for values in (limits.REPORT_KINDS, limits.FLAG_REASONS):
        assert not re.search(r"\[\s*" + r"\s*,\s*".join(f'"{v}"' for v in values), source), values


def test_column_sizes_and_checks_are_the_schema_constants():
    columns = {
        (TypoReport, "exact"): limits.EXACT_MAX, (TypoReport, "prefix"): limits.CONTEXT_MAX,
        (TypoReport, "suggestion"): limits.SUGGESTION_MAX, (TypoReport, "comment"): limits.REPORT_COMMENT_MAX,
        (TypoReport, "client_id"): limits.CLIENT_ID_MAX, (TypoReport, "decision_reason"): limits.REASON_MAX,
        (ReportCluster, "exact"): limits.EXACT_MAX, (ReportCluster, "suffix"): limits.CONTEXT_MAX,
        (Comment, "author"): limits.AUTHOR_MAX, (Comment, "email"): limits.EMAIL_MAX,
        (CommentFlag, "client_id"): limits.CLIENT_ID_MAX,
    }
    for (model, column), size in columns.items():
        assert model.__table__.c[column].type.length == size, (model, column)
    checks = {str(c.sqltext) for c in TypoReport.__table__.constraints if hasattr(c, "sqltext")}
    assert "kind in ('typo', 'fact', 'other')" in checks  # the text the migrations created
    assert limits.REPORT_KINDS == ("typo", "fact", "other")


def test_no_limit_or_enum_is_typed_twice():
    """Outside limits.py, no module spells an id bound, an enum or a length limit as a literal."""
    enums = [limits.REPORT_KINDS, limits.FLAG_REASONS, limits.COMMENT_QUEUES, limits.REPORT_QUEUES]
    lengths = {getattr(limits, name) for _schema, _field, name in LENGTHS} - {limits.CLIENT_ID_MAX}
    typed_length = re.compile(r"(?:String\(|max_length=|maxLength\"?:\s*|len\([^()]*\)\s*>\s*)(\d+)\b")
    found = []
    for path, text in _python_sources():
        where = path.relative_to(ROOT)
        if re.search(r"2\s*\*\*\s*31", text):
            found.append(f"{where}: an id bound (2**31)")
        for values in enums:
            quoted = r"\s*,\s*".join(f"[\"']{value}[\"']" for value in values)
            if re.search(quoted, text):
                found.append(f"{where}: the enum {values}")
        if str(where) in CONTRACT_FILES:
            found += [f"{where}: the length {m.group(1)}" for m in typed_length.finditer(text)
                      if int(m.group(1)) in lengths]
    decision = {limits.BODY_MAX, limits.REASON_MAX, limits.CORRECTION_MAX}  # the dashboard's forms
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        found += [f"{path.relative_to(ROOT)}: maxlength {m.group(1)}" for m in re.finditer(r'maxlength="(\d+)"', text)
                  if int(m.group(1)) in decision]
        found += [f"{path.relative_to(ROOT)}: the enum {values}" for values in enums
                  if re.search(r"\s*,\s*".join(f"[\"']{value}[\"']" for value in values), text)]
    assert not found, "typed again outside moderation/schemas/limits.py:\n" + "\n".join(found)


@pytest.mark.parametrize("kind, path, payload", [
    ("report", "/api/v1/reports", report_payload),
    ("comment", "/api/v1/comments", comment_payload),
])
def test_queued_payload_is_the_documented_shape(kind, path, payload, client, site, monkeypatch):
    """What the view queues is a QUEUED model's fields, no more (the worker's input is the schema's)."""
    from moderation.api import reader_views
    from moderation.schemas.payload import QUEUED

    queued = []
    monkeypatch.setattr(reader_views, "get_broker", lambda: type("Broker", (), {"submit": staticmethod(queued.append)}))
    response = client.post(path, json=payload(notify_email="reader@example.org", junk=1),
                           headers={"Origin": "https://news.example"})
    assert response.status_code == 202, response.get_json()
    assert set(queued[0]) == set(QUEUED[kind].model_fields)
    QUEUED[kind].model_validate(queued[0])


def test_a_queued_vote_is_the_documented_shape(app, client, site, monkeypatch):
    """Votes too (issue 18): the QueuedVote model's fields, no more."""
    import sqlalchemy as sa  # noqa: PLC0415

    from moderation.api import reader_views  # noqa: PLC0415
    from moderation.extensions import db  # noqa: PLC0415
    from moderation.models import Comment, Page  # noqa: PLC0415
    from moderation.models.sites import url_hash  # noqa: PLC0415
    from moderation.schemas.payload import QUEUED  # noqa: PLC0415

    with app.app_context():
        page = Page(site_id=site.id, url="https://news.example/a", url_hash=url_hash("https://news.example/a"))
        db.session.add(page)
        db.session.flush()
        comment = Comment(client_id="c-vote-target", site_id=site.id, page_id=page.id, author="A", body_raw="x",
                          body_html="<p>x</p>", status="approved")
        db.session.add(comment)
        db.session.commit()
        comment_id = db.session.execute(sa.select(Comment.id)).scalar_one()
    queued = []
    monkeypatch.setattr(reader_views, "get_broker", lambda: type("Broker", (), {"submit": staticmethod(queued.append)}))
    response = client.post(f"/api/v1/comments/{comment_id}/votes", json={
        "site": "test-site", "value": 1, "client_id": "3f1c9a52-0c1e-4d8e", "junk": 1},
        headers={"Origin": "https://news.example"})
    assert response.status_code == 202, response.get_json()
    assert set(queued[0]) == set(QUEUED["vote"].model_fields)
    QUEUED["vote"].model_validate(queued[0])
