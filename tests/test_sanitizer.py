"""Comment bodies in, safe HTML out (moderation.sanitizer; no app needed).

A comment is text: every word a reader typed is in the rendered HTML's text, in order, and the
only markup is what the README's "Comment markup" lists. Checked with Python's own HTML parser.
"""
import re
import unicodedata
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moderation.sanitizer import LINK_REL, _safelisted, clean_text, render_comment, render_html

from support.hostile import all_payloads


class _Elements(HTMLParser):
    """Collects (tag, attrs) of every start tag, as a browser would see them."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def elements(html):
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser.found


def tags(html):
    return {tag for tag, _ in elements(html)}


def links(html):
    return [attrs for tag, attrs in elements(html) if tag == "a"]


def tags_and_attrs(html):
    """Every tag name, attribute name and attribute value, as one string to search."""
    return " ".join(tag + " " + " ".join(f"{k}={v}" for k, v in attrs.items()) for tag, attrs in elements(html))


class _Text(HTMLParser):
    def __init__(self, blocks):
        super().__init__(convert_charrefs=True)
        self.blocks = blocks
        self.parts = []

    def handle_starttag(self, tag, attrs):
        if tag == "br" or (tag in ("p", "blockquote") and self.parts):
            self.parts.append(self.blocks)

    def handle_data(self, data):
        self.parts.append(data)


def text_of(html, blocks="\n"):
    """The text a browser shows (textContent), a newline for each line break or new block."""
    parser = _Text(blocks)
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


# -- dangerous markup is escaped (shown as text), never executed ---------------

@pytest.mark.parametrize(
    "body, escaped",
    [
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ('<img src=x onerror="alert(1)">', '&lt;img src=x onerror="alert(1)"&gt;'),
        ("<svg onload=alert(1)>", "&lt;svg onload=alert(1)&gt;"),
        ('<iframe src="https://evil.example"></iframe>', "&lt;iframe"),
        ("<style>body{display:none}</style>", "&lt;style&gt;"),
    ],
)
def test_disallowed_markup_is_escaped_not_executed(body, escaped):
    html = render_comment(body)
    assert escaped in html
    assert tags(html) <= {"p", "a"}  # our paragraph, and a typed URL is a link
    assert all(link["rel"] == LINK_REL for link in links(html))


def test_typed_tags_with_attributes_are_text_not_elements():
    html = render_comment('<b onclick="steal()" style="color:red">bold</b>')
    assert html == '<p>&lt;b onclick="steal()" style="color:red"&gt;bold&lt;/b&gt;</p>'
    assert tags(html) == {"p"}


@pytest.mark.parametrize(
    "body",
    [
        '<a href="javascript:alert(1)">click</a>',
        '<A HREF="JaVaScRiPt:alert(1)">click</A>',
        '<a href="data:text/html,<script>alert(1)</script>">click</a>',
        '<a href="vbscript:msgbox(1)">click</a>',
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
    ],
)
def test_typed_links_are_text_and_unsafe_protocols_are_never_linked(body):
    html = render_comment(body)
    assert links(html) == []
    assert tags(html) == {"p"}
    assert text_of(html) == body  # shown as typed


def test_text_that_merely_looks_like_html_is_escaped():
    assert render_comment("a&b <3") == "<p>a&amp;b &lt;3</p>"


# -- what the sanitizer lost before (issue 13) -------------------------------------------

@pytest.mark.parametrize(
    "body",
    [
        "3 <b and 5 > 4 apples",
        "see <!-- this is where the rest went",
        "see <!-- hidden --> and more",
        '<a href="https://news.example/a',
        '<a href="https://news.example/a">unterminated',
        "<b>bold</b> <i>x</i> <script>alert(1)</script> <p>para</p>",
        "if a<b and c>d then <e>",
        "<scr<script>ipt>alert(6)</scr</script>ipt>",
    ],
)
def test_every_character_a_reader_typed_is_shown(body):
    html = render_comment(body)
    assert text_of(html) == body
    assert tags(html) <= {"p", "a"}  # a typed URL is a link


def test_a_newline_inside_a_typed_href_never_puts_markup_in_an_attribute():
    html = render_comment('<a href="https://news.example/a\nb">x</a>')
    [link] = links(html)
    assert link["href"] == "https://news.example/a"
    assert "<" not in link["href"] and "\n" not in link["href"]
    assert text_of(html) == '<a href="https://news.example/a\nb">x</a>'


# -- links -----------------------------------------------------------------------

def test_bare_urls_become_nofollow_links():
    html = render_comment("Source: https://example.org/report?page=2 (PDF)")
    [link] = links(html)
    assert link["href"] == "https://example.org/report?page=2"
    assert link["rel"] == "nofollow ugc noopener"
    assert link["target"] == "_blank"
    assert html.startswith("<p>Source: <a ")


@pytest.mark.parametrize(
    "body, href, after",
    [
        ("see https://news.example/a.", "https://news.example/a", "."),
        ("(see https://news.example/a)", "https://news.example/a", ")"),
        ("https://en.wikipedia.org/wiki/Bracket_(disambiguation)).", 
         "https://en.wikipedia.org/wiki/Bracket_(disambiguation)", ")."),
        ("«https://новости.kz/статья»", "https://новости.kz/статья", "»"),
        ("https://news.example/?a=1&b=\"2\"", "https://news.example/?a=1&b=", '"2"'),
        ("HTTP://NEWS.EXAMPLE/A, then", "HTTP://NEWS.EXAMPLE/A", ", then"),
    ],
)
def test_links_end_where_the_sentence_goes_on(body, href, after):
    html = render_comment(body)
    [link] = links(html)
    assert link["href"] == href
    assert text_of(html).endswith(href + after)


@pytest.mark.parametrize("body", ["https://", "http:// x", "https:///path", "ftp://news.example/a",
                                  "mailto:editor@news.example", "//news.example/a", "news.example/a"])
def test_only_absolute_http_urls_become_links(body):
    html = render_comment(body)
    assert links(html) == []
    assert text_of(html) == body


def test_a_url_keeps_an_ampersand_and_quotes_cannot_leave_the_attribute():
    [link] = links(render_comment("https://news.example/?a=1&b=2'onmouseover='x"))
    assert link["href"] == "https://news.example/?a=1&b=2'onmouseover='x"
    assert set(link) == {"href", "rel", "target"}


# -- paragraphs and line breaks --------------------------------------------------

@pytest.mark.parametrize(
    "body, expected",
    [
        ("one", "<p>one</p>"),
        ("one\n\ntwo", "<p>one</p><p>two</p>"),
        ("one\n\n\n\ntwo", "<p>one</p><p>two</p>"),
        ("line 1\nline 2", "<p>line 1<br>line 2</p>"),
        ("line 1\r\nline 2\r\n\r\nnext", "<p>line 1<br>line 2</p><p>next</p>"),
        ("\n\n  padded  \n\n", "<p>padded</p>"),
        ("   ", ""),
    ],
)
def test_paragraphs_and_line_breaks(body, expected):
    assert render_comment(body) == expected


def test_a_typed_tag_does_not_span_paragraphs():
    html = render_comment("<b>unclosed\n\nnext paragraph")
    assert html == "<p>&lt;b&gt;unclosed</p><p>next paragraph</p>"


# -- control characters ---------------------------------------------------------------

def test_control_characters_are_removed_from_comments():
    assert render_comment("a\x00b\x07c\x1bd\x7fe\ufffff") == "<p>abcdef</p>"


def test_clean_text_removes_controls_and_trims_but_keeps_text():
    assert clean_text(" \x00Ан\x07на \n") == "Анна"
    assert clean_text("tab\tinside") == "tab\tinside"
    assert clean_text(None) is None


# -- the markup comments may have (README, "Comment markup") --------------------------------

@pytest.mark.parametrize(
    "body, expected",
    [
        ("**bold** text", "<p><strong>bold</strong> text</p>"),
        ("a **b c** d", "<p>a <strong>b c</strong> d</p>"),
        ("2**10 and 3**2", "<p>2**10 and 3**2</p>"),  # inside words: as typed
        ("** not bold **", "<p>** not bold **</p>"),
        ("**open only", "<p>**open only</p>"),
        ("**two\nlines**", "<p>**two<br>lines**</p>"),  # bold stays on one line
        ("**<script>**", "<p><strong>&lt;script&gt;</strong></p>"),
    ],
)
def test_bold(body, expected):
    assert render_comment(body) == expected


@pytest.mark.parametrize(
    "body, expected",
    [
        ("> quoted", "<blockquote><p>quoted</p></blockquote>"),
        ("> one\n> two\nreply", "<blockquote><p>one<br>two</p></blockquote><p>reply</p>"),
        ("before\n> quoted\n\nafter", "<p>before</p><blockquote><p>quoted</p></blockquote><p>after</p>"),
        ("> a\n>\n> b", "<blockquote><p>a</p><p>b</p></blockquote>"),
        (">100 readers", "<p>&gt;100 readers</p>"),  # no space after >: text
        ("5 > 4\n> <b>x", "<p>5 &gt; 4</p><blockquote><p>&lt;b&gt;x</p></blockquote>"),
    ],
)
def test_quotes(body, expected):
    assert render_comment(body) == expected


# -- the final safelist pass ------------------------------------------------------------

@pytest.mark.parametrize("html", [
    '<p><img src=x onerror="alert(1)"></p>',
    '<p><a href="javascript:alert(1)" rel="nofollow ugc noopener" target="_blank">x</a></p>',
    '<p><a href="https://x.example/" onclick="alert(1)" rel="nofollow ugc noopener" target="_blank">x</a></p>',
    "<p>a > b</p>",
])
def test_output_outside_the_safelist_is_cleaned_by_bleach(html, caplog):
    cleaned = _safelisted(html)
    assert "onerror" not in tags_and_attrs(cleaned) and "onclick" not in tags_and_attrs(cleaned)
    assert "javascript" not in tags_and_attrs(cleaned) and "img" not in tags(cleaned)
    assert "outside its safelist" in caplog.text


def test_render_html_keeps_the_safelist_of_html_sources():
    """Disqus exports are HTML: their tags are read as tags (bleach), not shown."""
    html = render_html('<p>Replying, <b>strongly</b>.</p><img src=x onerror="alert(1)">')
    assert "<b>strongly</b>" in html and "&lt;img" in html


# -- property: no word is ever lost, no markup but ours -----------------------------------------

CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
WORDS = re.compile(r"\w+")
OURS = {"p": set(), "br": set(), "strong": set(), "blockquote": set(), "a": {"href", "rel", "target"}}


def assert_nothing_lost_and_only_our_markup(body):
    html = render_comment(body)
    typed = unicodedata.normalize("NFC", CONTROLS.sub("", body))
    assert WORDS.findall(text_of(html, blocks="\n")) == WORDS.findall(typed), (body, html)
    for tag, attrs in elements(html):
        assert tag in OURS and set(attrs) == OURS[tag], (body, html)
        if tag == "a":
            assert re.match(r"https?://[^/\s]", attrs["href"], re.I) and attrs["rel"] == LINK_REL
    # What the README promises for line structure: the text reads the same, markers aside.
    return html


FRAGMENTS = ["<", ">", "> ", "\n", "\n\n", "\n \n", " ", "**", "*", "&", "&amp;", '"', "'", "<!--",
             "-->", "<b>", "</b>", "<a href=\"", "https://", "http://x.example/", "(", ")", "[", "]",
             ".", ",", "word", "слово", "2", "\t", "\u202e", "\u200b", "é", "e\u0301", "\x00",
             "javascript:", "\r\n"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=40))
def test_property_no_word_lost_on_markup_heavy_input(pieces):
    assert_nothing_lost_and_only_our_markup("".join(pieces))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_property_no_word_lost_on_any_text(body):
    assert_nothing_lost_and_only_our_markup(body)


@pytest.mark.parametrize("payload", all_payloads())
def test_property_no_word_lost_on_hostile_payloads(payload):
    assert_nothing_lost_and_only_our_markup(payload)
    assert_nothing_lost_and_only_our_markup("> " + payload + "\n\n**" + payload + "** " + payload)


def test_the_bench_worst_cases_lose_nothing():
    import sys  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.sanitizer_worst import CASES  # noqa: PLC0415

    for body in CASES.values():
        assert_nothing_lost_and_only_our_markup(body)
