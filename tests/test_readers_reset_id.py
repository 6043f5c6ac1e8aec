"""A reset id must not escape a ban, nor velocity (docs/identity.md): an anonymous reader who
clears localStorage gets a new id, but their ban holds on their e-mail hash and, for the site's
`anonymous_address_hours`, their address hash; and a fresh id is counted by the anonymous
comments from its address for velocity. Neighbours with an older id, signed-in readers, and
sites that set the window to 0 are not held. Through the real reader API and RQ worker."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.identity import sso
from moderation.models import Comment, Reader
from moderation.models.base import utcnow

from support.accounts import set_site_settings
from support.payloads import comment_payload
from support.sso import sso_token

NAT = "10.50.0.1"
HELD = "comments within 60 s from one reader"
HELD_BY_ADDRESS = "comments within 60 s from one address (a new anonymous reader)"
HELD_ANY = "comments within 60 s from one "


class Browser:
    """A reader's browser: keeps the anonymous id it was issued (the widget's localStorage);
    a new Browser is a reader who cleared it."""

    def __init__(self, client, address):
        self.client, self.address, self.token, self.sso = client, address, None, None

    def comment(self, site, **fields):
        payload = comment_payload(site=site, **fields)
        if self.sso:
            payload["sso"] = self.sso
        elif self.token:
            payload["reader"] = self.token
        response = self.client.post("/api/v1/comments", json=payload, environ_base={"REMOTE_ADDR": self.address})
        assert response.status_code == 202, response.json
        self.token = self.token or response.json.get("reader")
        return payload["client_id"]


def stored(app, model, client_id):
    """(status, screening reasons) of the stored row."""
    with app.app_context():
        row = db.session.execute(sa.select(model).where(model.client_id == client_id)).scalar_one()
        return row.status, list(row.spam_reasons or [])


def reader_of(app, client_id):
    with app.app_context():
        return db.session.execute(sa.select(Comment.reader_id).where(Comment.client_id == client_id)).scalar_one()


def age_reader(app, reader_id, **delta):
    with app.app_context():
        row = db.session.get(Reader, reader_id)
        row.first_seen = row.last_seen = utcnow() - timedelta(**delta)
        db.session.commit()


def ban(client, staff, app, reader_id, **body):
    with app.app_context():
        key = db.session.get(Reader, reader_id).key
    response = client.post(f"/api/v1/moderation/readers/{key}/ban", json=body, headers=staff.headers("moderator"))
    assert response.status_code == 200, response.json


@pytest.fixture
def relaxed(app):
    app.config["RATELIMIT_COMMENTS"] = "1000/minute"


@pytest.fixture
def secret(app, post_site):
    with app.app_context():
        value = sso.ensure_secret(post_site.id)
        db.session.commit()
    return value


def test_a_cleared_id_is_still_banned_by_email_and_briefly_by_address(app, client, post_site, staff, secret,
                                                                      drain, relaxed):
    troll = Browser(client, address=NAT)
    first = troll.comment(site="post-site", body="первый", email="troll@mail.example")
    drain()
    troll_id = reader_of(app, first)
    # Banned a day after they were last seen: the address window runs from the ban.
    age_reader(app, troll_id, days=1)
    ban(client, staff, app, troll_id, days=30, reason="оскорбления")

    # localStorage cleared: a new id, the same address, no e-mail → banned via the address.
    reset = Browser(client, address=NAT)
    by_address = reset.comment(site="post-site", body="я новый")
    # Another network, a new id, the same e-mail → banned via the e-mail.
    elsewhere = Browser(client, address="10.50.9.9")
    by_email = elsewhere.comment(site="post-site", body="и тут я", email="Troll@Mail.example")
    # A signed-in neighbour behind the same NAT, and an anonymous one elsewhere: not affected.
    neighbour = Browser(client, address=NAT)
    neighbour.sso = sso_token(secret, user={"id": "u-7", "username": "Соседка"})
    signed_in = neighbour.comment(site="post-site", body="Хороший текст про трамвай")
    drain()
    assert reader_of(app, by_address) != troll_id
    for client_id in (by_address, by_email):
        status, reasons = stored(app, Comment, client_id)
        assert status == "rejected" and reasons[0].startswith("banned until ") and "оскорбления" in reasons[0]
    assert stored(app, Comment, signed_in)[0] == "approved"

    # After the window (6 h by default) the address no longer stands in for the troll ...
    with app.app_context():
        row = db.session.get(Reader, troll_id)
        row.banned_at = row.last_seen = utcnow() - timedelta(hours=6, minutes=1)
        db.session.commit()
    later = Browser(client, address=NAT).comment(site="post-site", body="прошло время")
    # ... while the e-mail still does, for as long as the ban.
    again = Browser(client, address="10.50.9.8").comment(site="post-site", body="снова", email="troll@mail.example")
    drain()
    assert stored(app, Comment, later)[0] == "approved"
    assert stored(app, Comment, again)[0] == "rejected"

    # The window is the site's setting: 24 h reaches it again, 0 turns the address off.
    set_site_settings(app, post_site.id, anonymous_address_hours=24)
    longer = Browser(client, address=NAT).comment(site="post-site", body="сутки")
    drain()
    assert stored(app, Comment, longer)[0] == "rejected"
    set_site_settings(app, post_site.id, anonymous_address_hours=0)
    off = Browser(client, address=NAT).comment(site="post-site", body="выключено")
    drain()
    assert stored(app, Comment, off)[0] == "approved"


def test_a_cleared_id_does_not_reset_velocity(app, client, post_site, secret, drain, relaxed):
    troll = Browser(client, address=NAT)
    for n in range(3):
        troll.comment(site="post-site", body=f"быстро {n}")
    drain()
    # The same id: held (as before). A fresh id from the same address: held too.
    same_id = troll.comment(site="post-site", body="быстро ещё")
    fresh = Browser(client, address=NAT).comment(site="post-site", body="новый id, тот же адрес")
    drain()
    assert HELD in " ".join(stored(app, Comment, same_id)[1])
    status, reasons = stored(app, Comment, fresh)
    assert status == "pending" and any(HELD_BY_ADDRESS in r for r in reasons), reasons

    # A long-standing anonymous neighbour (id older than the window) and a signed-in reader on
    # that address are counted by their own comments only.
    regular = Browser(client, address=NAT)
    regular_id = reader_of(app, (regular.comment(site="post-site", body="давно читаю"), drain())[0])
    age_reader(app, regular_id, hours=7)
    signed = Browser(client, address=NAT)
    signed.sso = sso_token(secret, user={"id": "u-8", "username": "Подписчик"})
    mine, theirs = regular.comment(site="post-site", body="моё мнение"), signed.comment(site="post-site",
                                                                                          body="и моё тоже")
    drain()
    assert stored(app, Comment, mine)[0] == "approved"
    assert stored(app, Comment, theirs)[0] == "approved"

    # With the site's window at 0 a fresh id is counted by its own comments only.
    set_site_settings(app, post_site.id, anonymous_address_hours=0)
    off = Browser(client, address=NAT).comment(site="post-site", body="окно выключено")
    drain()
    assert not any(HELD_ANY in r for r in stored(app, Comment, off)[1])
