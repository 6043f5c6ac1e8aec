"""Salted hashes and salt rotation: what must keep working across a rotation, and what must not."""
import pytest
import redis
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import BlockedCommenter, Comment, CommentFlag, Site
from moderation.privacy import (
    SALTS_KEY,
    address_hashes,
    address_salts,
    hash_address,
    hash_email,
    reporter_hash,
    reporter_hashes,
    rotate_address_salt,
    rotation_seconds,
)

from support.net import free_port
from support.payloads import comment_payload, new_client_id
from support.readers import post_as_browser


def send(client, drain, address, site="post-site", **fields):
    """One browser per address: it keeps the anonymous reader id it was issued (docs/identity.md)."""
    payload = comment_payload(site=site, **fields)
    response = post_as_browser(client, "/api/v1/comments", payload, address, site)
    assert response.status_code == 202, response.json
    drain()
    with client.application.app_context():
        row = db.session.execute(sa.select(Comment).where(Comment.client_id == payload["client_id"])).scalar_one()
        return row.id, row.status, list(row.spam_reasons or [])


def rotate(app):
    with app.app_context():
        rotate_address_salt()


def test_address_hashes_rotate_and_an_old_salt_is_destroyed(app):
    with app.app_context():
        first = hash_address("203.0.113.7")
        email = hash_email("Reader@Mail.example ")
        assert len(first) == 64 and "203.0.113.7" not in first
        assert first != hash_email("203.0.113.7")  # addresses no longer use the stable salt

        rotate_address_salt()
        second, previous = address_hashes("203.0.113.7")
        assert second != first and previous == first  # overlap: the old hash is still recognised

        rotate_address_salt()
        third, previous = address_hashes("203.0.113.7")
        assert previous == second and first not in (third, previous)
        # Only two salts exist anywhere: the first one is gone for good.
        stored = app.broker.redis.hgetall(SALTS_KEY)
        assert set(stored) == {b"current", b"previous", b"since"}
        # E-mail hashes never rotate: blocks by e-mail and their lookups stay valid.
        assert hash_email("reader@mail.example") == email


def test_the_salt_rotates_by_itself_after_the_period(make_app, app):
    with app.app_context():
        current, _, since = address_salts()
        period = rotation_seconds()
        assert address_salts(now=since + period - 60)[0] == current
    # Another process (same Redis) a period later rotates; this one follows.
    later = make_app()
    with later.app_context():
        new_current, new_previous, new_since = address_salts(now=since + period + 1)
    assert (new_previous, new_since) == (current, since + period + 1) and new_current != current
    with app.app_context():
        assert address_salts(now=since + period + 2)[:2] == (new_current, new_previous)


def test_hashes_stored_before_rotation_existed_match_for_one_period(app):
    with app.app_context():
        legacy = hash_email("198.51.100.9")  # how addresses were hashed before (one stable salt)
        assert address_hashes("198.51.100.9")[1] == legacy
        rotate_address_salt()
        assert legacy not in address_hashes("198.51.100.9")


def test_a_block_by_address_survives_rotation_while_the_reader_comes_back(app, client, auth, post_site, drain):
    comment_id, status, _ = send(client, drain, "10.9.0.1", body="первый")
    auth.login(role="moderator")
    response = client.post(f"/dashboard/comments/{comment_id}/block", data={"csrf_token": auth.csrf("/dashboard/")})
    assert response.status_code == 302

    for round_ in range(3):  # the reader returns within each overlap: the block follows the salt
        rotate(app)
        _, status, reasons = send(client, drain, "10.9.0.1", body=f"снова {round_}")
        # (the 4th comment within 60 s is also held for velocity: that count followed the salt too)
        assert (status, reasons[0]) == ("rejected", "blocked commenter (address)")
        with app.app_context():
            [block] = db.session.execute(sa.select(BlockedCommenter.value_hash)).scalars().all()
            assert block == hash_address("10.9.0.1")
    # Another reader is not caught by the re-keyed block.
    assert send(client, drain, "10.9.0.2", body="я другой")[1] == "approved"


def test_an_address_block_lapses_when_the_reader_stays_away_two_periods(app, client, post_site, drain):
    with app.app_context():
        db.session.add(BlockedCommenter(site_id=None, kind="address", value_hash=hash_address("10.9.1.1")))
        db.session.commit()
    rotate(app)
    rotate(app)  # the salt of the block's hash is destroyed: nothing can match it any more
    assert send(client, drain, "10.9.1.1", body="вернулся")[1] == "approved"


def test_a_block_by_email_survives_any_number_of_rotations(app, client, post_site, drain):
    with app.app_context():
        db.session.add(BlockedCommenter(site_id=post_site.id, kind="email", value_hash=hash_email("troll@mail.example")))
        db.session.commit()
    for _ in range(3):
        rotate(app)
    _, status, reasons = send(client, drain, "10.9.2.1", email=" Troll@Mail.example", body="новый адрес")
    assert (status, reasons) == ("rejected", ["blocked commenter (email)"])


def test_trusted_commenter_history_follows_the_reader_across_rotation(app, client, site, staff, drain):
    with app.app_context():
        db.session.get(Site, site.id).settings = {"trusted_after": 1}
        db.session.commit()
    first_id, status, _ = send(client, drain, "10.9.3.1", site="test-site", body="раз")
    assert status == "pending"
    assert client.post(f"/api/v1/moderation/comments/{first_id}/approve", headers=staff.headers()).status_code == 200

    rotate(app)
    _, status, reasons = send(client, drain, "10.9.3.1", site="test-site", body="два")
    assert (status, reasons) == ("approved", ["trusted commenter (1 approved)"])
    with app.app_context():  # the earlier comment was re-keyed to the current salt
        assert db.session.get(Comment, first_id).reporter_hash == hash_address("10.9.3.1")
    # A newcomer from another address is still pre-moderated.
    assert send(client, drain, "10.9.3.2", site="test-site", body="три")[1] == "pending"


def test_a_reader_flags_a_comment_once_across_rotation(app, client, post_site, drain):
    comment_id, status, _ = send(client, drain, "10.9.4.1", body="мнение")
    assert status == "approved"
    token = []

    def flag():
        response = client.post(f"/api/v1/comments/{comment_id}/flags",
                               json={"site": "post-site", "reason": "abuse", "client_id": new_client_id(),
                                     "reader": token[0] if token else None},
                               environ_base={"REMOTE_ADDR": "10.9.4.2"})
        assert response.status_code == 202
        token.extend([response.json["reader"]] if not token else [])
        drain()

    flag()
    rotate(app)
    flag()
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(CommentFlag)).scalar_one() == 1
    rotate(app)
    rotate(app)  # past the overlap the address is a stranger's, the reader (their kept id) is not
    flag()
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(CommentFlag)).scalar_one() == 1


def test_rotate_salt_command(app, runner):
    with app.app_context():
        before = hash_address("192.0.2.1")
    result = runner.invoke(args=["privacy", "rotate-salt"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert address_hashes("192.0.2.1")[1] == before


def test_without_redis_the_api_hash_fails_fast_and_throttle_keys_still_work(make_app, app):
    dead = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    with dead.test_request_context(environ_base={"REMOTE_ADDR": "10.9.9.9"}):
        with pytest.raises(redis.RedisError):
            reporter_hashes()  # the reader API answers 503
        key = reporter_hash()  # the sign-in throttle keeps a key
        assert len(key) == 64 and key == hash_email("10.9.9.9")
        assert "privacy" not in dead.extensions or dead.extensions["privacy"]["salts"] is None
