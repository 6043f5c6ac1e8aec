"""E-mail: rendering (one template per language), signed links, SMTP delivery.

E-mail bodies are whole templates per language (templates/email/<lang>/) rather
than catalog strings: a mail is prose a translator edits as a whole. They are
rendered under Flask-Babel's `force_locale`, so dates and numbers follow the
recipient's language too.
"""
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app, has_request_context, url_for
from flask_babel import force_locale
from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

from .. import metrics

MAIL_LANGUAGES = ("en", "ru", "kk")
CONFIRM_MAX_AGE = 7 * 24 * 3600


class MailDisabled(Exception):
    """SMTP_HOST is not configured."""


def mail_language(locale):
    return locale if locale in MAIL_LANGUAGES else "en"


# -- signed links ---------------------------------------------------------------------

def _serializer():
    # Unsubscribe links never expire: a one-click link in a year-old mail must still work.
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="notify-unsubscribe")


def _timed():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="notify-confirm")


def unsubscribe_token(kind, object_id):
    """kind: "staff" (a user id) or "reader" (a reader subscription id)."""
    return _serializer().dumps([kind, int(object_id)])


def read_unsubscribe_token(token):
    """(kind, id) or None for a forged or mangled token."""
    try:
        kind, object_id = _serializer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    return (kind, object_id) if kind in ("staff", "reader") and isinstance(object_id, int) else None


def confirm_token(subscription_id):
    return _timed().dumps(int(subscription_id))


def read_confirm_token(token):
    try:
        value = _timed().loads(token, max_age=CONFIRM_MAX_AGE)
    except (SignatureExpired, BadSignature):
        return None
    return value if isinstance(value, int) else None


def external_url(endpoint, **values):
    """An absolute URL, also from the worker (no request): built on PUBLIC_URL."""
    base = current_app.config.get("PUBLIC_URL")
    if has_request_context() and not base:
        return url_for(endpoint, _external=True, **values)
    with current_app.test_request_context(base_url=base or "http://localhost"):
        return url_for(endpoint, _external=True, **values)


# -- rendering and sending ----------------------------------------------------------------

def render(name, locale, **context):
    """(subject, body) from templates/email/<lang>/<name>.txt; the first line is the subject."""
    lang = mail_language(locale)
    with force_locale(lang):
        # The bare Jinja template: the app's context processors expect a request, and
        # the worker has none.
        text = current_app.jinja_env.get_template(f"email/{lang}/{name}.txt").render(lang=lang, **context)
    subject, _sep, body = text.lstrip().partition("\n")
    return subject.strip(), body.strip() + "\n"


def build(to, subject, body, lang, unsubscribe_url=None):
    cfg = current_app.config
    message = EmailMessage()
    message["From"] = cfg["SMTP_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=(cfg["SMTP_FROM"].rpartition("@")[2] or None))
    # Vacation responders and ticket systems must not answer a notification.
    message["Auto-Submitted"] = "auto-generated"
    if unsubscribe_url:
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        # RFC 8058: the mail client POSTs to the link; no page, no login.
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(body)
    message["Content-Language"] = lang  # after set_content, which drops Content-* headers
    return message


@metrics.MAIL_FAILURES.count_exceptions(OSError)  # SMTP and network errors; not MailDisabled
def send(message):
    """Deliver over SMTP (STARTTLS and login when configured). Raises on failure: RQ retries."""
    cfg = current_app.config
    if not cfg.get("SMTP_HOST"):
        raise MailDisabled("SMTP_HOST is not set")
    with smtplib.SMTP(cfg["SMTP_HOST"], int(cfg["SMTP_PORT"]), timeout=float(cfg["SMTP_TIMEOUT"])) as smtp:
        if cfg.get("SMTP_STARTTLS"):
            smtp.starttls(context=ssl.create_default_context())
        if cfg.get("SMTP_USER"):
            smtp.login(cfg["SMTP_USER"], cfg.get("SMTP_PASSWORD") or "")
        smtp.send_message(message)


def deliver(to, name, locale, unsubscribe_url=None, **context):
    """Render and send one mail. Returns False (logged) when e-mail is not configured."""
    lang = mail_language(locale)
    subject, body = render(name, lang, unsubscribe_url=unsubscribe_url, **context)
    try:
        send(build(to, subject, body, lang, unsubscribe_url))
    except MailDisabled:
        current_app.logger.info("mail: SMTP_HOST unset, %r to %s not sent", name, to)
        return False
    return True
