"""Single sign-on: a newsroom's CMS vouches for its signed-in reader with a JWT.

The token is Coral's SSO token (so a newsroom leaving Coral keeps its token code): HS256,
signed with the site's secret, claims `jti`, `iat`, `exp` and `user: {id, username,
email?}`. PyJWT does the JWT work; this module only decides which secrets are in force
and what the claims must look like. docs/identity.md is the contract.
"""
import secrets as _random
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import jwt
import sqlalchemy as sa

from ..extensions import db
from ..models.base import as_utc, utcnow
from ..models.readers import SiteSsoSecret
from ..sanitizer import clean_line
from ..schemas.limits import AUTHOR_MAX, EMAIL_MAX, SSO_TOKEN_MAX

ALGORITHM = "HS256"
# Coral's rule: a token may not live longer than this (exp - iat).
MAX_LIFETIME = timedelta(days=30)
# Clock skew tolerated between the CMS and us, on exp, iat and nbf.
LEEWAY_SECONDS = 60
# After `sso-secret --rotate` the previous secret still verifies this long: the CMS has a
# day to deploy the new one, and tokens it issued shortly before keep working. Rotating
# twice in a row drops the first secret at once (a leaked secret).
ROTATION_GRACE = timedelta(hours=48)
# A token is a few hundred bytes; anything this long is not one of ours (and is not parsed).
MAX_TOKEN_LENGTH = SSO_TOKEN_MAX
USERNAME_MAX = AUTHOR_MAX  # shown as the comment's author
# Leaves room for "sso:<site id>:" in the reader key (models.readers.KEY_LENGTH).
USER_ID_MAX = 150
REQUIRED_CLAIMS = ("jti", "iat", "exp")
KEY_PREFIX = "sso"


class InvalidSSO(Exception):
    """A token we refuse. The reader API answers 401 {"error": error, "message": message}."""

    error = "invalid_sso"
    status = 401

    def __init__(self, message):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class SsoIdentity:
    """A verified SSO reader. JSON-able (`as_payload`): the worker gets it through the queue,
    since the token itself may have expired by the time a queued submission is stored."""

    reader_key: str
    user_id: str
    username: str
    email: str | None = None

    def as_payload(self):
        return asdict(self)

    @classmethod
    def from_payload(cls, data):
        return cls(**{name: data.get(name) for name in ("reader_key", "user_id", "username", "email")})


def reader_key(site_id, user_id):
    """`sso:<site id>:<user id>`: user ids are the newsroom's, so the site is part of the key."""
    return f"{KEY_PREFIX}:{site_id}:{user_id}"


# -- secrets ---------------------------------------------------------------------------

@dataclass(frozen=True)
class SsoKeys:
    """A site's secrets as of one read: cacheable (e.g. with the site registry), as the
    previous secret's end of grace is checked at verification time."""

    current: str
    previous: str | None = None
    previous_valid_until: datetime | None = None

    def in_force(self, now=None):
        now = now or utcnow()
        keys = [self.current]
        if self.previous and self.previous_valid_until and as_utc(self.previous_valid_until) > now:
            keys.append(self.previous)
        return keys

    def __repr__(self):  # never the secrets
        return f"<SsoKeys previous={'yes' if self.previous else 'no'}>"


def new_secret():
    return _random.token_urlsafe(32)  # 256 bits, as HS256's key should be


def _row(site_id):
    return db.session.execute(
        sa.select(SiteSsoSecret).where(SiteSsoSecret.site_id == site_id)
    ).scalar_one_or_none()


def sso_keys(site_id):
    """The site's SsoKeys, or None while it has no secret (SSO not set up)."""
    row = _row(site_id)
    if row is None:
        return None
    return SsoKeys(row.secret, row.previous_secret, row.previous_valid_until)


def ensure_secret(site_id):
    """The site's current secret, created on first use. The caller commits."""
    row = _row(site_id)
    if row is None:
        row = SiteSsoSecret(site_id=site_id, secret=new_secret())
        db.session.add(row)
        db.session.flush()
    return row.secret


def rotate_secret(site_id, now=None):
    """A new current secret; the old one verifies for ROTATION_GRACE more. The caller commits."""
    now = now or utcnow()
    row = _row(site_id)
    if row is None:
        return ensure_secret(site_id)
    row.previous_secret = row.secret
    row.previous_valid_until = now + ROTATION_GRACE
    row.secret = new_secret()
    row.rotated_at = now
    db.session.flush()
    return row.secret


# -- verification ----------------------------------------------------------------------

def _claims(token, keys, now):
    last = None
    for key in keys.in_force(now):
        try:
            return jwt.decode(
                token, key, algorithms=[ALGORITHM], leeway=LEEWAY_SECONDS,
                # No audience is part of the contract: a CMS that sets one is not refused for it.
                options={"require": list(REQUIRED_CLAIMS), "verify_aud": False},
            )
        except jwt.InvalidSignatureError as exc:
            last = exc  # maybe signed with the other secret in force
        except jwt.ExpiredSignatureError as exc:
            raise InvalidSSO("the token has expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise InvalidSSO("the token is not valid yet (iat or nbf in the future)") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidSSO(f"the token has no {exc.claim!r} claim") from exc
        except jwt.InvalidTokenError as exc:
            raise InvalidSSO(f"the token is malformed: {exc}") from exc
    raise InvalidSSO("the token's signature does not match the site's secret") from last


def _text(value, name, limit, exact=False):
    """A user claim as text: an id is kept exactly as sent (it must match next time), a
    name is cleaned like a typed author name."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidSSO(f"user.{name} must be a string")
    value = str(value) if exact else clean_line(str(value))
    if exact and not value.isprintable():
        raise InvalidSSO(f"user.{name} must be printable text")
    if not value.strip():
        raise InvalidSSO(f"user.{name} is required")
    if len(value) > limit:
        raise InvalidSSO(f"user.{name} must be at most {limit} characters")
    return value


def verify_token(token, keys, site_id, now=None):
    """The SsoIdentity a token vouches for, or InvalidSSO with a message fit for the reader.

    `keys`: the site's SsoKeys (`sso_keys(site_id)`; None = SSO is not set up). Pure: no
    database, so the reader API can verify before queueing. `now` only decides whether
    the previous secret is still in grace; exp/iat are checked by PyJWT against the clock.
    """
    if keys is None:
        raise InvalidSSO("single sign-on is not set up for this site")
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidSSO("the token is malformed")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise InvalidSSO("the token is malformed") from exc
    # PyJWT refuses these too (algorithms=[HS256]); said first, the reason is clear.
    if header.get("alg") != ALGORITHM:
        raise InvalidSSO(f"the token must be signed with {ALGORITHM}")
    claims = _claims(token, keys, now or utcnow())
    # PyJWT takes anything int() takes ("1764662400" too): the contract says numbers.
    for name in ("iat", "exp"):
        if isinstance(claims[name], bool) or not isinstance(claims[name], (int, float)):
            raise InvalidSSO(f"{name} must be a number of seconds")
    if claims["exp"] - claims["iat"] > MAX_LIFETIME.total_seconds():
        raise InvalidSSO(f"the token lives longer than {MAX_LIFETIME.days} days (exp - iat)")
    if not isinstance(claims["jti"], str) or not claims["jti"]:
        raise InvalidSSO("jti must be a non-empty string")
    user = claims.get("user")
    if not isinstance(user, dict):
        raise InvalidSSO("the token has no 'user' object")
    user_id = _text(user.get("id"), "id", USER_ID_MAX, exact=True)
    username = _text(user.get("username"), "username", USERNAME_MAX)
    email = user.get("email")
    if email in (None, ""):
        email = None
    elif not isinstance(email, str) or len(email) > EMAIL_MAX or "@" not in email:
        raise InvalidSSO("user.email must be an e-mail address")
    else:
        email = email.strip()
    return SsoIdentity(reader_key(site_id, user_id), user_id, username, email)


def verify_site_token(site_id, token, now=None):
    """verify_token with the site's secrets read from the database."""
    return verify_token(token, sso_keys(site_id), site_id, now)
