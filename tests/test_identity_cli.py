"""`moderation sso-secret KEY [--rotate]`: the site's secret as the last line, created once."""
import jwt
import sqlalchemy as sa

from moderation.extensions import db
from moderation.identity.sso import sso_keys, verify_site_token
from moderation.models import AuditEntry

from support.sso import sso_claims as claims


def secret_of(result):
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


def test_the_secret_is_created_once_then_shown_again(app, runner, site):
    first = runner.invoke(args=["sso-secret", site.key])
    secret = secret_of(first)
    assert "new SSO secret" in first.output and len(secret) >= 43
    again = runner.invoke(args=["sso-secret", site.key])
    assert secret_of(again) == secret and "new" not in again.output
    with app.app_context():
        token = jwt.encode(claims(), secret, algorithm="HS256")
        assert verify_site_token(site.id, token).username == "Анна К."
        rows = db.session.execute(sa.select(AuditEntry)).scalars().all()
        # Creation is audited once; showing it is not; the secret is never in the audit log.
        assert [(r.action, r.actor_label, r.target_id, r.after) for r in rows] == [
            ("site.sso_secret", "cli", site.id, {"rotated": False})]


def test_rotate_prints_a_new_secret_and_keeps_the_old_one_in_grace(app, runner, site):
    old = secret_of(runner.invoke(args=["sso-secret", site.key]))
    result = runner.invoke(args=["sso-secret", site.key, "--rotate"])
    new = secret_of(result)
    assert new != old and "previous one is accepted until" in result.output
    assert secret_of(runner.invoke(args=["sso-secret", site.key])) == new
    with app.app_context():
        keys = sso_keys(site.id)
        assert (keys.current, keys.previous) == (new, old)
        assert verify_site_token(site.id, jwt.encode(claims(), old, algorithm="HS256"))
        rows = db.session.execute(sa.select(AuditEntry.after).order_by(AuditEntry.id)).scalars().all()
        assert rows == [{"rotated": False}, {"rotated": True}]
        assert all(old not in str(r) and new not in str(r) for r in rows)


def test_rotate_on_first_call_just_creates(runner, site):
    result = runner.invoke(args=["sso-secret", site.key, "--rotate"])
    assert "new SSO secret" in result.output and secret_of(result)


def test_unknown_site(runner, site):
    result = runner.invoke(args=["sso-secret", "no-such-site"])
    assert result.exit_code != 0 and "no site with key 'no-such-site'" in result.output
