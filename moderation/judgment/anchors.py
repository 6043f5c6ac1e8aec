"""Do two error reports point at the same spot of an article?

A report anchors its selection with a TextQuoteSelector: the selected text
(`exact`) and the text just before and after it (`prefix`, `suffix`). Readers
select a little differently: more or fewer words, extra spaces, other case, one
selection overlapping another. Two reports are the same spot when their
contexts can be laid over each other so that the selections intersect and the
text agrees within CONTEXT_MATCH characters around them. The same word
elsewhere in the article has other surroundings, so it stays a separate spot.
"""
import re
import unicodedata

from ..models.clusters import CONTEXT_MATCH

_SPACES = re.compile(r"\s+")
# Agreeing context needed besides the selections: without it, two occurrences of one
# word could not be told apart.
MIN_CONTEXT = 4


def _norm(text):
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text or "")).lower()


def _normalized(prefix, exact, suffix):
    """Context string and the selection's span in it; outer spaces of the selection go to the context."""
    exact = _norm(exact)
    core = exact.strip()
    lead = exact[: len(exact) - len(exact.lstrip())]
    trail = exact[len(exact.rstrip()):]
    before = _norm(prefix) + lead
    text = (before + core + trail + _norm(suffix))
    # Whitespace runs across the seams collapse too ("мэр " + " обьявил").
    return _collapse(text, len(before), len(before) + len(core))


def _collapse(text, start, end):
    out, mapping = [], []
    for i, ch in enumerate(text):
        if ch == " " and out and out[-1] == " ":
            mapping.append(len(out) - 1)
            continue
        mapping.append(len(out))
        out.append(ch)
    mapping.append(len(out))
    return "".join(out), mapping[start], mapping[end] if end < len(mapping) else len(out)


def _positions(haystack, needle):
    if not needle:
        return
    start = haystack.find(needle)
    while start != -1:
        yield start
        start = haystack.find(needle, start + 1)


def same_spot(a, b):
    """a, b: (prefix, exact, suffix) of two reports on the same page."""
    ca, a0, a1 = _normalized(*a)
    cb, b0, b1 = _normalized(*b)
    if a0 == a1 or b0 == b1:
        return False
    # Candidate alignments: b's selection found in a's context, or a's in b's.
    # An offset d lays cb over ca so that cb[i] sits at ca[i + d].
    offsets = {i - b0 for i in _positions(ca, cb[b0:b1])}
    offsets |= {a0 - i for i in _positions(cb, ca[a0:a1])}
    for d in sorted(offsets, key=abs):
        s0, s1 = b0 + d, b1 + d  # b's selection in a's coordinates
        if max(a0, s0) >= min(a1, s1):
            continue  # the selections do not intersect
        union0, union1 = min(a0, s0), max(a1, s1)
        lo = max(0, d, union0 - CONTEXT_MATCH)
        hi = min(len(ca), d + len(cb), union1 + CONTEXT_MATCH)
        if lo > union0 or hi < union1:
            continue  # one context does not cover the other's selection
        if ca[lo:hi] != cb[lo - d:hi - d]:
            continue
        if (union0 - lo) + (hi - union1) >= MIN_CONTEXT:
            return True
    return False
