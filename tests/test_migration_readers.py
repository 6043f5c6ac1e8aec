"""Migration h16sso01: existing comments get readers derived from their e-mail, else address, hash."""
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from moderation.extensions import db
from moderation.models import Comment, Page, Reader, Site
from moderation.models.base import as_utc
from moderation.models.sites import url_hash
from moderation.privacy import hash_email

from support.payloads import ARTICLE

REVISION = "h16sso01"
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
H1, H2 = "1" * 64, "2" * 64


def test_existing_comments_get_readers_by_email_else_address(app, site):
    with app.app_context():
        other = Site(key="other-site", name="Other", allowed_origins=[])
        db.session.add(other)
        db.session.commit()
        other_id = other.id
        db.session.remove()
        downgrade(revision=REVISION + "-1")  # the schema just before readers
        pages = {}
        for site_id in (site.id, other_id):
            pages[site_id] = db.session.execute(sa.insert(Page.__table__).values(
                site_id=site_id, url=ARTICLE, url_hash=url_hash(ARTICLE), comments_version=0, created_at=T0,
            ).returning(Page.__table__.c.id)).scalar_one()

        # That schema's columns, not the ORM's (later migrations add some).
        table = sa.Table("comment", sa.MetaData(), autoload_with=db.session.connection())

        def comment(n, email, reporter_hash, author="Гость", site_id=site.id):
            db.session.execute(sa.insert(table).values(
                id=n, client_id=f"c-{n}", site_id=site_id, page_id=pages[site_id], author=author, email=email,
                body_raw="text", body_html="<p>text</p>", status="approved", spam_reasons=[],
                reporter_hash=reporter_hash, created_at=T0 + timedelta(hours=n)))

        comment(1, "Anna@X.example", H1, "Анна")
        comment(2, " anna@x.example", H2, "Анна К.")  # the same e-mail from another address
        comment(3, None, H1)                           # no e-mail: the address is all we have
        comment(4, "", H1, "Гость 2")
        comment(5, None, None)                         # erased: no reader
        comment(6, "anna@x.example", H1, "Anna", site_id=other_id)
        db.session.commit()
        db.session.remove()

        upgrade()
        by_comment = dict(db.session.execute(sa.select(Comment.id, Comment.reader_id)).all())
        assert by_comment[1] == by_comment[2] and by_comment[3] == by_comment[4]
        assert len({by_comment[1], by_comment[3], by_comment[6]}) == 3 and by_comment[5] is None
        anna, guest, elsewhere = (db.session.get(Reader, by_comment[n]) for n in (1, 3, 6))
        assert (anna.kind, anna.site_id, anna.display_name) == ("anonymous", site.id, "Анна К.")
        assert (anna.email_hash, anna.address_hash) == (hash_email("anna@x.example"), H2)
        assert as_utc(anna.first_seen) == T0 + timedelta(hours=1)
        assert as_utc(anna.last_seen) == T0 + timedelta(hours=2)
        assert (guest.display_name, guest.email_hash, guest.address_hash) == ("Гость 2", None, H1)
        assert elsewhere.site_id == other_id
        assert all(r.key.startswith("anon:") and H1 not in r.key for r in (anna, guest, elsewhere))
        assert not any(r.banned_until or r.trusted or r.premoderate for r in (anna, guest, elsewhere))
