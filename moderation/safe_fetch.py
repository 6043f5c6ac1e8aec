"""Fetch a newsroom's article page without becoming an SSRF proxy.

The URL comes from readers (a report's page), so it is untrusted even after the
origin check at ingest. `fetch` therefore:

- accepts only http and https, no credentials in the URL, and only the site's own
  allowed origins (`moderation.urls.origin_allowed`);
- resolves the host itself and refuses it when *any* address is private, loopback,
  link-local, multicast, reserved, unspecified or otherwise not global, unless a
  network in the allow-list (config ``FETCH_ALLOWED_NETWORKS``) contains it;
- connects to the address it checked (the socket is opened to the IP, the Host header
  and TLS name stay the hostname), so DNS cannot answer differently in between
  (rebinding);
- follows at most 3 redirects, each only on the same host (http → https allowed) and
  each re-resolved and re-checked;
- gives up after one overall deadline (connect, headers and every read), reads at
  most ``max_bytes`` while streaming, and accepts only ``text/html`` bodies.

The standard library's http.client does the HTTP; no redirect or proxy handling of
a client library can step around these checks.
"""
import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from .urls import origin_allowed

REDIRECTS = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 3
DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_BYTES = 2 * 1024 * 1024
CHUNK = 64 * 1024
USER_AGENT = "moderation-fixed-check/1 (+editorial error reports)"


class FetchError(Exception):
    """The page was not fetched; `reason` says why (for logs and the audit trail)."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


class Refused(FetchError):
    """Policy said no: scheme, origin, address, redirect, size or content type."""


class FetchTimeout(FetchError):
    """The server was too slow."""


@dataclass
class Fetched:
    url: str  # the final URL, after redirects
    status: int
    content_type: str
    charset: str | None
    body: bytes

    @property
    def ok(self):
        return self.status == 200

    def text(self):
        try:
            return self.body.decode(self.charset or "utf-8", errors="replace")
        except LookupError:  # an unknown charset name
            return self.body.decode("utf-8", errors="replace")


def parse_networks(values):
    """ip_network objects for strings such as "127.0.0.1/32" or "10.0.0.0/8" (or networks)."""
    out = []
    for value in values or ():
        if isinstance(value, str):
            if not value.strip():
                continue
            value = ipaddress.ip_network(value.strip(), strict=False)
        out.append(value)
    return tuple(out)


NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052 well-known prefix: the IPv4 is the last 32 bits


def embedded_ipv4(ip):
    """The IPv4 addresses an IPv6 address carries and leads to, or () for a plain IPv6 address.

    IPv4-mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::a.b.c.d) and 6to4 (2002:AABB:CCDD::) reach
    that IPv4 host; Teredo (2001::/32) carries its server and (obfuscated) client address.
    Judged by the IPv6 ranges alone, 2002:7f00:1:: counts as "global" and would let a
    webhook or fetch reach 127.0.0.1 through a 6to4 relay.
    """
    if not isinstance(ip, ipaddress.IPv6Address):
        return ()
    if ip.ipv4_mapped is not None:
        return (ip.ipv4_mapped,)
    if ip in NAT64:
        return (ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF),)
    if ip.sixtofour is not None:
        return (ip.sixtofour,)
    if ip.teredo is not None:
        return ip.teredo  # (server, client)
    return ()


def _allowed_one(ip, allowed_networks):
    if any(ip.version == net.version and ip in net for net in allowed_networks):
        return True
    if (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved
            or ip.is_unspecified):
        return False
    return ip.is_global  # also refuses shared (100.64/10) and other special ranges


def address_allowed(ip, allowed_networks=()):
    """True for a public address, or one inside an allow-listed network.

    An IPv6 address that embeds IPv4 addresses (see `embedded_ipv4`) is judged by them:
    allowed only when every one of them is.
    """
    ip = ipaddress.ip_address(ip)
    embedded = embedded_ipv4(ip)
    if embedded:
        if any(ip in net for net in allowed_networks if net.version == 6):
            return True
        return all(_allowed_one(inner, allowed_networks) for inner in embedded)
    return _allowed_one(ip, allowed_networks)


def resolve(host, port, allowed_networks=()):
    """The address to connect to; Refused if the host resolves to any refused address."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"cannot resolve {host}: {exc}") from exc
    addresses = []
    for family, _, _, _, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6) and sockaddr[0] not in addresses:
            addresses.append(sockaddr[0].split("%")[0])
    if not addresses:
        raise FetchError(f"no address for {host}")
    for address in addresses:
        if not address_allowed(address, allowed_networks):
            raise Refused(f"{host} resolves to a non-public address {address}")
    return addresses[0]


class _PinnedHTTP(http.client.HTTPConnection):
    """HTTP to a fixed, already checked IP address."""

    def __init__(self, host, port, ip, timeout):
        super().__init__(host, port, timeout=timeout)
        self._ip = ip

    def connect(self):
        self.sock = socket.create_connection((self._ip, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to a fixed IP; the certificate is still verified against the hostname."""

    def __init__(self, host, port, ip, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._ip = ip

    def connect(self):
        sock = socket.create_connection((self._ip, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def pinned_connection(scheme, host, port, ip, timeout):
    """An http.client connection to `host` that opens its socket to the checked address `ip`."""
    cls = _PinnedHTTPS if scheme == "https" else _PinnedHTTP
    return cls(host, port, ip, timeout)


def _check_url(url, allowed_origins):
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise Refused(f"scheme {parts.scheme!r} is not http(s)")
    if not parts.hostname:
        raise Refused("no host in the URL")
    if parts.username or parts.password:
        raise Refused("credentials in the URL")
    try:
        parts.port
    except ValueError as exc:
        raise Refused(f"bad port: {exc}") from exc
    if not origin_allowed(url, allowed_origins):
        raise Refused(f"{parts.scheme}://{parts.netloc} is not one of the site's origins")
    return parts


def _remaining(deadline):
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchTimeout("deadline passed")
    return left


def _content_type(response):
    raw = response.getheader("Content-Type") or ""
    mime, _, params = raw.partition(";")
    charset = None
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"').strip("'")
    return mime.strip().lower(), charset


def _read_body(sock, response, deadline, max_bytes):
    length = response.getheader("Content-Length")
    if length and length.strip().isdigit() and int(length) > max_bytes:
        raise Refused(f"page is {int(length)} bytes, over the {max_bytes}-byte cap")
    chunks, size = [], 0
    while True:
        sock.settimeout(_remaining(deadline))
        # read1: one recv at a time, so a server trickling bytes meets the deadline.
        chunk = response.read1(CHUNK)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > max_bytes:
            raise Refused(f"page is over the {max_bytes}-byte cap")
        chunks.append(chunk)


def _request(parts, ip, deadline, max_bytes):
    """One GET; returns (status, location, Fetched-or-None)."""
    scheme, host, port = parts.scheme, parts.hostname, parts.port
    connection = pinned_connection(scheme, host, port or (443 if scheme == "https" else 80), ip,
                                   _remaining(deadline))
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        connection.request("GET", path, headers={
            "User-Agent": USER_AGENT, "Accept": "text/html", "Accept-Encoding": "identity",
            "Connection": "close",
        })
        # Kept: with "Connection: close" getresponse() hands the socket to the response.
        sock = connection.sock
        sock.settimeout(_remaining(deadline))
        response = connection.getresponse()
        if response.status in REDIRECTS:
            return response.status, response.getheader("Location"), None
        mime, charset = _content_type(response)
        if response.status != 200:
            # 404, 410, 5xx: the caller only needs to know the page is not there now.
            return response.status, None, Fetched(parts.geturl(), response.status, mime, charset, b"")
        if mime != "text/html":
            raise Refused(f"content type {mime or 'missing'!r} is not text/html")
        body = _read_body(sock, response, deadline, max_bytes)
        return 200, None, Fetched(parts.geturl(), 200, mime, charset, body)
    except (socket.timeout, TimeoutError) as exc:
        raise FetchTimeout(f"{host}: timed out") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise FetchError(f"{host}: {exc.__class__.__name__}: {exc}") from exc
    finally:
        connection.close()


def fetch(url, allowed_origins, allowed_networks=(), timeout=DEFAULT_TIMEOUT,
          max_bytes=DEFAULT_MAX_BYTES, max_redirects=MAX_REDIRECTS):
    """GET an article page under the rules above. Returns Fetched (any final status);
    raises Refused, FetchTimeout or FetchError."""
    networks = parse_networks(allowed_networks)
    deadline = time.monotonic() + timeout
    parts = _check_url(url, allowed_origins)
    first_host = parts.hostname.lower()
    for _ in range(max_redirects + 1):
        ip = resolve(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80), networks)
        status, location, fetched = _request(parts, ip, deadline, max_bytes)
        if fetched is not None:
            return fetched
        if not location:
            raise FetchError(f"redirect {status} without a Location")
        target = urljoin(parts.geturl(), location)
        new = _check_url(target, allowed_origins)
        if (new.hostname or "").lower() != first_host:
            raise Refused(f"redirect to another host ({new.hostname})")
        if parts.scheme == "https" and new.scheme == "http":
            raise Refused("redirect from https down to http")
        parts = new
    raise Refused(f"more than {max_redirects} redirects")
