"""Reader input validation (moderation.validators; pure functions, no app needed)."""
import pytest

from moderation.validators import (
    validate_client_id,
    validate_comment,
    validate_report,
    validate_url,
)

from support.payloads import ARTICLE, comment_payload, report_payload


def errors_of(validate, payload):
    return validate(payload)[1]


# -- reports ----------------------------------------------------------------------

def test_valid_report_is_cleaned_and_defaulted():
    payload = report_payload(
        url=ARTICLE + "?utm_source=tg#top", exact="  обьявил \n  вчера ", prefix="Вчера   мэр "
    )
    values, errors = validate_report(payload)
    assert errors == {}
    assert values["url"] == ARTICLE
    assert values["exact"] == "обьявил вчера"
    assert values["prefix"] == "Вчера мэр "  # spaces collapsed, the edge kept
    assert values["kind"] == "typo"
    assert values["position"] is None
    assert values["comment"] is None
    assert values["site"] == "test-site"


def test_report_without_prefix_and_suffix_gets_empty_context():
    payload = report_payload()
    del payload["prefix"], payload["suffix"]
    values, errors = validate_report(payload)
    assert errors == {}
    assert values["prefix"] == values["suffix"] == ""


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"exact": None}, "exact"),
        ({"exact": ""}, "exact"),
        ({"exact": "   "}, "exact"),
        ({"exact": 42}, "exact"),
        ({"exact": "я" * 301}, "exact"),
        ({"prefix": "п" * 65}, "prefix"),
        ({"prefix": ["Вчера"]}, "prefix"),
        ({"suffix": "с" * 65}, "suffix"),
        ({"suggestion": "x" * 601}, "suggestion"),
        ({"comment": "x" * 1001}, "comment"),
        ({"comment": {"text": "x"}}, "comment"),
        ({"kind": "bug"}, "kind"),
        ({"position": -1}, "position"),
        ({"position": 10**7}, "position"),
        ({"position": "12"}, "position"),
        ({"position": True}, "position"),
        ({"position": 1.5}, "position"),
        ({"site": ""}, "site"),
        ({"site": 7}, "site"),
        ({"url": None}, "url"),
        ({"client_id": None}, "client_id"),
    ],
)
def test_report_field_errors(overrides, field):
    assert set(errors_of(validate_report, report_payload(**overrides))) == {field}


@pytest.mark.parametrize(
    "overrides",
    [
        {"exact": "я" * 300},
        {"prefix": "п" * 64, "suffix": "с" * 64},
        {"comment": "x" * 1000},
        {"suggestion": "x" * 600},
        {"kind": "fact"},
        {"kind": "other"},
        {"position": 0},
        {"position": 10**7 - 1},
    ],
)
def test_report_limits_are_inclusive(overrides):
    values, errors = validate_report(report_payload(**overrides))
    assert errors == {}
    for name, value in overrides.items():
        assert values[name] == value


def test_report_errors_are_all_reported_at_once():
    errors = errors_of(validate_report, {"kind": "bug", "exact": ""})
    assert set(errors) == {"site", "url", "client_id", "exact", "kind"}
    assert all(isinstance(reason, str) and reason for reason in errors.values())


# -- comments ---------------------------------------------------------------------

def test_valid_comment_is_cleaned():
    payload = comment_payload(
        author="  Анна\x07  Петрова ", title=" Новая  линия ", email=" anna@mail.example ",
        parent=17, unknown="ignored",
    )
    values, errors = validate_comment(payload)
    assert errors == {}
    assert values["author"] == "Анна Петрова"
    assert values["title"] == "Новая линия"
    assert values["email"] == "anna@mail.example"
    assert values["parent"] == 17
    assert values["honeypot"] is False
    assert "unknown" not in values


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"author": ""}, "author"),
        ({"author": "   "}, "author"),
        ({"author": None}, "author"),
        ({"author": "а" * 81}, "author"),
        ({"body": ""}, "body"),
        ({"body": "\x00\x07"}, "body"),
        ({"body": "б" * 5001}, "body"),
        ({"body": 5}, "body"),
        ({"title": "т" * 301}, "title"),
        ({"email": "not-an-address"}, "email"),
        ({"email": "two@@ats.example"}, "email"),
        ({"email": "no-dot@localhost"}, "email"),
        ({"email": "<script>@x.example"}, "email"),
        ({"email": "a@" + "b" * 250 + ".example"}, "email"),
        ({"email": 42}, "email"),
        ({"parent": 0}, "parent"),
        ({"parent": -3}, "parent"),
        ({"parent": "17"}, "parent"),
        ({"parent": True}, "parent"),
        ({"parent": 1.0}, "parent"),
    ],
)
def test_comment_field_errors(overrides, field):
    assert set(errors_of(validate_comment, comment_payload(**overrides))) == {field}


@pytest.mark.parametrize(
    "overrides",
    [{"author": "а" * 80}, {"body": "б" * 5000}, {"title": "т" * 300}, {"author": "Я"}],
)
def test_comment_limits_are_inclusive(overrides):
    assert errors_of(validate_comment, comment_payload(**overrides)) == {}


@pytest.mark.parametrize("empty", [None, ""])
def test_optional_comment_fields_may_be_empty(empty):
    values, errors = validate_comment(comment_payload(email=empty, parent=empty, title=empty))
    assert errors == {}
    assert values["email"] is values["parent"] is values["title"] is None


@pytest.mark.parametrize(
    "hp, caught", [(None, False), ("", False), ("   ", False), ("http://spam", True), (1, True)]
)
def test_honeypot_is_flagged_but_never_an_error(hp, caught):
    values, errors = validate_comment(comment_payload(hp=hp))
    assert errors == {}
    assert values["honeypot"] is caught


# -- client_id and url --------------------------------------------------------------

@pytest.mark.parametrize(
    "value",
    ["3f2b8c1e-7a4d-4c2e-9b1a-0d6e5f4a3b2c", "abcd1234", "a" * 64, "A_b-C_d-1"],
)
def test_client_id_accepted(value):
    assert validate_client_id(value) == (True, None, value)


@pytest.mark.parametrize(
    "value",
    [None, 12345678, "", "abc1234", "a" * 65, "-abcdefgh", "_abcdefgh", "abcd 1234", "abcd/1234",
     "абвгдежз",
     # `$` in the pattern also matches before a final newline: these must still fail
     "abcd1234\n", "a" * 64 + "\n"],
)
def test_client_id_rejected(value):
    ok, reason, _ = validate_client_id(value)
    assert not ok
    assert "client_id" in reason


def test_validate_url_normalizes():
    assert validate_url(ARTICLE + "#comments") == (True, None, ARTICLE)


@pytest.mark.parametrize(
    "value",
    [None, "", "   ", 7, "ftp://news.example/a", "javascript:alert(1)", "/relative/path",
     "https://news.example/" + "a" * 2048],
)
def test_validate_url_rejects(value):
    ok, reason, normalized = validate_url(value)
    assert not ok and normalized is None
    assert reason.startswith("url ")


@pytest.mark.parametrize("control", ["\u202e", "\u202a", "\u202b", "\u202c", "\u202d", "\u2066", "\u2067",
                                     "\u2068", "\u2069", "\u200e", "\u200f", "\u061c", "\u200b", "\u2060",
                                     "\ufeff", "\u00ad"])
def test_names_and_titles_lose_bidi_controls_and_invisible_format_characters(control):
    values, errors = validate_comment(comment_payload(author=f"Editor{control} ffats", title=f"Мэр{control}ия"))
    assert errors == {}
    assert values["author"] == "Editor ffats" and values["title"] == "Мэрия"


def test_single_line_cleaning_keeps_joiners_and_the_text_around_them():
    # ZWNJ in a Persian name, ZWJ in an emoji sequence: meaningful, never a reordering.
    values, _ = validate_comment(comment_payload(author="\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 \U0001F468\u200d\U0001F469"))
    assert "\u200c" in values["author"] and "\u200d" in values["author"]
    values, errors = validate_comment(comment_payload(author="\u202e\u2066"))
    assert errors == {"author": "author is required"}  # nothing visible left: refused, not stored blank


def test_a_removed_format_character_leaves_the_name_in_nfc():
    values, _ = validate_comment(comment_payload(author="Rene\u200b\u0301e"))
    assert values["author"] == "Ren\u00e9e"
