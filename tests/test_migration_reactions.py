"""Migration h18api01: votes, featured comments, corrections; existing comments keep their data."""
import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from moderation.extensions import db
from moderation.models import Comment, Page
from moderation.models.base import utcnow
from moderation.models.sites import url_hash

from support.payloads import ARTICLE

REVISION = "h18api01"


@pytest.mark.skipif("TEST_DATABASE_URL" in __import__("os").environ,
                    reason="steps the SQLite schema down and up")
def test_upgrade_keeps_comments_and_downgrade_drops_only_the_new_parts(app, site):
    with app.app_context():
        downgrade(revision=REVISION + "-1")
        inspector = sa.inspect(db.engine)
        assert "comment_vote" not in inspector.get_table_names()
        assert "featured" not in {c["name"] for c in inspector.get_columns("comment")}
        page = Page(site_id=site.id, url=ARTICLE, url_hash=url_hash(ARTICLE))
        db.session.add(page)
        db.session.flush()
        table = sa.Table("comment", sa.MetaData(), autoload_with=db.session.connection())  # that schema's columns
        comment_id = db.session.execute(sa.insert(table).values(
            client_id="c-before-0001", site_id=site.id, page_id=page.id, author="Анна", body_raw="Текст",
            body_html="<p>Текст</p>", status="approved", spam_reasons=[], created_at=utcnow(),
        ).returning(table.c.id)).scalar_one()
        db.session.commit()
        db.session.remove()

        upgrade(revision=REVISION)
        comment = db.session.get(Comment, comment_id)
        assert (comment.body_raw, comment.status) == ("Текст", "approved")
        assert (comment.featured, comment.likes, comment.dislikes) == (False, 0, 0)
        assert {"comment_vote", "correction"} <= set(sa.inspect(db.engine).get_table_names())
        db.session.remove()

        downgrade(revision=REVISION + "-1")
        inspector = sa.inspect(db.engine)
        assert {"comment_vote", "correction"}.isdisjoint(inspector.get_table_names())
        body = db.session.execute(sa.text("SELECT body_raw FROM comment WHERE id = :id"), {"id": comment_id})
        assert body.scalar_one() == "Текст"
        db.session.remove()
        upgrade()
