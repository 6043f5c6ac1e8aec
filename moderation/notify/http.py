"""Outgoing webhook requests: the fetcher's address checks, one deadline, a response cap, no redirects.

An admin types the URL, but it still must not turn the service into a proxy into its
own network (cloud metadata, Redis, the dashboard on loopback) nor its delivery log into
a port scanner. So a delivery goes through `moderation.safe_fetch`'s resolve-pin-check:

- http(s) only, no credentials, not the service's own host (``PUBLIC_URL``);
- the host is resolved here and refused when *any* address is not public (loopback,
  private, link-local, 6to4/NAT64 wrappers of those, decimal forms such as
  ``http://2130706433/`` that resolve to 127.0.0.1...) unless config
  ``WEBHOOK_ALLOWED_NETWORKS`` lists its network;
- the socket is opened to the address that was checked (no DNS rebinding in between);
- one overall deadline covers connect, sending and reading; at most `max_response`
  bytes of the answer are read, and never shown anywhere.

Errors are coarse words ("blocked address", "connection refused", "timeout"...), never
the socket's own message, a banner or a response body: the log says whether the
receiver took the webhook, not what else listens there.

A redirect is answered as a failure rather than followed: the receiver's URL is
what the admin configured, and a 3xx must not send the signed body elsewhere.
"""
import http.client
import socket
import ssl
import time
from urllib.parse import urlsplit

from .. import safe_fetch

DEFAULT_PORTS = {"http": 80, "https": 443}
# The coarse reasons a delivery fails without an HTTP answer (what the delivery log shows).
BLOCKED = "blocked address"
UNRESOLVED = "host not found"
REFUSED = "connection refused"
TIMEOUT = "timeout"
TLS = "TLS error"
NO_HTTP = "not an HTTP answer"
FAILED = "connection failed"
BAD_URL = "invalid URL"
OWN_HOST = "the service's own address"


class DeliveryError(Exception):
    """The request did not get a response (refused, timeout, bad URL)."""


class Blocked(DeliveryError):
    """Refused before connecting (scheme, credentials, a non-public address): a retry cannot help."""


def own_hosts(config):
    """The service's own host names (from PUBLIC_URL): a webhook must not call the service itself."""
    public = config.get("PUBLIC_URL")
    try:
        host = urlsplit(public).hostname if public else None
    except ValueError:
        host = None
    return (host,) if host else ()


def settings(config):
    """The keyword arguments `post` and `check_target` take from the app's configuration."""
    return {"allowed_networks": config.get("WEBHOOK_ALLOWED_NETWORKS") or (), "refused_hosts": own_hosts(config)}


def check_url(url, refused_hosts=()):
    """An error message for a URL we will not post to, or None (no DNS lookup: see `check_target`)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return "not a URL"
    if parts.scheme not in DEFAULT_PORTS:
        return "only http:// and https:// URLs"
    if not parts.hostname:
        return "the URL has no host"
    if parts.username or parts.password:
        return "credentials in the URL are not allowed"
    if parts.hostname.lower().rstrip(".") in {h.lower().rstrip(".") for h in refused_hosts if h}:
        return OWN_HOST
    return None


def check_target(url, allowed_networks=(), refused_hosts=()):
    """`check_url`, then resolve the host: (address to connect to, None) or (None, error message)."""
    problem = check_url(url, refused_hosts)
    if problem:
        return None, problem
    parts = urlsplit(url)
    try:
        ip = safe_fetch.resolve(parts.hostname, parts.port or DEFAULT_PORTS[parts.scheme],
                                safe_fetch.parse_networks(allowed_networks))
    except safe_fetch.Refused:
        return None, BLOCKED
    except safe_fetch.FetchError:
        return None, UNRESOLVED
    return ip, None


def _remaining(deadline):
    left = deadline - time.monotonic()
    if left <= 0:
        raise socket.timeout()
    return left


def _coarse(exc):
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return TIMEOUT
    if isinstance(exc, ConnectionRefusedError):
        return REFUSED
    if isinstance(exc, ssl.SSLError):
        return TLS
    if isinstance(exc, (http.client.InvalidURL, ValueError)):
        return BAD_URL
    if isinstance(exc, http.client.HTTPException):
        return NO_HTTP
    return FAILED


def post(url, body, headers, timeout=5.0, max_response=64 * 1024, allowed_networks=(), refused_hosts=()):
    """POST `body` (bytes). Returns (status, first `max_response` bytes of the answer).

    Raises DeliveryError (with one of the coarse reasons above) when there is no HTTP answer,
    Blocked when the URL or its address is refused (nothing was sent).
    """
    deadline = time.monotonic() + timeout
    ip, problem = check_target(url, allowed_networks, refused_hosts)
    if problem:
        # A name that does not resolve may resolve later; everything else is policy.
        raise (DeliveryError if problem == UNRESOLVED else Blocked)(problem)
    parts = urlsplit(url)
    path = (parts.path or "/") + ("?" + parts.query if parts.query else "")
    port = parts.port or DEFAULT_PORTS[parts.scheme]
    connection = safe_fetch.pinned_connection(parts.scheme, parts.hostname, port, ip, max(0.001, timeout))
    try:
        connection.timeout = _remaining(deadline)  # what connect() uses: the time left after DNS
        connection.request("POST", path, body=body, headers={**dict(headers), "Connection": "close"})
        sock = connection.sock  # getresponse() hands it to the response ("Connection: close")
        sock.settimeout(_remaining(deadline))
        response = connection.getresponse()
    except (OSError, http.client.HTTPException, ValueError) as exc:  # ValueError: a path http.client refuses
        connection.close()
        raise DeliveryError(_coarse(exc)) from exc
    try:
        return response.status, _read(sock, response, deadline, max_response)
    finally:
        connection.close()


def _read(sock, response, deadline, max_response):
    """Up to `max_response` bytes of the answer; a slow or broken body ends the read, not the answer."""
    chunks, size = [], 0
    try:
        while size < max_response:
            sock.settimeout(_remaining(deadline))
            chunk = response.read1(max_response - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except (OSError, http.client.HTTPException):
        pass  # the status line is the answer; the body is only read to be polite
    return b"".join(chunks)
