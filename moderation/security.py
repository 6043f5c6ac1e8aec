"""Security headers: a strict Content-Security-Policy on the dashboard, nosniff everywhere.

The dashboard shows readers' words to staff who are signed in with power over a newsroom's
site: if an escaping bug ever let markup through, the CSP is the second wall. It allows scripts
and styles only from our own origin (no inline script, no inline style, no eval; no nonces, so
pages stay cacheable and a template cannot forget one), no plugins, no <base> rewriting, no
framing (clickjacking) and forms that post only to us. `dashboard.js` and `dashboard.css` are
written for it: behaviour is bound with addEventListener and `data-*` attributes.

The JSON APIs get `X-Content-Type-Options: nosniff` and a CSP that forbids everything: a
reader's text inside a JSON answer must never be sniffed into HTML and run. The demo article
and the widget script are left alone: the article stands for a newsroom's own page, whose
policy is the newsroom's (the widget works under `script-src` of the service only).

Cookie flags (HttpOnly, SameSite=Lax, Secure outside development) are configuration
(`moderation/config.py`); `SECRET_KEY` is required in production (`create_app`).
"""

DASHBOARD_CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
])
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"

DASHBOARD_HEADERS = {
    "Content-Security-Policy": DASHBOARD_CSP,
    "X-Frame-Options": "DENY",
    # Same-origin only: queue URLs carry search terms and item ids nobody outside needs.
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
}
API_HEADERS = {
    "Content-Security-Policy": API_CSP,
    "X-Content-Type-Options": "nosniff",
}


def _is_dashboard(request):
    return request.path == "/dashboard" or request.path.startswith("/dashboard/")


def _is_api(request):
    return request.path.startswith("/api/") or request.path == "/healthz"


def headers_for(request):
    """The security headers a response to `request` must carry."""
    if _is_dashboard(request):
        return DASHBOARD_HEADERS
    if _is_api(request):
        return API_HEADERS
    return {"X-Content-Type-Options": "nosniff"}


def init_app(app):
    from flask import request  # noqa: PLC0415

    @app.after_request
    def security_headers(response):
        # By path, not blueprint: 404s, redirects to login and error pages need them too.
        for name, value in headers_for(request).items():
            response.headers[name] = value
        return response
