"""Migration c1h13input01: stored comment bodies are rendered again from what readers typed."""
import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from moderation.extensions import db
from moderation.models import Comment, ImportedComment, Page
from moderation.models.base import utcnow
from moderation.models.sites import url_hash
from moderation.sanitizer import render_comment

from support.payloads import ARTICLE


REVISION = "c1h13input01"
LOST = "3 <b and 5 > 4 apples"


def _comment(page, client_id, raw, html, status="approved"):
    """Inserted with the columns of that schema only (the ORM would name columns added since)."""
    table = sa.Table("comment", sa.MetaData(), autoload_with=db.session.connection())  # that schema's columns
    return db.session.execute(sa.insert(table).values(
        client_id=client_id, site_id=page.site_id, page_id=page.id, author="Анна",
        body_raw=raw, body_html=html, status=status, spam_reasons=[], created_at=utcnow(),
    ).returning(table.c.id)).scalar_one()


@pytest.mark.skipif("TEST_DATABASE_URL" in __import__("os").environ,
                    reason="steps the SQLite schema down and up")
def test_rerender_from_raw_text_skipping_erased_and_disqus(app, site):
    with app.app_context():
        downgrade(revision=REVISION + "-1")  # the schema just before this migration
        page = Page(site_id=site.id, url=ARTICLE, url_hash=url_hash(ARTICLE), comments_version=4)
        db.session.add(page)
        db.session.flush()
        ids = (
            _comment(page, "c-lost-0001", LOST, "<p>3 <b> 4 apples</b></p>"),
            _comment(page, "c-erased-01", "", "<p>Комментарий удалён по просьбе автора.</p>"),
            _comment(page, "c-disqus-01", "<p><b>strongly</b></p>", "<p><b>strongly</b></p>"),
        )
        db.session.add(ImportedComment(site_id=site.id, source="disqus", external_id="1", comment_id=ids[2]))
        db.session.commit()
        db.session.remove()  # no read transaction (an old snapshot) left open across the upgrade

        upgrade(revision=REVISION)
        html = Comment.__table__.c.body_html  # that schema's columns again, not the ORM's
        lost, erased, disqus = (db.session.execute(sa.select(html).where(Comment.__table__.c.id == i)).scalar_one()
                                for i in ids)
        assert lost == render_comment(LOST) == "<p>3 &lt;b and 5 &gt; 4 apples</p>"
        assert erased == "<p>Комментарий удалён по просьбе автора.</p>"
        assert disqus == "<p><b>strongly</b></p>"
        # readers' cached lists of that article are rebuilt
        assert db.session.execute(sa.select(Page.comments_version)).scalar_one() == 5
