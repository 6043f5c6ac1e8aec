"""The only module that imports bleach: comment text in, safe HTML out.

Readers mostly type plain text; a few tags are kept for those who type them.
Anything outside the safelist is *escaped*, not stripped, so nothing the reader
wrote disappears (`<script>` shows up as the literal text `<script>`). Bare URLs
become links, and every link gets rel="nofollow ugc noopener".
"""
import re
import unicodedata

import bleach
from bleach.linkifier import LinkifyFilter

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


def clean_text(value):
    """Plain-text fields (author, title, report text): controls removed, NFC, spaces trimmed."""
    if value is None:
        return None
    return strip_controls(value).strip()


def render_comment(body):
    """Sanitized HTML for a comment body; paragraphs from blank lines, <br> from newlines."""
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
