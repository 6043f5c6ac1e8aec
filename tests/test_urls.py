"""Article URL normalization and origin matching (pure functions, no app needed)."""
import pytest

from moderation.urls import normalize_url, origin_allowed, origin_of

SITE = ["https://news.example"]


@pytest.mark.parametrize(
    "raw, expected",
    [
        # tracking parameters dropped, the rest kept and sorted
        ("https://news.example/a?utm_source=tg&utm_medium=social", "https://news.example/a"),
        ("https://news.example/a?fbclid=X&gclid=Y&yclid=Z", "https://news.example/a"),
        ("https://news.example/a?UTM_Campaign=x&page=2", "https://news.example/a?page=2"),
        ("https://news.example/a?page=2&id=7&ref=tw", "https://news.example/a?id=7&page=2"),
        # default ports dropped, other ports kept
        ("https://news.example:443/a", "https://news.example/a"),
        ("http://news.example:80/a", "http://news.example/a"),
        ("https://news.example:8443/a", "https://news.example:8443/a"),
        ("http://news.example:443/a", "http://news.example:443/a"),
        # fragments dropped
        ("https://news.example/a#comments", "https://news.example/a"),
        ("https://news.example/a?page=2#c17", "https://news.example/a?page=2"),
        # scheme and host lowercased, the path left alone
        ("HTTPS://News.EXAMPLE/Politics/A", "https://news.example/Politics/A"),
        # an empty path is the root
        ("https://news.example", "https://news.example/"),
        # surrounding whitespace ignored
        ("  https://news.example/a  ", "https://news.example/a"),
    ],
)
def test_normalize_url(raw, expected):
    assert normalize_url(raw) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("http://[::1]:8081", "http://[::1]:8081/"),
        ("http://[::1]:80/a", "http://[::1]/a"),
        ("https://[2001:DB8:0:0::1]:443/a?b=1", "https://[2001:db8::1]/a?b=1"),
        ("https://[2001:db8::1]:8443/a", "https://[2001:db8::1]:8443/a"),
    ],
)
def test_ipv6_literals_keep_their_brackets(raw, expected):
    assert normalize_url(raw) == expected
    assert normalize_url(expected) == expected  # stable: normalizing twice changes nothing


def test_ipv6_origin_is_allowed_by_its_own_pattern():
    assert origin_of("http://[::1]:8081/demo") == "http://[::1]:8081"
    assert origin_allowed("http://[::1]:8081", ["http://[::1]:8081"])
    assert not origin_allowed("http://[::1]:8082", ["http://[::1]:8081"])


def test_unicode_host_and_its_punycode_are_one_page():
    punycode = "https://" + "новости".encode("idna").decode() + ".example/a"
    assert normalize_url("https://Новости.example/a") == punycode
    assert normalize_url(punycode) == punycode


def test_tracking_variants_of_one_article_normalize_to_one_url():
    variants = [
        "https://news.example/2026/11/tram-line",
        "https://NEWS.example:443/2026/11/tram-line#comments",
        "https://news.example/2026/11/tram-line?utm_source=vk&fbclid=abc",
    ]
    assert {normalize_url(v) for v in variants} == {"https://news.example/2026/11/tram-line"}


@pytest.mark.parametrize(
    "raw",
    [
        "ftp://news.example/a",
        "javascript:alert(1)",
        "mailto:editor@news.example",
        "data:text/html,<script>alert(1)</script>",
        "/2026/11/tram-line",
        "news.example/2026/11/tram-line",
        "https://",
        "http:///path-only",
        "https://news.example:99999/a",  # port out of range
        "https://[::1/a",  # broken IPv6 literal
        "http://[not-an-address]/a",
        "http://[127.0.0.1]/a",  # brackets hold IPv6 only
    ],
)
def test_normalize_url_rejects_non_http_and_broken_urls(raw):
    assert normalize_url(raw) is None


def test_origin_of():
    assert origin_of("HTTPS://News.Example:443/path?x=1#frag") == "https://news.example"
    assert origin_of("http://news.example:8080/") == "http://news.example:8080"
    assert origin_of("null") is None
    assert origin_of("ftp://news.example") is None


@pytest.mark.parametrize(
    "origin",
    [
        "https://news.example",
        "https://news.example/",
        "https://NEWS.example",
        "https://news.example:443",
    ],
)
def test_exact_origin_allowed(origin):
    assert origin_allowed(origin, SITE)


@pytest.mark.parametrize(
    "origin",
    [
        "https://news.example.evil.com",  # the allowed host as a prefix of another domain
        "https://evil.com/?https://news.example",
        "https://news.example@evil.com",  # userinfo trick: the host is evil.com
        "https://evilnews.example",
        "https://m.news.example",  # a subdomain needs a wildcard pattern
        "http://news.example",  # scheme differs
        "https://news.example:8443",  # port differs
        "null",  # sandboxed iframes and file:// pages
        "",
        None,
    ],
)
def test_origin_not_allowed(origin):
    assert not origin_allowed(origin, SITE)


def test_pattern_written_loosely_still_matches():
    assert origin_allowed("https://news.example", ["  HTTPS://News.Example/  "])


def test_http_and_https_patterns_are_distinct():
    assert origin_allowed("http://news.example", ["http://news.example"])
    assert not origin_allowed("https://news.example", ["http://news.example"])


WILDCARD = ["https://*.news.example"]


@pytest.mark.parametrize("origin", ["https://m.news.example", "https://a.b.news.example"])
def test_wildcard_allows_subdomains(origin):
    assert origin_allowed(origin, WILDCARD)


@pytest.mark.parametrize(
    "origin",
    [
        "http://m.news.example",  # scheme differs
        "https://m.news.example.evil.com",
        "https://evilnews.example",  # suffix without the dot
        "https://m.news.example:8443",  # port differs
        "https://news.example.com",
    ],
)
def test_wildcard_rejects_lookalikes(origin):
    assert not origin_allowed(origin, WILDCARD)


def test_no_patterns_allow_nothing():
    assert not origin_allowed("https://news.example", [])
    assert not origin_allowed("https://news.example", None)
