"""Comment bodies in, safe HTML out (moderation.sanitizer; no app needed)."""
from html.parser import HTMLParser

import pytest

from moderation.sanitizer import clean_text, render_comment


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
    assert tags(html) == {"p"}  # the only element is our paragraph


def test_attributes_outside_the_safelist_are_dropped_from_allowed_tags():
    html = render_comment('<b onclick="steal()" style="color:red">bold</b>')
    assert html == "<p><b>bold</b></p>"


@pytest.mark.parametrize(
    "body",
    [
        '<a href="javascript:alert(1)">click</a>',
        '<A HREF="JaVaScRiPt:alert(1)">click</A>',
        '<a href=" javascript:alert(1)">click</a>',
        '<a href="data:text/html,<script>alert(1)</script>">click</a>',
        '<a href="vbscript:msgbox(1)">click</a>',
    ],
)
def test_links_with_unsafe_protocols_lose_their_href(body):
    html = render_comment(body)
    [link] = links(html)
    assert "href" not in link
    assert "javascript" not in html.lower() and "data:" not in html
    assert "click" in html  # the reader's text stays


def test_text_that_merely_looks_like_html_is_escaped():
    assert render_comment("a&b <3") == "<p>a&amp;b &lt;3</p>"


# -- links -----------------------------------------------------------------------

def test_bare_urls_become_nofollow_links():
    html = render_comment("Source: https://example.org/report?page=2 (PDF)")
    [link] = links(html)
    assert link["href"] == "https://example.org/report?page=2"
    assert link["rel"] == "nofollow ugc noopener"
    assert link["target"] == "_blank"
    assert html.startswith("<p>Source: <a ")


def test_reader_supplied_rel_is_overridden():
    [link] = links(render_comment('<a href="https://example.org" rel="follow">x</a>'))
    assert link["rel"] == "nofollow ugc noopener"
    assert link["href"] == "https://example.org"


def test_mailto_links_are_kept_without_new_tab():
    [link] = links(render_comment('<a href="mailto:editor@news.example">write us</a>'))
    assert link["href"] == "mailto:editor@news.example"
    assert link["rel"] == "nofollow ugc noopener"
    assert "target" not in link


def test_urls_in_code_are_not_linkified():
    html = render_comment("<code>https://example.org/api</code>")
    assert links(html) == []
    assert "<code>https://example.org/api</code>" in html


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


def test_each_paragraph_is_balanced_on_its_own():
    html = render_comment("<b>unclosed\n\nnext paragraph")
    assert html == "<p><b>unclosed</b></p><p>next paragraph</p>"


# -- control characters ---------------------------------------------------------------

def test_control_characters_are_removed_from_comments():
    assert render_comment("a\x00b\x07c\x1bd\x7fe\ufffff") == "<p>abcdef</p>"


def test_clean_text_removes_controls_and_trims_but_keeps_text():
    assert clean_text(" \x00Ан\x07на \n") == "Анна"
    assert clean_text("tab\tinside") == "tab\tinside"
    assert clean_text(None) is None


# -- what readers may use -------------------------------------------------------------

@pytest.mark.parametrize(
    "markup",
    [
        "<b>bold</b>",
        "<strong>strong</strong>",
        "<i>italic</i>",
        "<em>emphasis</em>",
        "<code>x = 1</code>",
    ],
)
def test_allowed_tags_are_kept(markup):
    assert render_comment("before " + markup + " after") == "<p>before " + markup + " after</p>"


@pytest.mark.parametrize(
    "markup", ["<pre>preformatted</pre>", "<blockquote>quoted</blockquote>", "<p>para</p>"]
)
def test_block_tags_are_kept_and_not_nested_in_a_paragraph(markup):
    # <p><pre>...</pre></p> is invalid HTML that browsers split into stray empty paragraphs.
    assert render_comment("before " + markup + " after") == "before " + markup + " after"


def test_html_comments_are_stripped():
    assert render_comment("<!-- hidden -->visible") == "<p>visible</p>"
