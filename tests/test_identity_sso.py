"""SSO tokens (docs/identity.md): Coral's shape, HS256 only, 30 days at most, ±60 s of skew,
the current secret or the previous one while its rotation grace lasts."""
import time
from datetime import timedelta

import jwt
import pytest

from moderation.extensions import db
from moderation.identity import sso
from moderation.identity.sso import InvalidSSO, SsoKeys, verify_site_token, verify_token
from moderation.models.base import utcnow

from support.sso import sso_claims as claims, sso_token

SECRET = "s" * 64  # long enough for HS512 too (the wrong-algorithm tests)
OTHER = "o" * 64
SITE_ID = 7


def token(secret=SECRET, algorithm="HS256", **changes):
    return sso_token(secret, algorithm, **changes)


def refused(token_, keys=SsoKeys(SECRET), now=None):
    with pytest.raises(InvalidSSO) as caught:
        verify_token(token_, keys, SITE_ID, now)
    assert caught.value.error == "invalid_sso" and caught.value.status == 401
    return caught.value.message


def test_a_valid_token_names_the_reader():
    who = verify_token(token(), SsoKeys(SECRET), SITE_ID)
    assert who.reader_key == "sso:7:u-42"
    assert (who.user_id, who.username, who.email) == ("u-42", "Анна К.", "Anna@Reader.example")
    assert sso.SsoIdentity.from_payload(who.as_payload()) == who


def test_email_is_optional_and_numeric_ids_are_text():
    who = verify_token(token(user={"id": 42, "username": "anna"}), SsoKeys(SECRET), SITE_ID)
    assert (who.reader_key, who.email) == ("sso:7:42", None)


def test_expired_tokens_are_refused_beyond_the_leeway():
    now = int(time.time())
    assert "expired" in refused(token(iat=now - 7200, exp=now - 61 - 5))
    assert verify_token(token(iat=now - 7200, exp=now - 30), SsoKeys(SECRET), SITE_ID)  # skew tolerated


def test_tokens_issued_in_the_future_are_refused_beyond_the_leeway():
    now = int(time.time())
    assert "not valid yet" in refused(token(iat=now + 120, exp=now + 3600))
    assert verify_token(token(iat=now + 30, exp=now + 3600), SsoKeys(SECRET), SITE_ID)


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_only_hs256_is_accepted(algorithm):
    assert "HS256" in refused(token(algorithm=algorithm))


def test_alg_none_is_refused():
    unsigned = jwt.encode(claims(), None, algorithm="none")
    assert "HS256" in refused(unsigned)
    # A "none" header grafted onto a genuine HS256 signature is refused just the same.
    header, payload, signature = token().split(".")
    none_header = unsigned.split(".")[0]
    assert "HS256" in refused(f"{none_header}.{payload}.{signature}")


def test_a_token_signed_with_another_secret_is_refused():
    assert "signature" in refused(token(secret=OTHER))


def test_a_tampered_token_is_refused():
    header, payload, signature = token().split(".")
    forged = jwt.utils.base64url_encode(b'{"jti":"x","iat":1,"exp":2,"user":{"id":"admin","username":"a"}}')
    assert "signature" in refused(f"{header}.{forged.decode()}.{signature}")


def test_lifetimes_over_30_days_are_refused():
    now = int(time.time())
    assert "30 days" in refused(token(iat=now, exp=now + 30 * 86400 + 1))
    assert verify_token(token(iat=now, exp=now + 30 * 86400), SsoKeys(SECRET), SITE_ID)


@pytest.mark.parametrize("claim", ["jti", "iat", "exp"])
def test_required_claims(claim):
    body = claims()
    del body[claim]
    assert claim in refused(jwt.encode(body, SECRET, algorithm="HS256"))


@pytest.mark.parametrize("user, word", [
    (None, "user"), ("u-42", "user"), ({"username": "anna"}, "user.id"), ({"id": "u-42"}, "user.username"),
    ({"id": "", "username": "anna"}, "user.id"), ({"id": "u-42", "username": "  "}, "user.username"),
    ({"id": True, "username": "anna"}, "user.id"), ({"id": "u\n42", "username": "anna"}, "user.id"),
    ({"id": "u-42", "username": "a" * 81}, "user.username"), ({"id": "x" * 200, "username": "anna"}, "user.id"),
    ({"id": "u-42", "username": "anna", "email": "no-at-sign"}, "user.email"),
])
def test_user_claims_are_checked(user, word):
    body = claims(user=user)
    if user is None:
        del body["user"]
    assert word in refused(jwt.encode(body, SECRET, algorithm="HS256"))


def test_times_must_be_numbers():
    now = int(time.time())
    assert "iat" in refused(token(iat=str(now)))
    assert "exp" in refused(token(exp=str(now + 60)))


def test_jti_must_be_text():
    assert "jti" in refused(token(jti=""))


@pytest.mark.parametrize("garbage", ["", "not-a-jwt", "a.b.c", None, 42, "x" * 5000])
def test_garbage_is_refused_as_malformed(garbage):
    assert "malformed" in refused(garbage)


def test_no_secret_means_sso_is_not_set_up():
    assert "not set up" in refused(token(), keys=None)


def test_the_previous_secret_verifies_only_within_its_grace():
    now = utcnow()
    keys = SsoKeys(SECRET, previous=OTHER, previous_valid_until=now + timedelta(hours=1))
    old = token(secret=OTHER)
    assert verify_token(old, keys, SITE_ID, now).username == "Анна К."
    assert verify_token(token(), keys, SITE_ID, now)  # the new one, of course
    assert "signature" in refused(old, keys, now + timedelta(hours=1, seconds=1))


def test_secrets_are_never_in_reprs():
    keys = SsoKeys(SECRET, previous=OTHER)
    assert SECRET not in repr(keys) and OTHER not in repr(keys)


def test_rotation_keeps_the_previous_secret_for_the_grace_period(app, site):
    with app.app_context():
        assert sso.sso_keys(site.id) is None
        first = sso.ensure_secret(site.id)
        assert sso.ensure_secret(site.id) == first and len(first) >= 43
        db.session.commit()
        before = token(secret=first)
        assert verify_site_token(site.id, before).reader_key == f"sso:{site.id}:u-42"

        rotated_at = utcnow()
        second = sso.rotate_secret(site.id, now=rotated_at)
        db.session.commit()
        assert second != first
        assert verify_site_token(site.id, before).username == "Анна К."  # in grace
        assert verify_site_token(site.id, token(secret=second))
        after_grace = rotated_at + sso.ROTATION_GRACE + timedelta(seconds=1)
        with pytest.raises(InvalidSSO, match="signature"):
            verify_site_token(site.id, before, now=after_grace)
        assert verify_site_token(site.id, token(secret=second), now=after_grace)

        # Rotating again at once drops the first secret (a leaked one) immediately.
        sso.rotate_secret(site.id)
        db.session.commit()
        with pytest.raises(InvalidSSO, match="signature"):
            verify_site_token(site.id, before)
        assert verify_site_token(site.id, token(secret=second))


# -- the reader API's one call ------------------------------------------------------------

def test_identify_verifies_sso_or_issues_and_recognises_anonymous_ids(app, site):
    from moderation.identity.edge import Identity, SsoRequired, identify
    from moderation.services.readers import resolve_reader

    with app.app_context():
        secret = sso.ensure_secret(site.id)
        db.session.commit()
        signed_in = identify(site.id, token(secret=secret))
        assert (signed_in.sso.reader_key, signed_in.anon_key, signed_in.issued_token) == (
            f"sso:{site.id}:u-42", None, None)
        with pytest.raises(InvalidSSO):
            identify(site.id, "")  # sent but empty: refused, not ignored
        with pytest.raises(InvalidSSO):
            identify(site.id, token(secret=OTHER), sso_required=True)
        with pytest.raises(SsoRequired) as caught:
            identify(site.id, None, sso_required=True)
        assert (caught.value.error, caught.value.status) == ("sso_required", 401)

        first = identify(site.id)
        assert first.anon_key.startswith("anon:") and first.issued_token
        again = identify(site.id, anon_token=first.issued_token)
        assert (again.anon_key, again.issued_token) == (first.anon_key, None)
        forged = identify(site.id, anon_token=first.issued_token[:-3] + "xyz")
        assert forged.anon_key != first.anon_key and forged.issued_token

        # Through the queue (JSON) to the worker's resolve_reader.
        for identity, kind in ((signed_in, "sso"), (first, "anonymous")):
            reader = resolve_reader(site.id, **Identity.resolve_args(identity.as_payload()))
            assert reader.kind == kind
        assert reader.key == first.anon_key
