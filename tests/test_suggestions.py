"""Spelling suggestions (pyspellchecker's real ru/en dictionaries) for error reports
nobody suggested a fix for: the function, then end to end through API, worker and
moderation API."""
import pytest

from moderation.judgment import suggestions
from moderation.judgment.suggestions import for_report, language_of, suggest

from support.payloads import report_payload


API = "/api/v1/moderation"


@pytest.mark.parametrize("wrong, right", [
    ("превет", "привет"),
    ("сдесь", "здесь"),
    ("колличество", "количество"),
    ("извените", "извините"),
    ("симпотичный", "симпатичный"),
    ("будующий", "будущий"),
])
def test_common_russian_misspellings(wrong, right):
    assert suggest(wrong, "ru") == right


@pytest.mark.parametrize("wrong, right", [
    ("recieve", "receive"),
    ("teh", "the"),
    ("definately", "definitely"),
    ("seperate", "separate"),
    ("occured", "occurred"),
])
def test_common_english_misspellings(wrong, right):
    assert suggest(wrong, "en") == right


def test_case_and_punctuation_are_kept():
    assert suggest("Превет,", "ru") == "Привет,"
    assert suggest("Recieve", "en") == "Receive"
    assert suggest("«сдесь»", "ru") == "«здесь»"


def test_two_words_each_corrected_separator_kept():
    assert suggest("превет  сдесь", "ru") == "привет  здесь"
    assert suggest("teh house", "en") == "the house"  # only the wrong word changes


def test_correct_words_get_nothing():
    assert suggest("привет", "ru") is None
    assert suggest("receive the", "en") is None


def test_more_than_two_words_or_no_word_get_nothing():
    assert suggest("превет сдесь превет", "ru") is None
    assert suggest("2026", "ru") is None
    assert suggest("", "ru") is None


def test_acronyms_and_unsafe_guesses_are_left_alone():
    assert suggest("НАТА", "ru") is None  # all capitals: an acronym more often than a typo
    # Inflected forms missing from the small Russian list: two edits would give "травма",
    # one edit of the ending "вагон".
    assert suggest("трамвая", "ru") is None
    assert suggest("вагоны", "ru") is None
    assert suggest("Первые вагоны", "ru") is None
    assert suggest("tommorow", "en") is None  # two edits away: not searched (cost, see correct_word)


def test_language_follows_the_script_of_the_word():
    assert language_of("превет", "en") == "ru"
    assert language_of("recieve", "ru") == "en"
    assert language_of("превeт") is None  # a Latin "e" inside a Cyrillic word
    assert language_of("сдесь", "kk") is None  # no Kazakh dictionary: don't force Russian
    assert language_of("қазақ", "ru") is None
    assert suggest("recieve", "ru") == "receive"


def test_a_reader_suggestion_means_no_machine_suggestion():
    assert for_report({"exact": "превет", "suggestion": "привет!"}, "ru") is None
    assert for_report({"exact": "превет", "suggestion": None}, "ru") == "привет"
    assert for_report({"exact": "превет", "suggestion": "превет"}, "ru") == "привет"


def test_dictionary_is_loaded_once_per_process():
    assert suggestions.checker("ru") is suggestions.checker("ru")
    assert suggestions.checker("en") is not suggestions.checker("ru")


def test_worker_stores_the_suggestion_and_the_moderation_api_shows_it(app, client, site, staff, drain):
    plain = report_payload(exact="Превет", prefix="Мэр сказал: ", suffix=", горожане", suggestion=None)
    helped = report_payload(exact="обьявил", suggestion="объявил")
    for payload in (plain, helped):
        assert client.post("/api/v1/reports", json=payload).status_code == 202
    drain()
    items = client.get(API + "/clusters", headers=staff.headers("editor")).json["items"]
    by_exact = {item["exact"]: item for item in items}
    assert by_exact["Превет"]["machine_suggestion"] == "Привет"
    assert by_exact["Превет"]["suggestions"] == []
    assert by_exact["обьявил"]["machine_suggestion"] is None
    assert by_exact["обьявил"]["suggestions"] == [{"text": "объявил", "count": 1}]


def test_the_dashboard_marks_the_suggestion_as_machine_made_and_prefills_it(app, client, site, drain, auth):
    payload = report_payload(exact="сдесь", prefix="Остановка будет ", suffix=", у вокзала", suggestion=None)
    assert client.post("/api/v1/reports", json=payload).status_code == 202
    drain()
    auth.login(role="editor")
    page = client.get("/dashboard/reports?status=new").get_data(as_text=True)
    assert "Suggested by spell-checker" in page and "data-machine-suggestion" in page
    assert 'name="correction" value="здесь"' in page
