"""What the XML importer tests (Disqus, WordPress) read back: imported rows, pages, a site's origins."""
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import Comment, ImportedComment, Page, Site


def rows(app, source=None):
    """{external id: the comment's fields} of every imported comment (of one source if given)."""
    with app.app_context():
        query = (
            sa.select(Comment, Page, ImportedComment.external_id)
            .join(Page, Page.id == Comment.page_id)
            .join(ImportedComment, ImportedComment.comment_id == Comment.id)
            .order_by(ImportedComment.external_id)
        )
        if source:
            query = query.where(ImportedComment.source == source)
        return {
            ext: {
                "id": c.id, "url": page.url, "title": page.title, "author": c.author, "email": c.email,
                "body": c.body_raw, "html": c.body_html, "status": c.status, "reason": c.decision_reason,
                "parent": c.parent_id, "thread": c.thread_id, "created": c.created_at.replace(tzinfo=None),
                "client_id": c.client_id,
            }
            for c, page, ext in db.session.execute(query).all()
        }


def allow_origins(app, *origins, key="test-site"):
    with app.app_context():
        site = db.session.execute(sa.select(Site).where(Site.key == key)).scalar_one()
        site.allowed_origins = list(site.allowed_origins or ()) + list(origins)
        db.session.commit()


def page_urls(app):
    with app.app_context():
        return sorted(db.session.execute(sa.select(Page.url)).scalars())
