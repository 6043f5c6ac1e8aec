"""Spelling suggestions for error reports nobody suggested a fix for.

pyspellchecker (Peter Norvig's edit-distance method over word-frequency lists; it ships
Russian and English) proposes a correction for a one- or two-word selection. It runs in
the worker, once per new cluster (`moderation.jobs.persist`), never in the request: an
unknown word costs about 1 ms (one edit deep, see `correct_word`). Dictionaries are
loaded once per process and words are memoized, so a word many readers report costs once.

The answer is shown to editors marked as machine-made; it never becomes a correction by
itself.
"""
import functools
import logging
import re
import threading

# A word: letters only (digits, underscores excluded); "кое-как" counts as two words.
WORD = re.compile(r"[^\W\d_]+")
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
LATIN = re.compile(r"[a-zA-Z\u00c0-\u024f]")
# Letters of Kazakh that Russian lacks: pyspellchecker has no Kazakh dictionary, and the
# Russian one would "correct" Kazakh words into Russian ones.
KAZAKH = re.compile(r"[әғқңөұүһіӘҒҚҢӨҰҮҺІ]")
MAX_WORDS = 2
# Languages whose word list lacks many inflected forms: edits of the ending are not offered.
INFLECTED = {"ru"}
ENDING = 2
MAX_WORD_LENGTH = 40

log = logging.getLogger(__name__)
_checkers = {}
_lock = threading.Lock()


def checker(language):
    """The SpellChecker for "ru" or "en", loaded once per process."""
    found = _checkers.get(language)
    if found is None:
        with _lock:
            found = _checkers.get(language)
            if found is None:
                from spellchecker import SpellChecker  # noqa: PLC0415 - web processes never load it

                found = _checkers[language] = SpellChecker(language=language, distance=1)
    return found


def language_of(word, site_language=None):
    """Dictionary for a word by its script: Cyrillic → ru, Latin → en; None when unsure.

    Cyrillic on a Kazakh site, Kazakh letters, or mixed scripts get no dictionary.
    """
    cyrillic, latin = bool(CYRILLIC.search(word)), bool(LATIN.search(word))
    if cyrillic == latin:
        return None
    if latin:
        return "en"
    if KAZAKH.search(word) or site_language == "kk":
        return None
    return "ru"


@functools.lru_cache(maxsize=8192)
def correct_word(word, language):
    """Lower-case correction of one lower-case word, or None if it is known or hopeless.

    Only one edit away (insert, delete, replace or swap two neighbours), the most
    frequent candidate first. Two edits were tried and dropped: the search costs
    ~0.6 s for an 8-letter English word (a flood of unique junk words would stall the
    drain job), and in Russian, whose list lacks many inflected forms, two edits from
    one of them too often reach an unrelated word ("трамвая" → "травма").
    """
    spell = checker(language)
    if spell.known([word]):
        return None
    candidates = spell.known(spell.edit_distance_1(word))
    if language in INFLECTED:
        candidates = {c for c in candidates if not _only_ending_differs(word, c)}
    if not candidates:
        return None
    best = max(sorted(candidates), key=spell.word_usage_frequency)
    return best if best != word else None


def _only_ending_differs(word, candidate):
    """True when the edit touches only the last ENDING letters: in Russian that is far more
    often another case or number missing from the list ("вагоны" → "вагон") than a typo."""
    common = 0
    for a, b in zip(word, candidate):
        if a != b:
            break
        common += 1
    return common >= max(len(word), len(candidate)) - ENDING


def _match_case(original, suggestion):
    if original.isupper() and len(original) > 1:
        return suggestion.upper()
    if original[:1].isupper():
        return suggestion[:1].upper() + suggestion[1:]
    return suggestion


def suggest(text, site_language=None):
    """A corrected `text` (one or two words), keeping its case and punctuation; or None."""
    text = text or ""
    words = list(WORD.finditer(text))
    if not 1 <= len(words) <= MAX_WORDS:
        return None
    out, last, changed = [], 0, False
    for match in words:
        word = match.group()
        replacement = word
        # All capitals: an acronym (НАТО, NASA) more often than a typo.
        if len(word) <= MAX_WORD_LENGTH and not (word.isupper() and len(word) > 1):
            language = language_of(word, site_language)
            fixed = correct_word(word.lower(), language) if language else None
            if fixed:
                replacement, changed = _match_case(word, fixed), True
        out.append(text[last:match.start()])
        out.append(replacement)
        last = match.end()
    out.append(text[last:])
    return "".join(out) if changed else None


def for_report(payload, site_language=None):
    """The machine suggestion for a new cluster's first report: only when the reader
    suggested nothing (or repeated the selection)."""
    exact = payload.get("exact") or ""
    reader = (payload.get("suggestion") or "").strip()
    if reader and reader != exact.strip():
        return None
    try:
        return suggest(exact, site_language)
    except Exception:  # a nicety: never let it fail the batch that stores the report
        log.exception("spelling suggestion failed for %r", exact)
        return None
