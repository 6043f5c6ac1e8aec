"""The only module that turns comment text into HTML: text in, safe HTML out.

A comment is **text**, not HTML. Everything the reader typed is escaped first, so every word
shows exactly as typed (`<b and 5 > 4` is that text, `<script>` the literal word `<script>`):
HTML parsing of reader text lost words (`3 <b and 5 > 4 apples` became `3 <b> 4 apples</b>`,
an unterminated `<a href="…` emptied the body, `<!--` hid the rest). Then the few things a
comment may have are added (README, "Comment markup"):

- a blank line starts a paragraph, a newline is a line break;
- `http://` and `https://` URLs become links, `rel="nofollow ugc noopener"`, new tab;
- `**bold**`, and lines starting with `>` are a quote.

The last step is a safelist pass over the result: only the exact tags above may appear. bleach
(html5lib, pure Python) as that pass cost ~60–230 ms for a body of many short lines (one token
per `<br>` or `<p>`, bench/sanitizer_worst.py); the renderer emits only fixed tag strings, so a
strict regular expression over the output checks the same safelist in well under a millisecond.
If that check ever fails (a bug here), bleach cleans the output with the same safelist.

HTML that really is HTML (a Disqus or WordPress export) goes through `render_html`: bleach, as before.
"""
import html as _html
import logging
import re
import unicodedata

import bleach
from bleach.linkifier import LinkifyFilter

log = logging.getLogger(__name__)

ALLOWED_TAGS = frozenset({"a", "b", "strong", "i", "em", "code", "pre", "blockquote", "p", "br"})
ALLOWED_ATTRIBUTES = {"a": ["href", "rel", "target"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"

_NEWLINES = re.compile(r"\r\n?")
_PARAGRAPH_BREAK = re.compile(r"\n{2,}")
_BLOCK = re.compile(r"<(p|pre|blockquote)\b")
# C0 controls other than tab/newline/CR, DEL, the C1 controls, lone surrogates (JSON can carry
# "\ud800"; no database can store it) and the Unicode non-characters that break XML.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


_ABSOLUTE = re.compile(r"(?:https?://[^/\\\s]|mailto:)", re.IGNORECASE)


def _link_attributes(attrs, new=False):
    """bleach callback: force our rel on every link, and open off-site links in a new tab.

    Only absolute http(s) and mailto links keep their href: a relative one ("x", "/dashboard/…",
    "//host", "\\host") would resolve against whichever page shows the comment (the article,
    the dashboard), which is never what the reader meant and could aim at our own admin pages.
    """
    href_key = (None, "href")
    href = attrs.get(href_key, "")
    if href and not _ABSOLUTE.match(href):
        attrs.pop(href_key, None)
        href = ""
    if href.startswith("mailto:"):
        attrs.pop((None, "target"), None)
    else:
        attrs[(None, "target")] = "_blank"
    attrs[(None, "rel")] = LINK_REL
    return attrs


_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=False,
    strip_comments=True,
    filters=[
        lambda source: LinkifyFilter(
            source, callbacks=[_link_attributes], skip_tags={"pre", "code"}, parse_email=False
        )
    ],
)


def strip_controls(value):
    """Control characters (but tab, newline, CR) removed, Unicode in NFC; nothing else changed.

    NFC first makes "é" typed as e + U+0301 and as U+00E9 one string, so searches, dedup and
    same-spot clusters agree; format characters (zero-width, RTL marks) are kept: they can carry
    meaning in Arabic, Hebrew or Persian text and are rendered escaped like everything else.
    """
    return unicodedata.normalize("NFC", _CONTROL.sub("", value))


# Invisible format characters (Unicode category Cf) a single-line field never needs: the bidi
# embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), the marks U+200E/U+200F
# and U+061C, zero-width space, word joiner, BOM, soft hyphen, tag characters. "Editor" +
# U+202E + "ffats" displays as "Editorstaff". ZWNJ/ZWJ (U+200C/U+200D) stay: Persian and
# Indic names and emoji sequences need them, and they reorder nothing.
_KEEP_FORMAT = frozenset("\u200c\u200d")


def clean_line(value):
    """Single-line fields shown as someone's words (author, article title): clean_text, and
    invisible format characters (bidi controls above all) removed, runs of spaces one space."""
    if value is None:
        return None
    # Removed before NFC: "e" + ZWSP + U+0301 composes only once the ZWSP is gone.
    value = "".join(ch for ch in value if ch in _KEEP_FORMAT or unicodedata.category(ch) != "Cf")
    return " ".join(strip_controls(value).split())


def clean_text(value):
    """Plain-text fields (author, title, report text): controls removed, NFC, spaces trimmed."""
    if value is None:
        return None
    return strip_controls(value).strip()


def render_html(body):
    """Sanitized HTML for a body that *is* HTML (a Disqus or WordPress export): bleach's safelist, the rest
    escaped; paragraphs from blank lines, <br> from newlines. Not for reader text (render_comment)."""
    text = strip_controls(_NEWLINES.sub("\n", body)).strip()
    # Each paragraph is cleaned on its own so that bleach balances its tags.
    paragraphs = [p.strip("\n") for p in _PARAGRAPH_BREAK.split(text) if p.strip()]
    html = []
    for paragraph in paragraphs:
        cleaned = _cleaner.clean(paragraph)
        if _BLOCK.search(cleaned):
            html.append(cleaned)  # already a block: wrapping it in <p> would be invalid HTML
        else:
            html.append("<p>%s</p>" % cleaned.replace("\n", "<br>"))
    return "".join(html)


# -- reader text (comments from the widget, the moderation API's fix, Isso imports) ------------
# Built for a bounded cost: every step is one pass of a regular expression or a string method
# over the whole body; Python code runs only once per URL, per bold span and per quote line.

# A paragraph break: a line holding nothing but spaces between two newlines, and what follows.
_PARAGRAPH = re.compile(r"\n[^\S\n]*\n\s*")
# An http(s) URL as readers paste it: a host character right after `//`, then anything up to
# a space or a character no URL holds unescaped. One pass, no nested quantifiers.
_URL = re.compile(r"""https?://[^\s/\\?#<>"'`{}|^*]+[^\s<>"`{}|\\^]*""", re.IGNORECASE)
# Punctuation that ends a sentence rather than a URL ("see https://x.kz/a." / «https://…»).
_URL_TAIL = ".,;:!?'\"»”’…*)]"
# **bold** on one line: opens before a non-space, closes after one, not inside a word (2**10
# stays as typed); the content holds no `**`, so each opener scans only to the next marker.
_BOLD = re.compile(r"(?<![\w*])\*\*(?=[^\s*])((?>[^*\n]+|\*(?!\*))+)(?<=[^\s*])\*\*(?![\w*])")
# A quote line in the escaped text: `>` then a space or the end of the line, at the start of a
# line (`>100 people` is text). Its marker is replaced by \x01 and its end marked by \x02: both
# are control characters strip_controls removed, so they can only be ours.
# Each pattern starts with a literal "\n" (the text gets one in front): the regex engine then
# jumps from newline to newline instead of trying every position.
_QUOTE_LINE = re.compile(r"\n[^\S\n]*&gt;(?:[^\S\n]|(?=\n)|\Z)([^\n]*)")
_QUOTE_START, _QUOTE_END = "\x01", "\x02"
# Paragraph breaks are usually exactly "\n\n": then a string replace does what _PARAGRAPH does.
_ODD_BREAK = re.compile(r"\n(?:\n\n|[^\S\n]|(?<=[^\S\n]\n))")
# The safelist of what render_comment emits, exactly: fixed tags, and one form of link.
_FIXED_TAGS = ("<p>", "</p>", "<br>", "<strong>", "</strong>", "<blockquote>", "</blockquote>", "</a>")
_SAFE_LINK = re.compile(r'<a href="(?i:https?)://[^"<>]+" rel="' + LINK_REL + r'" target="_blank">')


def _trim_url(url):
    """The URL without the punctuation that follows it in a sentence; a closing bracket stays
    when the URL opened it (https://en.wikipedia.org/wiki/Bracket_(disambiguation))."""
    core = url.rstrip(_URL_TAIL)
    if len(core) == len(url) or ("(" not in core and "[" not in core):
        return core
    # Give back, left to right, the closing brackets the URL opened (and the punctuation
    # before each): the loop stops at the first closer nobody opened.
    open_left = {")": core.count("(") - core.count(")"), "]": core.count("[") - core.count("]")}
    kept = pending = len(core)
    for char in url[len(core):]:
        pending += 1
        if char in open_left:
            if open_left[char] <= 0:
                break
            open_left[char] -= 1
            kept = pending
    return url[:kept]


def _strong(match):
    return "<strong>" + match.group(1) + "</strong>"  # a function: faster than a "\\1" template


def _escaped_text(text):
    html = _html.escape(text, quote=False)
    if "**" in html:
        html = _BOLD.sub(_strong, html)
    return html


def _link(url):
    escaped = _html.escape(url, quote=True)  # href and text alike: &quot; shows as "
    return f'<a href="{escaped}" rel="{LINK_REL}" target="_blank">{escaped}</a>'


def _inline(text):
    """The text escaped, with links and bold; newlines are kept (they are paragraph structure)."""
    if "://" not in text:
        return _escaped_text(text)
    pieces, pos = [], 0
    for match in _URL.finditer(text):
        url = _trim_url(match.group())
        if url.find("//") + 2 >= len(url):
            continue  # nothing but punctuation after the scheme
        pieces.append(_escaped_text(text[pos:match.start()]))
        pieces.append(_link(url))
        pos = match.start() + len(url)
    pieces.append(_escaped_text(text[pos:]))
    return "".join(pieces)


def _quote_line(match):
    return "\n" + _QUOTE_START + match.group(1) + _QUOTE_END


def _quotes(html):
    """Runs of quote lines as `<blockquote>`s: they close the paragraph around them and open
    the next (the empty paragraphs and line breaks at the seams are removed after)."""
    html = _QUOTE_LINE.sub(_quote_line, "\n" + html)[1:]
    html = html.replace(_QUOTE_END + "\n" + _QUOTE_START, "\n")  # inside one run
    return html.replace(_QUOTE_START, "</p><blockquote><p>").replace(_QUOTE_END, "</p></blockquote><p>")


def _safelisted(html):
    """The final safelist pass: every `<` and `>` of `html` belongs to a tag render_comment
    emits (each such tag holds exactly one of each, so the counts must match). A mismatch is
    a bug here; bleach then cleans the output with the same safelist (and we log it)."""
    tags = sum(html.count(tag) for tag in _FIXED_TAGS)
    if "<a " in html:
        tags += len(_SAFE_LINK.findall(html))
    if html.count("<") != tags or html.count(">") != tags:
        log.error("render_comment emitted markup outside its safelist; cleaned with bleach")
        return _cleaner.clean(html)
    return html


def render_comment(body):
    """Safe HTML for comment text: all of it escaped (shown, never lost), then paragraphs,
    line breaks, links, **bold** and `> ` quotes (see the module docstring)."""
    text = strip_controls(_NEWLINES.sub("\n", body)).strip()
    if not text:
        return ""
    html = _inline(text)
    quoted = "&gt;" in html and _QUOTE_LINE.search("\n" + html) is not None
    if quoted:
        html = _quotes(html)
    if _ODD_BREAK.search(html):
        html = _PARAGRAPH.sub("</p><p>", html)
    else:
        html = html.replace("\n\n", "</p><p>")
    html = "<p>%s</p>" % html.replace("\n", "<br>")
    if quoted:  # the seams a quote leaves: a line break before or after it, empty paragraphs
        html = html.replace("<br></p>", "</p>").replace("<p><br>", "<p>").replace("<p></p>", "")
    return _safelisted(html)
