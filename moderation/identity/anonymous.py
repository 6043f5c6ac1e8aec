"""Anonymous reader ids: random, issued by us, signed with SECRET_KEY (itsdangerous).

The widget keeps the token in localStorage and sends it with each submission; the reader
key (`anon:<random>`) groups that browser's history. Signed so that nobody can pick
another reader's key and inherit their history (or their trust). Bound to the site: a
token issued for one site is no id on another.

A token that does not verify (forged, garbled, from another site, or signed with a
SECRET_KEY since replaced) is *no id*, not an error: the reader is then treated as one
without history and is issued a fresh id. Refusing would only punish readers whose
storage got mangled, and it would grant nothing: a fresh id carries no history, and bans
follow the e-mail and, briefly, the address too (services.readers.is_banned).
"""
import functools
import secrets

from flask import current_app
from itsdangerous import BadSignature, Signer

from ..schemas.limits import READER_TOKEN_MAX

KEY_PREFIX = "anon"
SALT = "moderation.anonymous-reader"
MAX_TOKEN_LENGTH = READER_TOKEN_MAX


def _signer():
    return _signer_for(current_app.config["SECRET_KEY"])


@functools.lru_cache(maxsize=8)
def _signer_for(secret_key):
    """One Signer per secret (it is immutable): building one derives its key, an HMAC, which
    every reader POST without a stored id paid again."""
    return Signer(secret_key, salt=SALT)


def issue(site_id):
    """(reader key, token) of a new anonymous reader of this site. The token goes back to
    the widget; the key is what the database stores."""
    random = secrets.token_urlsafe(16)  # 128 bits; the URL-safe alphabet has no ':' or '.'
    token = _signer().sign(f"{site_id}:{random}").decode("ascii")
    return f"{KEY_PREFIX}:{random}", token


def verify(site_id, token):
    """The reader key a token carries, or None when it is not a valid id for this site."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        value = _signer().unsign(token).decode("ascii")
    except (BadSignature, UnicodeError):
        return None
    token_site, _, random = value.partition(":")
    if token_site != str(site_id) or not random:
        return None
    return f"{KEY_PREFIX}:{random}"
