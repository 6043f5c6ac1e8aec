"""Default word lists per language, compiled by us for news comment sections.

"banned" words send a comment to Spam (they are almost never legitimate in a
news comment: spam offers, scam bait, the crudest slurs); "suspect" words only
hold it for a human even on post-moderated sites (insults and bait that are
sometimes quoted or used fairly, and words that also have a harmless meaning:
"xxx" signs off with kisses, "закладка" is a bookmark or a foundation stone, a
reader may "work from home"). Sites add their own words in the dashboard.
Matching is on whole words, case-insensitive; a trailing `*` matches a prefix.
"""
import re

BANNED = {
    "en": [
        "viagra", "cialis", "casino*", "porn*", "escort*", "bitcoin doubler", "crypto giveaway",
        "make money fast", "earn $*", "buy followers", "cheap pills",
        "onlyfans", "telegram me", "whatsapp me", "loan offer*",
    ],
    "ru": [
        "виагр*", "казино", "казино*", "порно*", "эскорт*", "быстрый заработок",
        "заработок в интернете", "пишите в телеграм", "пишите в whatsapp", "займ без отказа", "кредит без справок",
        "накрутка подписчиков",
    ],
    "kk": [
        "казино*", "порно*", "тез табыс", "интернетте табыс", "несие берем", "телеграмға жазыңыз",
        "ставка жасаңыз",
    ],
}

SUSPECT = {
    "en": ["idiot*", "moron*", "stupid", "scum", "traitor*", "kill yourself", "retard*", "liar*", "fake news",
           "xxx", "work from home", "click here"],
    "ru": ["идиот*", "дебил*", "дурак*", "тупой", "тупая", "мразь", "мрази", "предател*", "сдохни", "урод*",
           "подонк*", "подонок", "твар*", "ублюд*",
           "ставки на спорт", "интим*", "закладк*"],
    "kk": ["ақымақ*", "малғұн*", "сатқын*", "оңбаған*", "есек*", "букмекер*"],
}

# -- the rules for a site's own entries (dashboard → Sites → Screening) -----------------
# One source for these limits: the screening form, its body limit (rules_views) and the
# docs derive from them.
MAX_WORDS = 2000  # entries per list
MAX_WORD_CHARS = 100  # characters per entry (a phrase such as "заработок в интернете" is one entry)
MIN_LETTERS = 2  # letters (word characters) in an entry: "a" or "+" alone would match nearly every comment
MIN_STEM_LETTERS = 3  # letters before a trailing `*`: "x*" matches every word starting with x
_LETTER = re.compile(r"\w")


def validate_word(entry):
    """Why `entry` (already stripped) cannot be a banned or suspect word, or None if it can.

    The reason is a (code, number) pair: "long" (more than MAX_WORD_CHARS characters),
    "star" (a `*` anywhere but at the end), "stem" (fewer than MIN_STEM_LETTERS letters
    before the `*`), "short" (fewer than MIN_LETTERS letters); the number is the limit.
    Matching is on whole words with `\\w` boundaries (screening._word_pattern), so a
    short entry or stem matches inside almost every comment and sends it to Spam.
    """
    if len(entry) > MAX_WORD_CHARS:
        return "long", MAX_WORD_CHARS
    stem, star = (entry[:-1], True) if entry.endswith("*") else (entry, False)
    if "*" in stem:
        return "star", 0
    letters = len(_LETTER.findall(stem))
    if star and letters < MIN_STEM_LETTERS:
        return "stem", MIN_STEM_LETTERS
    if letters < MIN_LETTERS:
        return "short", MIN_LETTERS
    return None
