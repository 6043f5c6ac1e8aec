"""Outgoing webhook requests: standard library only, a timeout, a response size cap, no redirects.

A redirect is answered as a failure rather than followed: the receiver's URL is
what the admin configured, and a 3xx must not send the signed body elsewhere.
"""
import http.client
import urllib.error
import urllib.request
from urllib.parse import urlsplit


class DeliveryError(Exception):
    """The request did not get a response (refused, timeout, bad URL)."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # urllib then raises HTTPError with the 3xx status


_OPENER = urllib.request.build_opener(_NoRedirect)


def check_url(url):
    """An error message for a URL we will not post to, or None."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "not a URL"
    if parts.scheme not in ("http", "https"):
        return "only http:// and https:// URLs"
    if not parts.hostname:
        return "the URL has no host"
    if parts.username or parts.password:
        return "credentials in the URL are not allowed"
    return None


def post(url, body, headers, timeout=5.0, max_response=64 * 1024):
    """POST `body` (bytes). Returns (status, first `max_response` bytes of the answer).

    Raises DeliveryError when there is no HTTP answer at all.
    """
    problem = check_url(url)
    if problem:
        raise DeliveryError(problem)
    request = urllib.request.Request(url, data=body, method="POST", headers=dict(headers))
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status, response.read(max_response)
    except urllib.error.HTTPError as exc:  # 3xx (not followed), 4xx, 5xx: an answer
        try:
            data = exc.read(max_response)
        except (OSError, http.client.HTTPException):
            data = b""
        finally:
            exc.close()
        return exc.code, data
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(str(reason)[:300] or exc.__class__.__name__) from exc
