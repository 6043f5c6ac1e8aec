"""Comment authors whose name imitates staff: held for a moderator, marked on the item.

A reader who signs "Редакция", "Admin", "Mоderator" (Cyrillic о) or the local part of a
staff e-mail ("a.petrova" for a.petrova@newsroom.kz) speaks with the newsroom's voice.
Nothing is wrong with the text, so this never sends to Spam: it holds the comment with
the reason IMITATES_STAFF, which the dashboard shows as a marker.

Names are compared folded (`fold`): NFKC, casefolded, Cyrillic and Greek letters that look
like Latin ones written as the Latin letter (and 0/1 as o/l), everything but letters and
digits removed. Bidi controls never reach here (sanitizer.clean_line strips them on input).
"""
import unicodedata

import sqlalchemy as sa

IMITATES_STAFF = "name imitates staff"

# Role words in English, Russian and Kazakh ("редакция", "модератор" are the same in both).
ROLE_WORDS = ("admin", "administrator", "editor", "moderator", "staff", "support",
              "редакция", "редактор", "модератор", "администратор", "админ", "әкімші", "әкімшілік")
# Staff e-mail local parts shorter than this (after folding) are not names: "a@…", "ab@…".
MIN_NAME = 3

# Look-alikes folded to one letter (after casefold): Cyrillic, Greek, Latin variants, digits.
_LOOKALIKES = str.maketrans({
    "а": "a", "ә": "a", "в": "b", "с": "c", "ԁ": "d", "е": "e", "ё": "e", "һ": "h", "н": "h",
    "і": "l", "ї": "l", "ӏ": "l", "ј": "j", "к": "k", "қ": "k", "м": "m", "о": "o", "ө": "o",
    "р": "p", "ԛ": "q", "ѕ": "s", "т": "t", "у": "y", "ү": "y", "ұ": "y", "х": "x", "ԝ": "w",
    "ɑ": "a", "ı": "l", "i": "l", "ℓ": "l", "0": "o", "1": "l", "|": "l",
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "l", "κ": "k", "μ": "m", "ν": "v", "ο": "o",
    "ρ": "p", "τ": "t", "υ": "y", "χ": "x",
})


def fold(name):
    """The skeleton two names share when they look alike: "Mоdеrаtоr" and "moderator"."""
    text = unicodedata.normalize("NFKC", name or "").casefold()
    text = "".join(ch for ch in text if ch.isalnum() or ch == "|")
    return text.translate(_LOOKALIKES)


_ROLES = frozenset(fold(word) for word in ROLE_WORDS)


def staff_keys():
    """Folded names of the active staff (their e-mail local parts) and the role words."""
    from ..extensions import db  # noqa: PLC0415 - the worker's app context
    from ..models import User  # noqa: PLC0415

    emails = db.session.execute(sa.select(User.email).where(User.active.is_(True))).scalars()
    names = {fold(email.partition("@")[0]) for email in emails}
    return _ROLES | {name for name in names if len(name) >= MIN_NAME}


def imitates_staff(author, keys):
    """True if `author` folds to a staff name or a role word in `keys` (staff_keys())."""
    return bool(author) and fold(author) in keys
