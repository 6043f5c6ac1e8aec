"""Hostile input through the real reader API and the real worker: every payload of our XSS set
(plus blns when present, see tests/hostile/__init__.py) in every text field of a comment and a
report. What the rules accept is stored exactly as the rules say (NFC, controls removed, spaces
as documented); what they refuse is a 400 naming the field. Never a 500, never a silent drop.

The expected values are computed here from the documented rules, independently of the
validators' code; the comment HTML is checked with Python's own HTML parser, not bleach.
"""
import json
import re
import unicodedata
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import Comment, CommentFlag, Page, TypoReport
from moderation.sanitizer import ALLOWED_TAGS
from moderation.urls import normalize_url

from support.hostile import all_payloads, own_payloads
from support.payloads import ARTICLE, ORIGIN, comment_payload, new_client_id, report_payload

PAYLOADS = all_payloads()

# -- the documented rules (docs/security.md), written out independently ---------------------------

CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
SPACES = re.compile(r"\s+")


def nfc_no_controls(text):
    return unicodedata.normalize("NFC", CONTROLS.sub("", text))


def rule_text(text, min_len, max_len, collapse=False, optional=False):
    """(accepted, stored value) for a text field under the documented rules."""
    value = nfc_no_controls(text).strip()
    if collapse:
        value = SPACES.sub(" ", value)
    if optional and value == "":
        return True, None
    return min_len <= len(value) <= max_len, value


def rule_line(text, min_len, max_len, optional=False):
    """Names and titles: also without invisible format characters (Cf) but ZWNJ/ZWJ."""
    visible = "".join(ch for ch in text if ch in "\u200c\u200d" or unicodedata.category(ch) != "Cf")
    return rule_text(visible, min_len, max_len, collapse=True, optional=optional)


def rule_context(text):
    """prefix/suffix: whitespace collapsed but not trimmed (it touches the selection)."""
    value = SPACES.sub(" ", nfc_no_controls(text))
    return len(value) <= 64, value


COMMENT_FIELDS = {
    "author": lambda t: rule_line(t, 1, 80),
    "body": lambda t: rule_text(t, 1, 5000),
    "title": lambda t: rule_line(t, 0, 300, optional=True),
}
REPORT_FIELDS = {
    "exact": lambda t: rule_text(t, 1, 300, collapse=True),
    "prefix": rule_context,
    "suffix": rule_context,
    "suggestion": lambda t: rule_text(t, 0, 600, optional=True),
    "comment": lambda t: rule_text(t, 0, 1000, optional=True),
}


class SafeHtmlChecker(HTMLParser):
    """Collects every tag and attribute of a rendered comment body that is not allowed."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.bad = []

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED_TAGS:
            self.bad.append(tag)
        for name, value in attrs:
            if tag != "a" or name not in ("href", "rel", "target"):
                self.bad.append(f"{tag}[{name}]")
            elif name == "href" and not re.match(r"(https?:|mailto:)", value or "", re.I):
                self.bad.append(f"href={value!r}")

    def handle_comment(self, data):
        self.bad.append("<!--")


def unsafe_parts(html):
    checker = SafeHtmlChecker()
    checker.feed(html)
    checker.close()
    return checker.bad


def post(client, path, payload, raw=False):
    if raw:  # ASCII-escaped JSON: carries lone surrogates, which UTF-8 cannot
        return client.post(path, data=json.dumps(payload), content_type="application/json")
    return client.post(path, json=payload)


def encodable(payload):
    try:
        payload.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


@pytest.fixture
def open_app(app, site):
    app.config["RATELIMIT_ENABLED"] = False  # thousands of submissions from one address, on purpose
    return app


def _submit_fields(client, path, make, fields, payload, index, accepted_fields, refused, failures, url=None):
    """One submission with every accepted field hostile, one per refused field."""
    expected = {name: rule(payload) for name, rule in fields.items()}
    good = {name: value for name, (ok, value) in expected.items() if ok}
    body = make(**{name: payload for name in good}, client_id=f"h{index:06d}-{new_client_id()[:8]}",
                url=url or f"{ARTICLE}/{index}")
    response = post(client, path, body, raw=True)
    if response.status_code != 202:
        failures.append((payload, "accepted fields", response.status_code, response.get_json()))
    else:
        accepted_fields[body["client_id"]] = (payload, good)
    for name, (ok, _) in expected.items():
        if ok:
            continue
        response = post(client, path, make(**{name: payload}), raw=True)
        refused[0] += 1
        error = response.get_json() or {}
        if response.status_code != 400 or set(error.get("fields", {})) != {name}:
            failures.append((payload, name, response.status_code, error))


@pytest.mark.timeout(600)
def test_every_payload_in_every_comment_field_is_stored_as_the_rules_say_or_refused(open_app, drain):
    client = open_app.test_client()
    accepted, refused, failures = {}, [0], []
    for i, payload in enumerate(PAYLOADS):
        _submit_fields(client, "/api/v1/comments", comment_payload, COMMENT_FIELDS, payload, i,
                       accepted, refused, failures)
    assert failures == []
    drain()
    with open_app.app_context():
        rows = {c.client_id: c for c in db.session.execute(sa.select(Comment)).scalars()}
        for client_id, (payload, good) in accepted.items():
            row = rows.get(client_id)
            if row is None:
                failures.append((payload, "not stored"))
                continue
            stored = {"author": row.author, "body": row.body_raw, "title": row.page.title}
            for name, value in good.items():
                want = value if name != "title" else value or None
                if name == "title" and want is None:
                    continue  # an empty title does not overwrite the page's title
                if stored[name] != want:
                    failures.append((payload, name, stored[name], want))
            if unsafe_parts(row.body_html):
                failures.append((payload, "body_html", row.body_html, unsafe_parts(row.body_html)))
    assert failures == []
    assert len(accepted) == len(PAYLOADS)  # every payload fits somewhere
    print(f"\n{len(PAYLOADS)} payloads: {len(accepted)} comments stored, {refused[0]} field refusals checked")


@pytest.mark.timeout(600)
def test_every_payload_in_every_report_field_is_stored_as_the_rules_say_or_refused(open_app, drain):
    client = open_app.test_client()
    accepted, refused, failures = {}, [0], []
    for i, payload in enumerate(PAYLOADS):
        _submit_fields(client, "/api/v1/reports", report_payload, REPORT_FIELDS, payload, i,
                       accepted, refused, failures)
    assert failures == []
    drain()
    with open_app.app_context():
        rows = {r.client_id: r for r in db.session.execute(sa.select(TypoReport)).scalars()}
        for client_id, (payload, good) in accepted.items():
            row = rows.get(client_id)
            if row is None:
                failures.append((payload, "not stored"))
                continue
            for name, value in good.items():
                stored = getattr(row, name)
                want = value if value is not None or name in ("suggestion", "comment") else ""
                if stored != want:
                    failures.append((payload, name, stored, want))
    assert failures == []
    assert len(accepted) == len(PAYLOADS)


@pytest.mark.timeout(600)
def test_every_payload_in_the_page_url_is_stored_normalized_or_refused(open_app, drain):
    """As the whole URL (mostly refused: not an http(s) URL on the site) and inside one."""
    client = open_app.test_client()
    expected, failures = {}, []
    for i, payload in enumerate(PAYLOADS):
        for n, url in enumerate((payload, f"{ORIGIN}/hostile/{i}?q={payload}", f"{ORIGIN}/{payload}")):
            body = comment_payload(url=url)
            response = post(client, "/api/v1/comments", body, raw=True)
            cleaned = CONTROLS.sub("", url)
            normalized = normalize_url(cleaned) if len(cleaned) <= 2048 else None
            on_site = normalized is not None and normalized.startswith(ORIGIN + "/")
            if response.status_code == 202 and on_site:
                expected[body["client_id"]] = (url, normalized)
            elif response.status_code == 400 and set(response.get_json()["fields"]) == {"url"} and not on_site:
                continue
            else:
                failures.append((url, response.status_code, response.get_json(), normalized))
    assert failures == []
    drain()
    with open_app.app_context():
        stored = dict(db.session.execute(
            sa.select(Comment.client_id, Page.url).join(Page, Page.id == Comment.page_id)).all())
    for client_id, (url, normalized) in expected.items():
        if stored.get(client_id) != normalized:
            failures.append((url, stored.get(client_id), normalized))
    assert failures == []
    assert len(expected) >= 2 * len(PAYLOADS) - 5  # nearly every payload fits inside a URL


# -- the rules one by one ----------------------------------------------------------------------------

def _stored_comment(app, client_id):
    with app.app_context():
        row = db.session.execute(sa.select(Comment).where(Comment.client_id == client_id)).scalar_one()
        return row.author, row.body_raw, row.page.title


def test_unicode_is_stored_in_nfc(open_app, drain):
    client = open_app.test_client()
    decomposed = "Cafe\u0301 Ё\u0308"  # e + combining acute; Cyrillic Е + combining diaeresis
    assert decomposed != unicodedata.normalize("NFC", decomposed)
    body = comment_payload(author=decomposed, body=decomposed, title=decomposed)
    assert post(client, "/api/v1/comments", body).status_code == 202
    drain()
    assert _stored_comment(open_app, body["client_id"]) == ("Café Ё̈", "Café Ё̈", "Café Ё̈")
    assert unicodedata.is_normalized("NFC", _stored_comment(open_app, body["client_id"])[1])


def test_control_characters_are_removed_but_body_keeps_newlines_and_tabs(open_app, drain):
    client = open_app.test_client()
    body = comment_payload(author="An\x00na\x1b\x85", body="line\x07 one\n\tline\x9b two\x7f",
                           title="Ti\x08tle")
    assert post(client, "/api/v1/comments", body).status_code == 202
    drain()
    assert _stored_comment(open_app, body["client_id"]) == ("Anna", "line one\n\tline two", "Title")


def test_lone_surrogates_are_a_clear_400_not_a_500(open_app, drain):
    """A lone surrogate is valid JSON but no text: the API refuses the body with a 400 (the
    validators would strip it too, as a second line for any other way in). Nothing is stored."""
    client = open_app.test_client()
    body = comment_payload(author="a\ud800b", body="x\udfffy")
    response = post(client, "/api/v1/comments", body, raw=True)
    assert response.status_code == 400
    assert "lone surrogate" in response.get_json()["message"]
    drain()
    with open_app.app_context():
        assert db.session.execute(
            sa.select(Comment.id).where(Comment.client_id == body["client_id"])).first() is None


@pytest.mark.parametrize("field, limit", [("author", 80), ("body", 5000), ("title", 300)])
def test_over_long_comment_fields_are_400_naming_the_field_not_truncated(open_app, field, limit):
    client = open_app.test_client()
    assert post(client, "/api/v1/comments", comment_payload(**{field: "я" * limit})).status_code == 202
    response = post(client, "/api/v1/comments", comment_payload(**{field: "я" * (limit + 1)}))
    assert response.status_code == 400
    assert set(response.get_json()["fields"]) == {field}
    assert str(limit) in response.get_json()["fields"][field]


@pytest.mark.parametrize("field, limit", [("exact", 300), ("prefix", 64), ("suffix", 64),
                                          ("suggestion", 600), ("comment", 1000)])
def test_over_long_report_fields_are_400_naming_the_field_not_truncated(open_app, field, limit):
    client = open_app.test_client()
    assert post(client, "/api/v1/reports", report_payload(**{field: "ж" * limit})).status_code == 202
    response = post(client, "/api/v1/reports", report_payload(**{field: "ж" * (limit + 1)}))
    assert response.status_code == 400
    assert set(response.get_json()["fields"]) == {field}


def test_length_is_counted_after_normalization(open_app):
    """80 decomposed letters are 160 code points sent but 80 stored: accepted."""
    client = open_app.test_client()
    response = post(client, "/api/v1/comments", comment_payload(author="е\u0308" * 80))
    assert response.status_code == 202


def test_unknown_fields_are_ignored_everywhere(open_app, drain, staff):
    """The documented choice: ignored (never stored, never an error) in reports, comments, flags
    and the moderation API, so widgets and servers of different versions keep working."""
    client = open_app.test_client()
    extra = {"is_admin": True, "status": "approved", "id": 1, "body_html": "<script>alert(1)</script>",
             "site_id": 999, "reporter_hash": "forged"}
    comment = comment_payload(**extra)
    report = report_payload(**{k: v for k, v in extra.items() if k != "body_html"})
    assert post(client, "/api/v1/comments", comment).status_code == 202
    assert post(client, "/api/v1/reports", report).status_code == 202
    drain()
    with open_app.app_context():
        row = db.session.execute(sa.select(Comment)).scalar_one()
        assert row.status == "pending" and "<script>" not in row.body_html
        assert row.site_id != 999 and row.reporter_hash != "forged"
        comment_id = row.id
        rep = db.session.execute(sa.select(TypoReport)).scalar_one()
        assert rep.status == "new" and rep.site_id != 999 and rep.reporter_hash != "forged"
    headers = staff.headers("admin")
    response = client.post(f"/api/v1/moderation/comments/{comment_id}/approve", json={"bogus": 1},
                           headers=headers)
    assert response.status_code == 200
    flag = {"site": "test-site", "reason": "spam", "client_id": new_client_id(), "weight": 100}
    assert post(client, f"/api/v1/comments/{comment_id}/flags", flag).status_code == 202
    drain()
    with open_app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(CommentFlag)).scalar_one() == 1


@pytest.mark.parametrize("site_key", ["test-site\x00", "\x00", "s" * 65, "<script>", "тест"])
def test_hostile_site_keys_are_400_or_403_never_500(open_app, site_key):
    client = open_app.test_client()
    for path, make in (("/api/v1/comments", comment_payload), ("/api/v1/reports", report_payload)):
        response = post(client, path, make(site=site_key))
        if site_key == "test-site\x00":  # the control character is removed: the real site
            assert response.status_code == 202
        else:
            assert response.status_code in (400, 403), response.get_json()


def test_flags_and_moderation_api_are_json_only_and_capped(open_app, staff):
    client = open_app.test_client()
    headers = staff.headers("admin")
    assert client.post("/api/v1/comments/1/flags", data="site=x", content_type="text/plain").status_code == 415
    big = json.dumps({"site": "test-site", "reason": "spam", "client_id": new_client_id(),
                      "pad": "x" * open_app.config["MAX_CONTENT_LENGTH"]})
    assert client.post("/api/v1/comments/1/flags", data=big, content_type="application/json").status_code == 413
    response = client.post("/api/v1/moderation/comments/1/reject", data="reason=x", content_type="text/plain",
                           headers=headers)
    assert response.status_code == 415
    response = client.post("/api/v1/moderation/comments/1/reject", data=big, content_type="application/json",
                           headers=headers)
    assert response.status_code == 413


def test_our_own_set_is_big_enough_and_loaded():
    own = own_payloads()
    assert len(own) >= 80
    assert "<script>window.__xss=1</script>" in own and "{{7*7}}" in own
    assert not any(p.lstrip().startswith("#") or not p.strip() for p in own)


def test_moderators_text_follows_the_same_rules(open_app, drain, staff):
    """Reasons, edited bodies and corrections: NFC, control characters removed (a NUL would be a
    500 on PostgreSQL), never a 500."""
    client = open_app.test_client()
    assert post(client, "/api/v1/comments", comment_payload()).status_code == 202
    assert post(client, "/api/v1/reports", report_payload()).status_code == 202
    drain()
    with open_app.app_context():
        comment_id = db.session.execute(sa.select(Comment.id)).scalar_one()
        from moderation.models import ReportCluster  # noqa: PLC0415
        cluster_id = db.session.execute(sa.select(ReportCluster.id)).scalar_one()
    headers = staff.headers("admin")
    response = client.post(f"/api/v1/moderation/comments/{comment_id}/fix", headers=headers,
                           json={"body": "Cafe\u0301\x00 line\n\tnext\x1b", "reason": "ty\x00po\x85"})
    assert response.status_code == 200, response.get_json()
    response = client.post(f"/api/v1/moderation/clusters/{cluster_id}/fix", headers=headers,
                           json={"correction": "объ\x00явил", "reason": "\x07"})
    assert response.status_code == 200, response.get_json()
    with open_app.app_context():
        comment = db.session.get(Comment, comment_id)
        assert comment.body_raw == "Café line\n\tnext" and comment.decision_reason == "typo"
        cluster = db.session.get(ReportCluster, cluster_id)
        assert cluster.correction == "объявил" and cluster.decision_reason is None
