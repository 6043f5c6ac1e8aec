"""same_spot(): when two TextQuoteSelectors point at one spot of an article."""
import pytest

from moderation.judgment.anchors import same_spot

A = ("Вчера мэр ", "обьявил", " о запуске трамвая")


@pytest.mark.parametrize("other", [
    ("чера мэр ", "обьявил", " о запуске"),  # shorter context
    ("Вчера  МЭР\n", "Обьявил", " о  запуске"),  # spacing and case
    ("Вчера ", "мэр обьявил", " о запуске"),  # wider selection
    ("Вчера мэр обь", "явил о", " запуске трамвая"),  # overlapping selection
    ("Совсем другой абзац выше. Вчера мэр ", "обьявил", " о запуске"),  # far context differs
])
def test_same_spot(other):
    assert same_spot(A, other) and same_spot(other, A)


@pytest.mark.parametrize("other", [
    ("Сегодня губернатор ", "обьявил", " о закрытии"),  # the same word elsewhere
    ("Вчера мэр ", "обьявил", " о закрытии моста"),  # the suffix next to it differs
    ("", "обьявил", ""),  # no context to tell occurrences apart
    ("Вчера мэр обьявил о ", "запуске", " трамвая"),  # next to it, not overlapping
])
def test_other_spot(other):
    assert not same_spot(A, other) and not same_spot(other, A)


def test_context_on_opposite_sides_only_is_not_enough():
    assert not same_spot(("мэр ", "обьявил", ""), ("", "обьявил", " о запуске"))
