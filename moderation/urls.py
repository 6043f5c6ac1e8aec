"""Article URLs and origins: one page must not become many rows."""
import ipaddress
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Campaign and click-tracking parameters that never change which article it is.
TRACKING_PARAMS = {"fbclid", "gclid", "yclid", "dclid", "msclkid", "_openstat", "ref", "from"}
DEFAULT_PORTS = {"http": 80, "https": 443}
# One reader POST normalizes its page URL, its Origin and the site's allowed origins
# several times over; a small cache of pure results (strings in, strings out) makes
# the repeats free. Bounded: URLs come from readers.
CACHED_URLS = 1024


@lru_cache(maxsize=CACHED_URLS)
def normalize_url(url):
    """Canonical form of an article URL, or None if it is not an absolute http(s) URL.

    Lowercases scheme and host, drops default ports, fragments and tracking
    parameters, sorts what is left of the query.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    host = _host(parts.hostname)
    if host is None:
        return None
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    query = sorted(
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in TRACKING_PARAMS and not k.lower().startswith("utm_")
    )
    return urlunsplit((scheme, netloc, parts.path or "/", urlencode(query), ""))


def _host(hostname):
    """The host as it goes back into a URL: lowercase, IDNA; an IPv6 literal compressed and
    in its brackets (urlsplit's hostname drops them: `http://[::1]:8081` became `http://::1:8081`,
    which is no URL). None for a bracketed host that is not an IPv6 address."""
    host = hostname.lower()
    if ":" in host:
        try:
            return "[%s]" % ipaddress.IPv6Address(host).compressed
        except ValueError:
            return None
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host  # keep the Unicode host as the reader sent it


@lru_cache(maxsize=CACHED_URLS)
def origin_of(url):
    """`scheme://host[:port]` of a URL or Origin header value, normalized; None if invalid."""
    normalized = normalize_url(url)
    if normalized is None:
        return None
    parts = urlsplit(normalized)
    return f"{parts.scheme}://{parts.netloc}"


def origin_allowed(origin, allowed):
    """True if `origin` matches one of `allowed` (exact, or `scheme://*.domain`)."""
    origin = origin_of(origin) if origin else None
    if origin is None:
        return False
    scheme, _, host = origin.partition("://")
    for pattern in allowed or ():
        pattern = pattern.strip().rstrip("/").lower()
        if "://*." in pattern:
            p_scheme, _, p_host = pattern.partition("://*.")
            if scheme == p_scheme and (host == p_host or host.endswith("." + p_host)):
                return True
        elif origin_of(pattern) == origin:
            return True
    return False
