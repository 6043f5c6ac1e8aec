"""Comment screening in the worker: each step in order, each decision with a reason.

0 the reader's ban, 1 honeypot and form timing, 2 blocked commenters, 3 banned and suspect words
(and a name that imitates staff, moderation.judgment.staff_names), 4 links, 5 velocity and repeats, 6 the spam model, 7 trusted commenters, 8
surge mode (the article itself, see moderation.judgment.surge). The result is a
status (spam, rejected, pending, approved), the model's score and the
human-readable reasons a moderator sees on the item.

A reader's ban rejects (the reader is told "not published", nothing more); a reader the
moderators always pre-moderate is held; a reader they trust skips pre-moderation like a
commenter with a trusted history. History, velocity and repeats are the reader's
(moderation.judgment.recent), not their address's.

Spam is only for evidence that holds: a filled honeypot, a banned word, the same
text repeated by the same reader (address hash and e-mail hash) on other
articles, the same text from several readers within minutes (a bot wave), or
the model where it has earned it on this site (moderation.judgment.autonomy).
Everything else that looks wrong is held for a moderator with its reason. Short
texts ("Спасибо", "+1", "Рахмет", ":)") never count as repeats: many readers
write them, and one reader writes them under many articles.
"""
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from ..privacy import hash_value
from . import autonomy, staff_names, surge, wordlists
from .recent import Recent, Subject

DEFAULTS = {
    "use_default_words": True,
    "banned_words": [],
    "suspect_words": [],
    "max_links": 2,  # more than this many links: hold
    "min_seconds": 3,  # a form sent faster than this is suspect: hold
    "velocity_count": 3,  # this many comments ...
    "velocity_seconds": 60,  # ... within this many seconds from one reader: hold
    "repeat_hours": 24,  # the same (not short) text from this reader on other articles within this window
    "wave_readers": 3,  # the same (not short) text from this many readers ...
    "wave_minutes": 10,  # ... within this many minutes: a bot wave, spam
    "trusted_after": 3,  # approved comments, none rejected: skip pre-moderation
    # The model never sends to Spam below this score; above it, only at the threshold it
    # has earned on this site (autonomy.py), and only once it has earned one.
    "auto_spam": 0.8,
    "hold_score": 0.5,  # model score at or above: Pending
    # Flagged comments (enough reader flags) stay on the article until a moderator decides.
    "flagged_visible": False,
    **surge.DEFAULTS,
}

_LINK = re.compile(r"(?:https?://|www\.)\S+|\b[\w-]+\.(?:com|ru|kz|net|org|info|biz|xyz|top|io)\b", re.I)
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"\w+")
# At most this many words and no link: a short, common text that never counts as a repeat.
# Per language (site.language); Kazakh words carry more per word (agglutination).
SHORT_WORDS = {"ru": 5, "kk": 4, "en": 5}
SHORT_WORDS_DEFAULT = 5
# Every reason that sends a comment to Spam on the model's word alone starts so (the
# learning job recognises a "Not spam" on such a comment by it).
MODEL_SPAM = "spam model: auto-spam"
PREMODERATED = "reader always pre-moderated (moderator's decision)"
TRUSTED_READER = "trusted reader (moderator's decision)"


def is_short(body, language=None, links=None):
    """A few words and no link: "Спасибо", "Согласен", "Позор!", "+1", "Like", ":)", "Рахмет".
    `links`: the body's number of _LINK matches when the caller counted them already."""
    if links if links is not None else _LINK.search(body):
        return False
    return len(_WORD.findall(body)) <= SHORT_WORDS.get(language or "", SHORT_WORDS_DEFAULT)


def settings_of(site):
    merged = dict(DEFAULTS)
    merged.update(site.settings or {})
    return merged


def body_hash(body):
    """Whitespace- and case-insensitive fingerprint of a comment body (cross-article repeats)."""
    return hashlib.sha256(_SPACES.sub(" ", body).strip().lower().encode("utf-8")).hexdigest()


def _word_pattern(words):
    alternatives = []
    for word in words:
        word = word.strip().lower()
        if not word:
            continue
        if word.endswith("*"):
            alternatives.append(re.escape(word[:-1]) + r"\w*")
        else:
            alternatives.append(re.escape(word))
    if not alternatives:
        return None
    return re.compile(r"(?<!\w)(" + "|".join(alternatives) + r")(?!\w)", re.I)


_patterns = {}
# Every language's default list: a Kazakh site gets Russian spam too, and spam words
# are not legitimate in any language of the site.
_DEFAULT_WORDS = {
    "banned": tuple(word for words in wordlists.BANNED.values() for word in words),
    "suspect": tuple(word for words in wordlists.SUSPECT.values() for word in words),
}


def _words(conf, kind):
    """Compiled pattern for a site's banned or suspect words (the defaults + its own); `conf`
    is the site's settings_of()."""
    own = tuple(conf[f"{kind}_words"] or ())
    defaults = _DEFAULT_WORDS[kind] if conf["use_default_words"] else ()
    key = (kind, own, defaults)
    if key not in _patterns:
        _patterns[key] = _word_pattern(own + defaults)
    return _patterns[key]


@dataclass
class Verdict:
    status: str
    score: float | None = None
    reasons: list = field(default_factory=list)
    body_hash: str | None = None  # the fingerprint screening used; stored with the comment


@dataclass
class Screen:
    """Accumulates the steps' findings; the first final decision (spam, reject) stands."""

    final: str | None = None
    hold: bool = False
    reasons: list = field(default_factory=list)

    def decide(self, status, reason):
        self.reasons.append(reason)
        if self.final is None:
            self.final = status

    def hold_for(self, reason):
        self.reasons.append(reason)
        self.hold = True


def subjects_of(items):
    """[(payload, site, page[, reader]), ...] -> the Subjects the batch lookups need. `reader`:
    the comment's models.Reader (services.readers.resolve_readers), None or absent without one."""
    return [
        Subject(payload=payload, site=site, conf=settings_of(site), page=page,
                reporter=payload.get("reporter_hash"),
                email_hash=hash_value(payload["email"]) if payload.get("email") else None,
                body_hash=body_hash(payload["body"]), reader_row=reader[0] if reader else None)
        for payload, site, page, *reader in items
    ]


def ban_reason(ban):
    """The moderator's view of a ban-rejected comment: "banned until …" (and why, and through
    whom for a ban that follows a banned reader's e-mail or address)."""
    until = "lifted" if ban.until_lifted else f"{ban.until:%Y-%m-%d %H:%M} UTC"
    through = {"email": " (the e-mail of a banned reader)", "address": " (the address of a banned reader)"}
    reason = f"banned until {until}{through.get(ban.by, '')}"
    return f"{reason}: {ban.reason}" if ban.reason else reason


def screen_all(items, now=None, scores=None):
    """Verdicts for [(payload, site, page[, reader]), ...], in order, as if stored one by one.

    The database is read once per kind for the whole batch (`Recent`) and the
    spam model scores the batch in one call; each decided comment is then
    counted for the ones after it (velocity, repeats, history, surge). `scores`: the
    model's scores of these comments (model_scores), when the caller took them already.
    """
    now = now or datetime.now(timezone.utc)
    subjects = subjects_of(items)
    recent = Recent(subjects, now)
    if scores is None:
        scores = model_scores([(s.payload["author"], s.payload["body"]) for s in subjects])
    staff = staff_names.staff_keys() if subjects else frozenset()
    verdicts = []
    for subject, score in zip(subjects, scores):
        verdict = screen(subject, recent, score, now, staff)
        verdict.body_hash = subject.body_hash
        recent.record(subject, verdict.status)
        verdicts.append(verdict)
    return verdicts


def screen(subject, recent, score, now, staff=frozenset()):
    """Run the steps for one comment about to be stored. Returns a Verdict.

    `recent` answers the lookups (see moderation.judgment.recent); `score` is
    the spam model's, None while no model is ready; `staff` the folded staff names
    (staff_names.staff_keys()). The article's surge state is checked and updated too.
    """
    conf, site, payload = subject.conf, subject.site, subject.payload
    result = Screen()
    body, author = payload["body"], payload["author"]
    reporter = subject.reporter
    reader = subject.reader_row

    # 0. A banned reader: rejected, whatever else (they are told "not published", no more).
    if ban := recent.ban_of(subject):
        result.decide("rejected", ban_reason(ban))

    # 1. Honeypot and form timing.
    if payload.get("honeypot"):
        result.decide("spam", "honeypot field filled")
    elapsed = payload.get("elapsed_ms")
    if isinstance(elapsed, int) and elapsed < conf["min_seconds"] * 1000:
        result.hold_for(f"sent {elapsed / 1000:.1f} s after the form was shown")

    # 2. Blocked commenters (by address hash or e-mail hash, this site or all sites).
    for kind, value in (("address", reporter), ("email", subject.email_hash)):
        if recent.is_blocked(kind, value, site.id):
            result.decide("rejected", f"blocked commenter ({kind})")

    # 3. Banned and suspect words.
    text = f"{author}\n{body}"
    banned = _words(conf, "banned")
    if banned and (hit := banned.search(text)):
        result.decide("spam", f"banned word: {hit.group(1).lower()}")
    suspect = _words(conf, "suspect")
    if suspect and (hit := suspect.search(text)):
        result.hold_for(f"suspect word: {hit.group(1).lower()}")
    if staff_names.imitates_staff(author, staff):
        result.hold_for(staff_names.IMITATES_STAFF)

    # 4. Links.
    approved, rejected = recent.record_of(subject)
    links = len(_LINK.findall(body))
    if links > conf["max_links"]:
        result.hold_for(f"{links} links (more than {conf['max_links']})")
    elif links and approved == 0:
        result.hold_for("a link from a first-time commenter")

    # 5. Velocity from one reader; the same text elsewhere (never for short texts).
    if (count := recent.recent_count(subject)) >= conf["velocity_count"]:
        source = "one address (a new anonymous reader)" if recent.counted_by_address(subject) else "one reader"
        result.hold_for(f"{count + 1} comments within {conf['velocity_seconds']} s from {source}")
    if not is_short(body, site.language, links):
        _repeats(result, conf, recent.repeats(subject, now, conf["wave_minutes"]), links)

    # 6. The spam model, trained by this newsroom's decisions; Spam only where it has earned it.
    if score is not None:
        state = recent.autonomy.get(site.id)
        threshold = autonomy.auto_spam_threshold(state, conf["auto_spam"])
        if threshold is not None and score >= threshold:
            _, spam, harmless, bound = autonomy.earned_threshold(state.curve, conf["auto_spam"])
            result.decide("spam", f"{MODEL_SPAM}, score {score:.2f} (spam at {threshold:.2f} and above: "
                                  f"{100 * spam / (spam + harmless):.1f} % precise on this site's last "
                                  f"{state.evaluated} decisions, proven at least {100 * bound:.1f} %)")
        elif score >= conf["hold_score"]:
            why = "" if threshold is None else f"; auto-spam at {threshold:.2f}"
            result.hold_for(f"spam model score {score:.2f} (hold at {conf['hold_score']:.2f}{why})")

    # 8. Surge mode: counted for every comment (spam included), it holds the rest.
    if held := surge.check(subject.page, conf, now, recent.article_counts(subject.page.id)):
        if not result.final:
            result.hold_for(held)

    # 7. The moderators' word on this reader: always held (they are not told), or trusted.
    if reader is not None and reader.premoderate:
        result.hold_for(PREMODERATED)

    if result.final:
        return Verdict(result.final, score, result.reasons)
    if result.hold:
        return Verdict("pending", score, result.reasons)
    # 7. Trusted commenters skip pre-moderation.
    if site.moderation_mode == "post":
        return Verdict("approved", score, result.reasons)
    if reader is not None and reader.trusted:
        return Verdict("approved", score, result.reasons + [TRUSTED_READER])
    if approved >= conf["trusted_after"] and rejected == 0:
        return Verdict("approved", score, result.reasons + [f"trusted commenter ({approved} approved)"])
    return Verdict("pending", score, result.reasons)


def _repeats(result, conf, found, links):
    """Step 5's repeat rules for a text that is not short; `found` is Recent.repeats()."""
    mine, wave, theirs = found
    hours = conf["repeat_hours"]
    if mine and (links or mine >= 2):
        what = "the same text with a link" if links else "the same text"
        result.decide("spam", f"{what} from this reader on {mine} other article(s) within {hours} h")
    elif mine:
        result.hold_for(f"the same text from this reader on another article within {hours} h")
    if wave >= conf["wave_readers"]:
        result.decide("spam", f"bot wave: the same text from {wave} readers within {conf['wave_minutes']} min")
    elif theirs:
        result.hold_for(f"the same text from another reader on {theirs} other article(s) within {hours} h")


def model_scores(pairs):
    """The spam model's score of each (author, body), None for each while no model is ready."""
    try:
        from .spam_model import score_many  # noqa: PLC0415 - optional until a model exists
    except ImportError:
        return [None] * len(pairs)
    scores = score_many(pairs)
    return [None] * len(pairs) if scores is None else scores
